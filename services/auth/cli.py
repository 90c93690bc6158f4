"""Operator command line of the auth service.

Over HTTPS, as a signed-in administrator (DESIGN §5; the sign-in is the one the review
CLI keeps, `python -m services.review.cli login`, or `login` here):

    python -m services.auth.cli [--url URL] login [USERNAME]
    python -m services.auth.cli staff-save USERNAME --role reviewer --region 32 --sites 3204
    python -m services.auth.cli staff-disable USERNAME
    python -m services.auth.cli staff-list
    python -m services.auth.cli staff-otp USERNAME        (enrol or reset a second factor)
    python -m services.auth.cli import FILE.csv|FILE.jsonl

At the console, against auth's own database (there is no administrator yet to ask):

    python -m services.auth.cli --config config.yaml bootstrap-admin USERNAME --region '*'

Passwords are asked for interactively unless given with --password (scripts only).
--url defaults to $EXAM_URL or http://127.0.0.1:8000.
"""
import argparse
import csv
import getpass
import json
import os
import sys

from common.config import db_name, load_config
from common.errors import AppError
from common.mongo import make_client
from common.rpc_client import NotSignedIn, RpcRefused, StaffSession, TokenStore, Unreachable
from common.settings import load
from services.auth import bootstrap
from services.auth.keys import KeyRing
from services.auth.passwords import Passwords
from services.auth.pii import PiiVault
from services.auth.provider import OpenIdProvider
from services.auth.repository import AuthRepository
from services.auth.settings import AuthSettings

DEFAULT_URL = "http://127.0.0.1:8000"


def auth_database(config):
    """auth's own database with its indexes (the console's; tests read it directly)."""
    db = make_client(config, "auth-cli")[db_name(config, "auth")]
    AuthRepository.create_indexes(db)
    return db


def use_cases(config):
    """auth's use cases on its own database, built as the service builds them
    (bootstrap.build): the console's bootstrap-admin, the seed, the test harness."""
    settings = load(AuthSettings, config)
    return bootstrap.build(AuthRepository(auth_database(config)), KeyRing.from_settings(settings),
                           PiiVault.from_settings(settings), Passwords.from_settings(settings),
                           OpenIdProvider.from_settings(settings), settings)


def read_records(path):
    """Records of the registration system's feed from CSV (with header) or JSON lines."""
    with open(path, encoding="utf-8-sig") as handle:
        if path.endswith(".csv"):
            return list(csv.DictReader(handle))
        return [json.loads(line) for line in handle if line.strip()]


def print_enrolment(enrolment):
    """The otpauth URI as a QR code for the authenticator app, and the recovery codes."""
    import segno
    print(f"为 {enrolment['username']} 绑定动态验证码：用身份验证器应用扫描下面的二维码，或输入其中的链接。")
    segno.make(enrolment["otpauth_uri"], error="m").terminal(compact=True)
    print(enrolment["otpauth_uri"])
    print("一次性恢复码（每个只能用一次，请离线保存，此后不再显示）：")
    print("  " + "  ".join(enrolment["recovery_codes"]))


# -- commands over HTTPS -----------------------------------------------------------------------
def cmd_login(session, args):
    username = args.username or input("用户名: ").strip()
    password = args.password or getpass.getpass("密码: ")
    otp = args.otp or input("动态验证码: ").strip() or None
    session.login(username, password, otp)
    print(f"已登录：{username}")


def cmd_staff_save(session, args):
    password = None
    if not args.keep_password:
        password = args.password or getpass.getpass("新账号密码: ")
    sites = [s for s in args.sites.split(",") if s]
    session.client().call("auth", "save_staff", username=args.username, role=args.role,
                          region=args.region, sites=sites, password=password)
    print(f"saved {args.username} ({args.role}, region {args.region}, sites {sites or '-'})")
    if args.role == "admin":
        print(f"管理员须绑定动态验证码后才能登录：python -m services.auth.cli staff-otp {args.username}")


def cmd_staff_disable(session, args):
    session.client().call("auth", "disable_staff", username=args.username)
    print(f"disabled {args.username}; its tokens are revoked")


def cmd_staff_list(session, args):
    for staff in session.client().call("auth", "list_staff"):
        state = "disabled" if staff["disabled"] else "active"
        factor = "otp" if staff["second_factor"] else "-"
        print(f"{staff['username']:20} {staff['role']:9} {staff['region']:4} "
              f"{','.join(staff['sites']) or '-':20} {state:8} {factor}")


def cmd_staff_otp(session, args):
    print_enrolment(session.client().call("auth", "enrol_second_factor", username=args.username))


def cmd_import(session, args):
    summary = session.client().call("auth", "import_candidates", records=read_records(args.file))
    print(json.dumps(summary, ensure_ascii=False))
    return 1 if summary["errors"] else 0


# -- at the console --------------------------------------------------------------------------------
def cmd_bootstrap_admin(args):
    if not args.config:
        raise SystemExit("bootstrap-admin works on auth's database: give --config")
    staff = use_cases(load_config(args.config)).staff
    password = args.password or getpass.getpass("管理员密码: ")
    staff.save_staff(args.username, "admin", args.region, [], password)
    print_enrolment(staff.enrol_second_factor(args.username))


HTTPS_COMMANDS = {"login": cmd_login, "staff-save": cmd_staff_save, "staff-disable": cmd_staff_disable,
                  "staff-list": cmd_staff_list, "staff-otp": cmd_staff_otp, "import": cmd_import}


def parser():
    p = argparse.ArgumentParser(prog="python -m services.auth.cli", description=__doc__.split("\n")[0])
    p.add_argument("--url", default=os.environ.get("EXAM_URL", DEFAULT_URL))
    p.add_argument("--config", default=None, help="for bootstrap-admin only")
    sub = p.add_subparsers(dest="command", required=True)
    login = sub.add_parser("login", help="sign in as an administrator")
    login.add_argument("username", nargs="?")
    login.add_argument("--password", help="for scripts; omit to be asked")
    login.add_argument("--otp", help="for scripts; omit to be asked")
    save = sub.add_parser("staff-save", help="create or re-scope a staff account")
    save.add_argument("username")
    save.add_argument("--role", choices=["reviewer", "admin"], required=True)
    save.add_argument("--region", required=True, help="考区代码, or * for a national admin")
    save.add_argument("--sites", default="", help="comma-separated 考点, or * for the whole region")
    save.add_argument("--password", help="for scripts; omit to be asked")
    save.add_argument("--keep-password", action="store_true", help="re-scope without a new password")
    sub.add_parser("staff-disable", help="disable an account and end its sessions").add_argument("username")
    sub.add_parser("staff-list", help="list staff accounts")
    sub.add_parser("staff-otp", help="enrol or reset an account's second factor").add_argument("username")
    sub.add_parser("import", help="import candidates from CSV or JSON lines").add_argument("file")
    boot = sub.add_parser("bootstrap-admin", help="console: create the first administrator")
    boot.add_argument("username")
    boot.add_argument("--region", default="*")
    boot.add_argument("--password", help="for scripts; omit to be asked")
    return p


def main(argv=None, store=None):
    args = parser().parse_args(argv)
    try:
        if args.command == "bootstrap-admin":
            cmd_bootstrap_admin(args)
            return 0
        return HTTPS_COMMANDS[args.command](StaffSession(args.url, store or TokenStore()), args) or 0
    except NotSignedIn as exc:
        print(f"错误: {exc}，请先运行：python -m services.auth.cli login", file=sys.stderr)
    except RpcRefused as exc:
        print(f"错误: {exc.message}", file=sys.stderr)
    except Unreachable as exc:
        print(f"错误: {exc}", file=sys.stderr)
    except AppError as exc:
        print(f"错误: {exc.message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
