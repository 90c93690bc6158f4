"""Nothing reads the machine's date or time zone (issue 26).

The exam counts days in Beijing; CI machines run in UTC. From 16:00 to 24:00 UTC the two
dates differ, so a test (or service) that takes "today" from `date.today()` fails eight
hours a day, and a change lands or not by the hour its CI ran. Dates come from `common/clock`
(`beijing_today()`, `beijing_date(moment)`) or from what a server sent. This test reads
every Python file of the project and names each place that asks the machine instead; a
line that means to (a test comparing the two dates) says so with `# machine date: why`."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("common", "services", "dev", "tests", "benchmarks")

# Calls whose answer depends on the machine's zone (or is a naive "now").
ALWAYS = {
    ("date", "today"): "date.today() is the machine's date",
    ("datetime", "today"): "datetime.today() is the machine's local time",
    ("datetime", "utcnow"): "datetime.utcnow() is naive; use clock.utcnow()",
    ("datetime", "utcfromtimestamp"): "naive; use clock.iso_from_epoch or an aware datetime",
    ("time", "localtime"): "time.localtime() is the machine's zone",
    ("time", "mktime"): "time.mktime() reads the machine's zone",
    ("time", "ctime"): "time.ctime() is the machine's local time",
}
ZONE_ATTRIBUTES = {("time", "timezone"), ("time", "tzname"), ("time", "altzone"), ("time", "daylight")}


def _name(node):
    """`a.b` of a call's function, the last two parts (datetime.datetime.now -> datetime.now)."""
    if isinstance(node, ast.Attribute):
        owner = node.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
        return owner_name, node.attr
    return None, getattr(node, "id", None)


def _is_beijing(node):
    return "BEIJING" in ast.unparse(node) or "Asia/Shanghai" in ast.unparse(node)


def _is_utc_now(node):
    """A `now()` call in any zone but Beijing's."""
    return isinstance(node, ast.Call) and _name(node.func)[1] in {"now", "utcnow"} and not (
        node.args and _is_beijing(node.args[0]))


def findings(source, filename="<source>"):
    """[(line, why)] for every read of the machine's date or zone in `source`."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Attribute) and _name(node) in ZONE_ATTRIBUTES \
                and not isinstance(getattr(node, "ctx", None), ast.Store):
            found.append((node.lineno, f"{ast.unparse(node)} is the machine's zone"))
        if isinstance(node, ast.Attribute) and node.attr in {"year", "month", "day"} \
                and _is_utc_now(node.value):
            found.append((node.lineno, f"the {node.attr} of a non-Beijing now(); use clock.beijing_today()"))
        if not isinstance(node, ast.Call):
            continue
        owner, attr = _name(node.func)
        zone = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "tz"), None)
        if (owner, attr) in ALWAYS:
            found.append((node.lineno, ALWAYS[(owner, attr)]))
        elif (owner, attr) == ("datetime", "now") and (zone is None or ast.unparse(zone) == "None"):
            found.append((node.lineno, "datetime.now() without a zone is the machine's local time"))
        elif (owner, attr) == ("datetime", "fromtimestamp") and len(node.args) + len(node.keywords) < 2:
            found.append((node.lineno, "datetime.fromtimestamp() without a zone is the machine's local time"))
        elif attr == "astimezone" and not node.args and not node.keywords:
            found.append((node.lineno, "astimezone() without a zone converts to the machine's zone"))
        elif (owner, attr) in {("time", "strftime"), ("time", "asctime")} and len(node.args) < (2 if attr == "strftime" else 1):
            found.append((node.lineno, f"time.{attr}() without a time tuple formats the machine's local time"))
        elif attr == "date" and not node.args and isinstance(node.func, ast.Attribute):
            # datetime.now(timezone.utc).date(): a UTC date where the exam's date is meant
            if _is_utc_now(node.func.value):
                found.append((node.lineno, "the date of a non-Beijing now(); use clock.beijing_today()"))
    return found


WAIVER = "# machine date:"


def project_files():
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "vendor" not in path.parts and path.resolve() != Path(__file__).resolve():
                yield path


def test_nothing_in_the_project_reads_the_machines_date_or_time_zone():
    offenders = []
    for path in project_files():
        text = path.read_text()
        lines = text.splitlines()
        offenders += [f"{path.relative_to(ROOT)}:{line}: {why}" for line, why in findings(text, str(path))
                      if WAIVER not in lines[line - 1]]
    assert offenders == [], "\n".join(offenders)


def test_the_guard_names_each_way_of_asking_the_machine():
    bad = """
import time
from datetime import date, datetime, timezone
import datetime as dt
date.today()
datetime.today()
datetime.now()
dt.datetime.now(tz=None)
datetime.utcnow()
datetime.fromtimestamp(0)
time.localtime()
time.strftime("%Y")
datetime.now(timezone.utc).date()
moment.astimezone()
offset = time.timezone
datetime.now(timezone.utc).year
"""
    assert [line for line, _ in findings(bad)] == list(range(5, 17))


def test_the_guard_accepts_the_products_clock_and_explicit_zones():
    good = """
import time
from datetime import datetime, timezone
from common import clock
clock.beijing_today()
datetime.now(timezone.utc)
datetime.now(clock.BEIJING).date()
datetime.now(clock.BEIJING).year
clock.utcnow().isoformat()
datetime.fromtimestamp(0, timezone.utc)
moment.astimezone(clock.BEIJING)
time.strftime("%Y", time.gmtime())
time.monotonic()
"""
    assert findings(good) == []
