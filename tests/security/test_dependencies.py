"""Dependencies (DESIGN §8): no installed package is below the first version free of a
known advisory (tests/security/advisories.py, kept current by hand; see its notes on
why a scanner cannot run on this machine)."""
import importlib.metadata as metadata
import re
import tomllib
import warnings
from pathlib import Path

from packaging.version import Version

from common import clock
from advisories import ADVISORIES, REVIEW_EVERY_DAYS, REVIEWED

ROOT = Path(__file__).resolve().parents[2]


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def test_no_installed_package_has_a_known_advisory():
    vulnerable = []
    for package, advisories in ADVISORIES.items():
        version = installed(package)
        if version is None:
            continue
        for advisory in advisories:
            if Version(version) < Version(advisory.fixed_in):
                vulnerable.append(f"{package} {version} < {advisory.fixed_in}: "
                                  f"{', '.join(advisory.ids)} ({advisory.what})")
    assert not vulnerable, "installed packages with known advisories:\n" + "\n".join(vulnerable)


def test_every_runtime_dependency_has_been_reviewed():
    """A new dependency cannot slip in without somebody looking up its advisories."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {normalise(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}
    listed = {normalise(name) for name in ADVISORIES}
    assert names <= listed, f"not in tests/security/advisories.py: {sorted(names - listed)}"
    for package in ("pillow", "cryptography", "pyjwt", "urllib3", "requests", "werkzeug",
                    "eventlet", "kombu", "pymongo", "minio", "setuptools", "argon2-cffi"):
        assert package in ADVISORIES


def test_the_advisory_list_is_well_formed_and_recently_reviewed():
    for package, advisories in ADVISORIES.items():
        assert package == normalise(package)
        for advisory in advisories:
            Version(advisory.fixed_in)
            assert advisory.ids and all(re.match(r"^(CVE-\d{4}-\d{4,}|GHSA(-[0-9a-z]{4}){3}|PYSEC-\d{4}-\d+)$", i)
                                        for i in advisory.ids), (package, advisory.ids)
    age = (clock.beijing_today() - REVIEWED).days
    if age > REVIEW_EVERY_DAYS:
        warnings.warn(f"tests/security/advisories.py was last reviewed {age} days ago; "
                      f"look up new advisories and update REVIEWED", UserWarning)
