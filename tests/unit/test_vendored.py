"""The browser libraries committed under web/staff/vendor/ are exactly what the pinned
npm releases ship (dev/vendor.py copies them; this checks nobody edited them since)."""
import hashlib
import json
from pathlib import Path

from dev import vendor

VENDOR = Path(__file__).resolve().parents[2] / "web" / "staff" / "vendor"


def test_every_vendored_file_matches_its_pinned_release_and_recorded_hash():
    manifest = json.loads((VENDOR / "VENDORED.json").read_text(encoding="utf-8"))
    assert set(manifest) == set(vendor.PACKAGES)
    for name, entry in manifest.items():
        pin = vendor.PACKAGES[name]
        assert (entry["version"], entry["integrity"], entry["file"]) == (pin["version"], pin["integrity"], pin["serve"])
        assert hashlib.sha256((VENDOR / entry["file"]).read_bytes()).hexdigest() == entry["sha256"], name
        for target in pin["files"].values():
            assert (VENDOR / target).is_file(), target  # the licence travels with the code
