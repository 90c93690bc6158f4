"""Demo data for local runs (idempotent; LOCAL-DEVELOPMENT defaults, listed in README).

Staff accounts go straight into auth's database through its operator CLI code (there is
no admin yet to ask); candidates and regions go through the services' own RPC as that
admin, exactly as the registration system and an operator would.
"""
import os
import sys
import time
from datetime import datetime, timedelta, timezone

from common.config import load_config
from services.auth.cli import NATIONAL_ADMIN, build_authority
from services.auth.domain import id_check_char

DEMO_PASSWORD = "Demo@2026"
STAFF_PASSWORD = "Review@2026"
ADMIN_PASSWORD = "Admin@2026"
EXAM_YEAR = 2026
CATEGORY = "integrated_practitioner"

STAFF = [
    ("reviewer.3204", "reviewer", "32", ["3204"], STAFF_PASSWORD),
    ("reviewer.3201", "reviewer", "32", ["3201"], STAFF_PASSWORD),
    ("reviewer.32", "reviewer", "32", ["*"], STAFF_PASSWORD),
    ("admin", "admin", "*", [], ADMIN_PASSWORD),
]


def demo_id_number(area, serial):
    """A well-formed (checksum-valid) but fictitious resident ID number."""
    first17 = f"{area}19950101{serial:03d}"
    return first17 + id_check_char(first17)


def demo_candidates():
    people = [(f"2026320400{n:03d}", "32", "3204", f"江苏常州考生{n:02d}", n) for n in range(1, 11)]
    people += [(f"2026320100{n:03d}", "32", "3201", f"江苏南京考生{n:02d}", 20 + n) for n in range(1, 4)]
    people += [("2026110100001", "11", "1101", "北京考生01", 40)]
    return [{
        "registration_number": number, "name": name,
        "id_number": demo_id_number(f"{site}00", serial),
        "phone": f"1380000{serial:04d}", "region": region, "site": site,
        "category": CATEGORY, "exam_year": EXAM_YEAR, "password": DEMO_PASSWORD,
    } for number, region, site, name, serial in people]


def demo_regions(now=None):
    now = now or datetime.now(timezone.utc)
    window = {"start": (now - timedelta(days=30)).isoformat(timespec="seconds"),
              "end": (now + timedelta(days=30)).isoformat(timespec="seconds")}
    return {
        "32": {"name": "江苏", "upload_enabled": True, "window": window,
               "sites": {"3204": "常州", "3201": "南京"}},
        "11": {"name": "北京", "upload_enabled": False, "window": window,
               "sites": {"1101": "北京"}},
    }


def seed_staff(authority):
    for username, role, region, sites, password in STAFF:
        staff = authority.repo.get_staff(username)
        if staff is None or not authority.passwords.verify(staff["password_hash"], password) \
                or (staff["role"], staff["region"], staff["sites"]) != (role, region, sites):
            authority.save_staff(username, role, region, sites, password)


def call_as_admin(config, calls, attempts=30):
    """Run `calls(proxy)` with an admin token, retrying while services warm up."""
    from nameko.standalone.rpc import ClusterRpcProxy
    for attempt in range(attempts):
        try:
            with ClusterRpcProxy(config, timeout=30) as proxy:
                token = proxy.auth.login_staff("admin", ADMIN_PASSWORD)["access_token"]
            with ClusterRpcProxy(config, timeout=30,
                                 context_data={"authorization": f"Bearer {token}"}) as proxy:
                return calls(proxy)
        except Exception as exc:  # a service still starting: wait and try again
            if attempt == attempts - 1:
                raise
            print(f"[seed] waiting for services ({type(exc).__name__})", flush=True)
            time.sleep(1)


def main():
    config = load_config(os.environ.get("EXAM_CONFIG"))
    authority = build_authority(config)
    seed_staff(authority)
    summary = authority.import_candidates(demo_candidates(), NATIONAL_ADMIN)
    if summary["errors"]:
        sys.exit(f"demo candidates refused: {summary['errors']}")

    def configure(proxy):
        for region, settings in demo_regions().items():
            current = proxy.materials.get_region(region)
            if current.get("configured") and current.get("upload_enabled") == settings["upload_enabled"] \
                    and _window_covers_now(current.get("window")):
                continue
            proxy.materials.configure_region(region, settings)

    call_as_admin(config, configure)
    print(f"[seed] demo data ready: {summary}", flush=True)


def _window_covers_now(window):
    if not window:
        return False
    now = datetime.now(timezone.utc)
    start = datetime.fromisoformat(window["start"])
    end = datetime.fromisoformat(window["end"])
    return start <= now <= end - timedelta(days=7)


if __name__ == "__main__":
    main()
