"""The candidate page's JavaScript modules (web/js/), read as text: no build step joins
them, so index.html names every one for the browser to fetch at once, and they import
one another in one direction (what changes the state asks redraw.js to draw)."""
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
IMPORT = re.compile(r"""(?:\bfrom|^\s*import)\s+'(\./[^']+)'""", re.M)


def imports(module):
    """The modules `module` (a name in web/js/) imports, by name (none if it is missing)."""
    path = WEB / "js" / module
    if not path.is_file():
        return set()
    return {Path(name).name for name in IMPORT.findall(path.read_text(encoding="utf-8"))}


def reached_from(entry):
    seen, todo = set(), [entry]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(imports(module))
    return seen


def test_index_preloads_every_module_the_page_imports_and_no_other():
    html = (WEB / "index.html").read_text(encoding="utf-8")
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/js/([^"]+)">', html))
    assert '<script type="module" src="/js/main.js"></script>' in html
    assert preloaded == reached_from("main.js") - {"main.js"}


def test_every_module_the_page_imports_is_a_file_of_web_js():
    missing = {module for module in reached_from("main.js") if not (WEB / "js" / module).is_file()}
    assert missing == set()


def test_the_page_modules_import_one_another_without_a_cycle():
    cycles, done = [], set()

    def walk(path):
        for imported in sorted(imports(path[-1])):
            if imported in path:
                cycles.append(path[path.index(imported):] + [imported])
            elif imported not in done:
                walk(path + [imported])
        done.add(path[-1])

    walk(["main.js"])
    assert cycles == []
