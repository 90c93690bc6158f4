"""Browser libraries for the staff workspace, copied from the npm registry (`make vendor`).

Each is pinned to a version and to the registry's integrity hash of its tarball; the
tarball is fetched with `npm pack`, checked against that hash, and the one file the page
loads is copied into web/staff/vendor/ with its licence. The copied files are committed
(web/staff/vendor/VENDORED.json records each one's SHA-256, checked by the unit tests),
so nothing is fetched when the system runs, builds its image or is tested; this step
is only for upgrading: change the pin here, run `make vendor`, commit the result.

    python -m dev.vendor
"""
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "web" / "staff" / "vendor"
MANIFEST = VENDOR / "VENDORED.json"
PACKAGES = {
    "echarts": {
        "version": "6.1.0",
        "integrity": "sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA==",
        "files": {"package/dist/echarts.esm.min.js": "echarts.esm.min.js",
                  "package/LICENSE": "echarts.LICENSE.txt", "package/NOTICE": "echarts.NOTICE.txt"},
        "serve": "echarts.esm.min.js",
    },
}


def integrity_of(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch(name, pin, workdir):
    out = subprocess.run(["npm", "pack", f"{name}@{pin['version']}", "--json", "--pack-destination", workdir],
                         check=True, capture_output=True, text=True, cwd=workdir)
    tarball = Path(workdir) / json.loads(out.stdout)[0]["filename"]
    data = tarball.read_bytes()
    if integrity_of(data) != pin["integrity"]:
        raise SystemExit(f"{name}@{pin['version']}: the tarball does not match the pinned integrity")
    return tarball


def vendor(name, pin):
    VENDOR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir:
        with tarfile.open(fetch(name, pin, workdir)) as archive:
            for member, target in pin["files"].items():
                (VENDOR / target).write_bytes(archive.extractfile(member).read())
    served = (VENDOR / pin["serve"]).read_bytes()
    return {"version": pin["version"], "integrity": pin["integrity"], "file": pin["serve"],
            "sha256": hashlib.sha256(served).hexdigest()}


def main():
    manifest = {name: vendor(name, pin) for name, pin in PACKAGES.items()}
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for name, entry in manifest.items():
        print(f"{name}@{entry['version']} -> web/staff/vendor/{entry['file']}")


if __name__ == "__main__":
    sys.exit(main())
