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
