"""The reviewer's command line against the whole system over HTTPS (DESIGN §5): sign in,
queue, claim, show, return and approve, with readable tables and plain Chinese errors."""
import json
import stat

from services.review import cli
from common.rpc_client import TokenStore
from support import Candidate, candidate, create_candidates, wait_for

ANNA, BEN = "2026320400961", "2026320400962"
SITE_3204 = "reviewer.3204"


def submitted(system, number):
    person = Candidate(system, number)
    person.fill_required()
    return person, person.submit()["package_id"]


def test_a_reviewer_works_through_the_queue_from_the_terminal(system, admin, tmp_path, monkeypatch, capsys):
    create_candidates(system.standin, [candidate(ANNA, serial=961), candidate(BEN, serial=962)])
    anna, returned = submitted(system, ANNA)
    ben, approved = submitted(system, BEN)
    store = TokenStore(tmp_path / "home")

    def review(*argv):
        code = cli.main(["--url", system.url, *argv], store=store)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    answers = iter([SITE_3204, "", SITE_3204, ""])  # username, then no second factor (a reviewer)
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: "wrong")
    code, _, err = review("login")
    assert code == 1 and "账号或密码错误" in err
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: "Review@2026")
    assert review("login")[0] == 0
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600

    # An expired access token is renewed with the stored refresh token, unseen.
    record = json.loads(store.path.read_text())
    store.path.write_text(json.dumps(dict(record, expires_at=0)))
    wait_for(lambda: returned in review("queue", "--limit", "200")[1], timeout=10, message="queued")
    code, out, _ = review("queue", "--limit", "200")
    assert code == 0 and returned in out and "考生961" in out and "待审核" in out
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
    wait_for(lambda: anna.package()["status"] == "returned", timeout=5, message="returned")

    code, _, err = review("approve", approved)
    assert code == 1 and "请先领取" in err
    assert review("claim", approved)[0] == 0
    assert review("approve", approved, "--note", "齐全")[0] == 0
    wait_for(lambda: ben.package()["status"] == "approved", timeout=5, message="approved")
    code, _, err = review("show", "2026320400999-2026")
    assert code == 1 and "没有该材料包" in err

    code, out, _ = review("stats")
    assert code == 0 and "退回修改" in out
    # The audit names the address the connection came from (what nginx saw), nothing a caller wrote.
    assert {e["client"] for e in admin.call("review", "audit", package_id=returned)} == {"127.0.0.1"}
    assert review("logout")[0] == 0 and not store.path.exists()
    code, _, err = review("queue")
    assert code == 1 and "尚未登录" in err
