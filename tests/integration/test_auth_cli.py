"""The auth operator command line against the real database."""
import csv

import yaml

from services.auth import cli
from support import candidate


def run(config, tmp_path, *args, capsys=None):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return cli.main(["--config", str(path), *args])


def test_an_admin_creates_rescopes_lists_and_disables_staff(config, tmp_path, capsys, mongo_client):
    assert run(config, tmp_path, "staff-save", "reviewer.9", "--role", "reviewer", "--region", "32",
               "--sites", "3204", "--password", "Review@2026") == 0
    assert run(config, tmp_path, "staff-save", "reviewer.9", "--role", "reviewer", "--region", "32",
               "--sites", "*", "--keep-password") == 0
    assert run(config, tmp_path, "staff-list") == 0
    listed = capsys.readouterr().out
    assert "reviewer.9" in listed and "*" in listed and "active" in listed
    assert run(config, tmp_path, "staff-disable", "reviewer.9") == 0
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    assert db.staff.find_one({"_id": "reviewer.9"})["disabled"] is True
    assert db.revocations.count_documents({"sub": "staff:reviewer.9"}) >= 1


def test_a_bad_scope_is_refused_with_a_message_and_no_trace(config, tmp_path, capsys):
    assert run(config, tmp_path, "staff-save", "reviewer.8", "--role", "reviewer", "--region", "32",
               "--sites", "1101", "--password", "x") == 2
    err = capsys.readouterr().err
    assert "错误" in err and "Traceback" not in err


def test_the_feed_imports_from_csv_and_reports_bad_rows(config, tmp_path, capsys, mongo_client):
    rows = [candidate("2026320400601", serial=601), candidate("2026320400602", serial=602, phone="1")]
    feed = tmp_path / "feed.csv"
    with open(feed, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert run(config, tmp_path, "import", str(feed)) == 1
    out = capsys.readouterr().out
    assert '"created": 1' in out and '"index": 1' in out
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    assert db.candidates.count_documents({}) == 1
