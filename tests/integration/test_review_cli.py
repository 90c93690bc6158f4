"""The reviewer's command line against the real services: sign in, queue, claim, show,
return and approve, with readable tables and plain Chinese errors."""
import json
import stat

import yaml

from review_helpers import ANNA, BEN, SITE_3204, make_exam  # noqa: F401
from services.review import cli
from services.review.console import TokenStore
from support import wait_for


def test_a_reviewer_works_through_the_queue_from_the_terminal(make_exam, tmp_path, monkeypatch, capsys):
    exam = make_exam()
    returned, approved = exam.submit_package(ANNA), exam.submit_package(BEN, seed=1)
    exam.queued(returned)
    exam.queued(approved)
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(exam.config, allow_unicode=True), encoding="utf-8")
    store = TokenStore(tmp_path / "home")

    def review(*argv):
        code = cli.main(["--config", str(config_file), *argv], store=store)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    monkeypatch.setattr("builtins.input", lambda prompt: SITE_3204)
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: "wrong")
    code, _, err = review("login")
    assert code == 1 and "账号或密码错误" in err
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: "Review@2026")
    assert review("login")[0] == 0
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600

    # An expired access token is renewed with the stored refresh token, unseen.
    record = json.loads(store.path.read_text())
    store.path.write_text(json.dumps(dict(record, expires_at=0)))
    code, out, _ = review("queue")
    assert code == 0 and returned in out and "考生1" in out and "待审核" in out
    assert json.loads(store.path.read_text())["access_token"] != record["access_token"]
    assert review("claim", returned)[0] == 0
    code, out, _ = review("show", returned)
    assert code == 0 and "3204**********" in out and out.count("http://") == 5

    code, _, err = review("return", returned, "degree_certificate:blurry")
    assert code == 1 and "未知的退回原因" in err
    code, _, err = review("return", returned, "degree_certificate")
    assert code == 2 and "材料类型:原因" in err
    assert review("return", returned, "degree_certificate:unclear",
                  "id_card:other:请上传反面")[0] == 0
    wait_for(lambda: exam.package(ANNA)["status"] == "returned", timeout=5, message="returned")

    code, _, err = review("approve", approved)
    assert code == 1 and "请先领取" in err
    assert review("claim", approved)[0] == 0
    assert review("approve", approved, "--note", "齐全")[0] == 0
    wait_for(lambda: exam.package(BEN)["status"] == "approved", timeout=5, message="approved")
    code, _, err = review("show", "2026320400999-2026")
    assert code == 1 and "没有该材料包" in err

    code, out, _ = review("stats")
    assert code == 0 and "退回修改" in out
    assert all(e["client"].startswith("cli:") for e in exam.audit(returned))
    assert review("logout")[0] == 0 and not store.path.exists()
    code, _, err = review("queue")
    assert code == 1 and "尚未登录" in err
