"""Operator command line of the auth service (runs against auth's own database).

    python -m services.auth.cli staff-save USERNAME --role reviewer --region 32 --sites 3204
    python -m services.auth.cli staff-disable USERNAME
    python -m services.auth.cli staff-list
    python -m services.auth.cli import FILE.csv|FILE.jsonl

Passwords are asked for interactively unless given with --password (scripts only).
"""
import argparse
import csv
import getpass
import json
import sys

from common.config import load_config
from common.errors import AppError
from common.mongo import make_client
from common.config import db_name
from common.tokens import Principal
from services.auth.authority import Authority, Passwords
from services.auth.dependencies import settings_from
from services.auth.keys import KeyRing
from services.auth.pii import PiiVault
from services.auth.repository import AuthRepository

NATIONAL_ADMIN = Principal(sub="cli", role="admin", jti="cli", exp=0, iat=0, region="*")


def build_authority(config):
    client = make_client(config, "auth-cli")
    db = client[db_name(config, "auth")]
    AuthRepository.create_indexes(db)
    tokens = config["TOKENS"]
    return Authority(AuthRepository(db), KeyRing(tokens["KEYS_DIR"], tokens["ACTIVE_KID"]),
                     PiiVault(config["PII"]["ENCRYPTION_KEY"], config["PII"]["HASH_KEY"]),
                     Passwords(), settings_from(config))


def read_records(path):
    """Records of the registration system's feed from CSV (with header) or JSON lines."""
    with open(path, encoding="utf-8-sig") as handle:
        if path.endswith(".csv"):
            return list(csv.DictReader(handle))
        return [json.loads(line) for line in handle if line.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m services.auth.cli", description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    save = sub.add_parser("staff-save", help="create or re-scope a staff account")
    save.add_argument("username")
    save.add_argument("--role", choices=["reviewer", "admin"], required=True)
    save.add_argument("--region", required=True, help="考区代码, or * for a national admin")
    save.add_argument("--sites", default="", help="comma-separated 考点, or * for the whole region")
    save.add_argument("--password", help="for scripts; omit to be asked")
    save.add_argument("--keep-password", action="store_true", help="re-scope without a new password")
    disable = sub.add_parser("staff-disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    sub.add_parser("staff-list", help="list staff accounts")
    imp = sub.add_parser("import", help="import candidates from CSV or JSON lines")
    imp.add_argument("file")
    args = parser.parse_args(argv)

    authority = build_authority(load_config(args.config))
    try:
        if args.command == "staff-save":
            password = None
            if not args.keep_password:
                password = args.password or getpass.getpass("密码: ")
            sites = [s for s in args.sites.split(",") if s]
            authority.save_staff(args.username, args.role, args.region, sites, password)
            print(f"saved {args.username} ({args.role}, region {args.region}, sites {sites or '-'})")
        elif args.command == "staff-disable":
            authority.disable_staff(args.username)
            print(f"disabled {args.username}; its tokens are revoked")
        elif args.command == "staff-list":
            for staff in authority.repo.list_staff():
                state = "disabled" if staff.get("disabled") else "active"
                print(f"{staff['_id']:20} {staff['role']:9} {staff['region']:4} "
                      f"{','.join(staff.get('sites') or []) or '-':20} {state}")
        elif args.command == "import":
            summary = authority.import_candidates(read_records(args.file), NATIONAL_ADMIN)
            print(json.dumps(summary, ensure_ascii=False))
            return 1 if summary["errors"] else 0
    except AppError as exc:
        print(f"错误: {exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
