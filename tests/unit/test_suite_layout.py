"""The suite's own layout: pytest imports test modules by their basename (rootdir
insertion), so two files of one name in different folders stop the whole run at
collection."""
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_every_test_module_has_a_name_of_its_own():
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []


def test_make_test_runs_every_folder_of_tests_in_some_lane():
    from lanes import LANES, SLOTS
    folders = {path.relative_to(TESTS.parent).parts[:2] for path in TESTS.rglob("test_*.py")}
    in_lanes = {tuple(p.split("/")) for lane in LANES.values() for p in lane.paths}
    assert folders - in_lanes == set(), "a folder of tests no lane runs: add it to tests/lanes.py"
    scheduled = [name for slot in SLOTS for name in slot]
    assert sorted(scheduled) == sorted(LANES) and len(set(scheduled)) == len(scheduled)


def test_every_module_under_services_is_named_in_the_readmes_layout():
    """A newcomer finds a module from the README's map: each one named there (a file of a
    sub-package by its name inside the package's parentheses, e.g. `idcheck/ (checks, reader)`)."""
    import re
    root = TESTS.parent
    text = (root / "README.md").read_text(encoding="utf-8")
    start = text.index("## Layout")
    layout = text[start:text.index("\n## ", start + 1)]
    unnamed = [str(path.relative_to(root)) for path in sorted((root / "services").rglob("*.py"))
               if path.name != "__init__.py"
               and not re.search(rf"(?<![\w.]){re.escape(path.stem)}(\.py)?(?![\w])", layout)]
    assert unnamed == [], "name these in README.md's Layout section: " + ", ".join(unnamed)


def test_every_file_the_docs_and_config_name_exists():
    """Stale references (a module moved, a comment kept) mislead the next reader."""
    import re
    root = TESTS.parent
    pattern = re.compile(r"\b(?:services|common|dev|tests|web|benchmarks|deploy)/[\w./-]+"
                         r"\.(?:py|js|md|yaml|yml|json|conf|css|html)\b")
    documents = ["README.md", "config.yaml", "benchmarks/README.md", "tests/load/README.md",
                 "deploy/README.md", "tests/README.md"]
    missing = sorted({f"{doc}: {name}" for doc in documents if (root / doc).exists()
                      for name in pattern.findall((root / doc).read_text(encoding="utf-8"))
                      if not (root / name).exists()})
    assert missing == []
