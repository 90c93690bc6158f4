"""pyflakes over the project: no name used but never defined, no import never used (a
re-export says so with `# noqa: F401`). The merges of one session left a browser test
calling `date.fromisoformat` after its import was gone, which only a CI run would have met."""
from pathlib import Path

from pyflakes.api import checkPath
from pyflakes.reporter import Reporter

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("common", "services", "dev", "tests", "benchmarks")


class Collected(Reporter):
    def __init__(self):
        self.found = []

    def unexpectedError(self, filename, message):
        self.found.append(f"{filename}: {message}")

    def syntaxError(self, filename, message, lineno, offset, text):
        self.found.append(f"{filename}:{lineno}: {message}")

    def flake(self, message):
        line = Path(message.filename).read_text().splitlines()[message.lineno - 1]
        if "noqa: F401" in line and "imported but unused" in str(message):
            return  # a package's interface, or an import for its side effect
        self.found.append(str(message))


def test_no_undefined_name_and_no_unused_import_anywhere():
    reporter = Collected()
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "vendor" not in path.parts:
                checkPath(str(path), reporter)
    assert reporter.found == [], "\n".join(reporter.found)
