"""auth's operator command line: the first administrator at the console, everything else
over HTTPS as a signed-in administrator with a second factor (DESIGN §5)."""
import csv
import re
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import yaml

from common.rpc_client import TokenStore
from services.auth import cli
from services.auth.service import AuthService
from support import candidate


@pytest.fixture
def operator(start_service, config, tmp_path, capsys):
    """An admin made at the console, then signed in over HTTPS; `run(*args)` runs the CLI."""
    url = start_service(AuthService)
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(config, allow_unicode=True))
    store = TokenStore(tmp_path / "home")

    def run(*args):
        return cli.main(["--url", url, "--config", str(config_file), *args], store=store)

    assert run("bootstrap-admin", "admin.cli", "--password", "Admin@2026") == 0
    printed = capsys.readouterr().out
    uri = re.search(r"otpauth://\S+", printed).group(0)
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    assert len(re.findall(r"\b[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}\b", printed)) == 10
    assert run("login", "admin.cli", "--password", "Admin@2026", "--otp", pyotp.TOTP(secret).now()) == 0
    capsys.readouterr()
    return run


def test_an_admin_creates_rescopes_lists_and_disables_staff(operator, config, capsys, mongo_client):
    assert operator("staff-save", "reviewer.9", "--role", "reviewer", "--region", "32",
                    "--sites", "3204", "--password", "Review@2026") == 0
    assert operator("staff-save", "reviewer.9", "--role", "reviewer", "--region", "32",
                    "--sites", "*", "--keep-password") == 0
    assert operator("staff-list") == 0
    listed = capsys.readouterr().out
    assert "reviewer.9" in listed and "*" in listed and "active" in listed
    assert re.search(r"admin\.cli\s.*\sotp", listed)
    assert operator("staff-disable", "reviewer.9") == 0
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    assert db.staff.find_one({"_id": "reviewer.9"})["disabled"] is True
    assert db.revocations.count_documents({"sub": "staff:reviewer.9"}) >= 1


def test_a_bad_scope_is_refused_with_a_message_and_no_trace(operator, capsys):
    assert operator("staff-save", "reviewer.8", "--role", "reviewer", "--region", "32",
                    "--sites", "1101", "--password", "x") == 2
    err = capsys.readouterr().err
    assert "错误" in err and "Traceback" not in err


def test_without_a_sign_in_nothing_is_done(start_service, tmp_path, capsys):
    url = start_service(AuthService)
    assert cli.main(["--url", url, "staff-list"], store=TokenStore(tmp_path / "nobody")) == 2
    assert "尚未登录" in capsys.readouterr().err


def test_the_feed_imports_from_csv_and_reports_bad_rows(operator, config, tmp_path, capsys, mongo_client):
    rows = [candidate("2026320400601", serial=601), candidate("2026320400602", serial=602, phone="1")]
    feed = tmp_path / "feed.csv"
    with open(feed, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert operator("import", str(feed)) == 1
    out = capsys.readouterr().out
    assert '"created": 1' in out and '"index": 1' in out
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    assert db.candidates.count_documents({}) == 1
