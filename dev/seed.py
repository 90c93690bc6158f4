"""Demo data for local runs (idempotent; LOCAL-DEVELOPMENT defaults, listed in README).

Staff accounts go straight into auth's database through its operator console code (there
is no admin yet to ask), the demo admin with a second factor whose secret is the local
secret `admin.totp` (dev/secrets.py); regions go through materials' RPC over HTTPS as
that admin, exactly as an operator would. Candidates are made where they live, at the
registration system's stand-in ($STANDIN_URL, default http://127.0.0.1:9030), with the
demo password there; it feeds them to auth through import_candidates (no password ever
reaches auth).
"""
import os
import sys
import time

import requests
from datetime import datetime, timedelta, timezone

import pyotp

from common.config import load_config
from common.rpc_client import RpcClient, RpcRefused, Unreachable
from dev.secrets import local_secret
from services.auth import second_factor
from services.auth.cli import use_cases
from common.idnumber import check_character as id_check_char

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
        "category": CATEGORY, "exam_year": EXAM_YEAR,
    } for number, region, site, name, serial in people]


def demo_regions(now=None):
    now = now or datetime.now(timezone.utc)
    window = {"start": (now - timedelta(days=30)).isoformat(timespec="seconds"),
              "end": (now + timedelta(days=30)).isoformat(timespec="seconds")}
    return {
        "32": {"name": "江苏", "upload_enabled": True, "window": window,
               "sites": {"3204": "常州", "3201": "南京"},
               "contact": "江苏省医师资格考试考区 025-8000 0000（工作日 9:00–17:00）"},
        "11": {"name": "北京", "upload_enabled": False, "window": window,
               "sites": {"1101": "北京"},
               "notice": "本考区采用现场审核：请于报名结束后按考点公告的时间，携带身份证、学历证书等材料原件到考点办理资格审核。",
               "contact": "北京考点 010-6000 0000（工作日 9:00–17:00）"},
    }


def admin_totp_secret():
    return local_secret("admin.totp", second_factor.new_secret)


def seed_staff(staff):
    """`staff`: auth's StaffAdministration at the console (services.auth.cli.use_cases)."""
    for username, role, region, sites, password in STAFF:
        account = staff.account(username)
        if account is None or (account["role"], account["region"], account["sites"]) != (role, region, sites) \
                or not staff.password_matches(username, password):
            staff.save_staff(username, role, region, sites, password)
    secret = admin_totp_secret()
    if staff.second_factor_secret("admin") != secret:
        staff.enrol_second_factor("admin", secret=secret)


def admin_client(url, attempts=60):
    """An RPC client signed in as the demo admin, over HTTPS: waits while the services
    start, and for the next TOTP step when this one's code was used already."""
    client = RpcClient(url, timeout=30)
    totp = pyotp.TOTP(admin_totp_secret())
    for attempt in range(attempts):
        try:
            client.staff_login("admin", ADMIN_PASSWORD, otp=totp.now())
            return client
        except RpcRefused as exc:
            if exc.status != 401 or attempt == attempts - 1:
                raise
            time.sleep(second_factor.STEP_S - time.time() % second_factor.STEP_S + 0.5)
        except Unreachable:
            if attempt == attempts - 1:
                raise
            print("[seed] waiting for services", flush=True)
            time.sleep(1)


def call_as_admin(config, calls, attempts=30):
    """Run `calls(client)` with an RPC client signed in as the admin; again while a
    service answers 503 (just started, it has not heard from auth yet). `calls` must be
    idempotent."""
    client = admin_client(config.get("PUBLIC_URL", "http://127.0.0.1:8000"))
    for attempt in range(attempts):
        try:
            return calls(client)
        except RpcRefused as exc:
            if exc.status != 503 or attempt == attempts - 1:
                raise
            print(f"[seed] waiting: {exc.message}", flush=True)
            time.sleep(1)


def feed_candidates(standin_url, records, password=DEMO_PASSWORD, attempts=60):
    """The candidates' accounts at the registration system's stand-in, fed to auth by it
    (POST /_standin/candidates); waits while the stand-in or our services start."""
    for attempt in range(attempts):
        try:
            response = requests.post(f"{standin_url}/_standin/candidates", timeout=120,
                                     json=[dict(record, password=password) for record in records])
        except requests.RequestException:
            response = None
        if response is not None and response.status_code == 201:
            return response.json()
        if attempt == attempts - 1:
            sys.exit(f"the registration stand-in did not take the demo candidates: "
                     f"{response.status_code if response is not None else 'no answer'} "
                     f"{response.text[:300] if response is not None else ''}")
        print("[seed] waiting for the registration system's stand-in", flush=True)
        time.sleep(1)


def subscribe_standin(client, standin_url):
    """The stand-in registration system as a webhook subscriber of notify (a national
    administrator's step, DESIGN §4a), and the secret shown then handed to it (an
    operator's step at the registration system). Idempotent: an active subscription the
    stand-in holds the secret of is kept."""
    state = requests.get(f"{standin_url}/_standin/webhook-secret", timeout=10).json()
    active = [s for s in client.call("notify", "webhook_subscribers")
              if s["status"] == "active" and s["url"] == state["url"]]
    if active and state["configured"]:
        return
    for subscriber in active:
        client.call("notify", "remove_webhook_subscriber", subscriber_id=subscriber["subscriber_id"])
    added = client.call("notify", "add_webhook_subscriber", url=state["url"],
                        description="国家医师资格考试报名系统（本地替身）")
    requests.post(f"{standin_url}/_standin/webhook-secret", json={"secret": added["secret"]},
                  timeout=10).raise_for_status()


def main():
    config = load_config(os.environ.get("EXAM_CONFIG"))
    seed_staff(use_cases(config).staff)
    standin_url = os.environ.get("STANDIN_URL", "http://127.0.0.1:9030")
    summary = feed_candidates(standin_url, demo_candidates())
    if summary["errors"]:
        sys.exit(f"demo candidates refused: {summary['errors']}")

    def configure(client):
        for region, settings in demo_regions().items():
            current = client.call("materials", "get_region", region=region)
            if current.get("configured") and current.get("upload_enabled") == settings["upload_enabled"] \
                    and _window_covers_now(current.get("window")) \
                    and all(current.get(key, "") == settings.get(key, "") for key in ("notice", "contact")):
                continue
            client.call("materials", "configure_region", region=region, config=settings)

    call_as_admin(config, configure)
    call_as_admin(config, lambda client: subscribe_standin(client, standin_url))
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
