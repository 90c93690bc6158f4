"""Candidate import from the registration system's CSV/XLSX (issue 19 item 9): a
preview that changes nothing, per-row errors, apply through import_candidates' path,
the administrator's scope (a 3201 administrator cannot import 3204), and no password
column taken (candidates sign in at the registration system: issue 27)."""
import base64
import csv
import io

import openpyxl
import pytest
import requests

from services.auth.service import AuthService
from support import bearer, candidate, make_admin, rpc, staff_token

HEADER = ["报名号", "姓名", "身份证号", "手机号", "考区", "考点", "考试类别", "考试年度"]
KEYS = ["registration_number", "name", "id_number", "phone", "region", "site", "category", "exam_year"]


def as_row(record):
    return [str(record[k]) for k in KEYS]


def csv_file(records, encoding="utf-8-sig"):
    out = io.StringIO()
    csv.writer(out).writerows([HEADER] + [as_row(r) for r in records])
    return base64.b64encode(out.getvalue().encode(encoding)).decode()


def xlsx_file(rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def auth(start_service, config):
    url = start_service(AuthService)
    make_admin(config, "admin.32", region="32")
    site_admin = make_admin(config, "admin.3201", region="32")
    site_admin.save_staff("admin.3201", "admin", "32", ["3201"], "Admin@2026")
    tokens = {n: staff_token(config, n, "Admin@2026") for n in ("admin.32", "admin.3201")}
    with rpc(config, tokens["admin.32"]) as proxy:
        proxy.auth.import_candidates([candidate("2026320400901", serial=901)])
    return {"url": url, "config": config, **tokens}


def test_the_preview_shows_what_would_change_and_each_bad_row_and_changes_nothing(auth):
    records = [candidate("2026320400901", serial=901, site="3204", category="clinical_practitioner"),
               candidate("2026320400902", serial=902),
               candidate("2026320400903", serial=903, phone="12345"),
               candidate("2026320400901", serial=901)]
    with rpc(auth["config"], auth["admin.32"]) as proxy:
        preview = proxy.auth.preview_import("名单.csv", csv_file(records))
        assert (preview["rows"], preview["created"], preview["updated"], preview["unchanged"]) == (4, 1, 1, 0)
        errors = {e["row"]: e["message"] for e in preview["errors"]}
        assert errors == {4: "手机号格式错误", 5: "报名号在文件中重复"}
        updated = next(c for c in preview["changes"] if c["action"] == "updated")
        assert updated["registration_number"] == "2026320400901" and updated["fields"] == ["category"]
        assert updated["details"]["category"] == {"before": "integrated_practitioner",
                                                  "after": "clinical_practitioner"}
        assert "id_number" not in str(preview["changes"][0].get("details"))
        # nothing changed: the same preview again still shows a creation
        assert proxy.auth.preview_import("名单.csv", csv_file(records))["created"] == 1


def test_applying_an_xlsx_imports_through_the_feed_and_a_second_apply_changes_nothing(auth):
    records = [candidate("2026320400911", serial=911), candidate("2026320100912", site="3201", serial=912)]
    rows = [HEADER] + [as_row(r) for r in records] + [["2026320400913", "", "", "", "32", "3204", "", ""]]
    with rpc(auth["config"], auth["admin.32"]) as proxy:
        first = proxy.auth.apply_import("名单.xlsx", xlsx_file(rows))
        assert (first["created"], first["updated"]) == (2, 0)
        assert [(e["row"], e["registration_number"]) for e in first["errors"]] == [(4, "2026320400913")]
        again = proxy.auth.apply_import("名单.xlsx", xlsx_file(rows))
        assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
        assert proxy.auth.preview_import("名单.xlsx", xlsx_file(rows))["unchanged"] == 2


def test_a_3201_administrator_cannot_import_or_preview_3204_candidates(auth):
    records = [candidate("2026320400921", serial=921), candidate("2026320100922", site="3201", serial=922)]
    with rpc(auth["config"], auth["admin.3201"]) as proxy:
        preview = proxy.auth.preview_import("list.csv", csv_file(records))
        assert [(e["row"], e["message"]) for e in preview["errors"]] == [(2, "记录不属于您管理的考区或考点")]
        applied = proxy.auth.apply_import("list.csv", csv_file(records))
        assert applied["created"] == 1 and applied["errors"][0]["registration_number"] == "2026320400921"
    with rpc(auth["config"], auth["admin.32"]) as proxy:
        assert proxy.auth.preview_import("list.csv", csv_file(records[:1]))["created"] == 1  # never imported


def test_a_list_larger_than_other_rpc_bodies_is_taken_over_https_and_bad_files_are_refused(auth):
    records = [candidate(f"20263204{n:05d}", serial=n % 1000) for n in range(100, 1100)]
    data = csv_file(records)
    assert len(data) > 64 * 1024  # beyond every other RPC's body limit
    response = requests.post(f"{auth['url']}/rpc/auth/preview_import", headers=bearer(auth["admin.32"]),
                             json={"file_name": "list.csv", "data": data}, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["rows"] == 1000
    for name, payload, words in (("list.pdf", data, "只支持"), ("list.xlsx", base64.b64encode(b"not a zip").decode(),
                                 "无法读取"), ("list.csv", "@@@", "base64"),
                                 ("list.csv", base64.b64encode("a,b\n1,2".encode()).decode(), "缺少列")):
        refused = requests.post(f"{auth['url']}/rpc/auth/preview_import", headers=bearer(auth["admin.32"]),
                                json={"file_name": name, "data": payload}, timeout=10)
        assert refused.status_code == 422 and words in refused.json()["error"]["message"], refused.text
    too_big = requests.post(f"{auth['url']}/rpc/auth/list_staff", headers=bearer(auth["admin.32"]),
                            json={"padding": data}, timeout=10)
    assert too_big.status_code == 422  # other methods keep their limit


def test_rows_carrying_a_password_or_its_hash_are_refused_in_the_preview_and_the_apply(auth, mongo_client):
    rows = [HEADER + ["初始密码", "密码哈希"],
            as_row(candidate("2026320400931", serial=931)) + ["Demo@2026", ""],
            as_row(candidate("2026320400932", serial=932)) + ["", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"],
            as_row(candidate("2026320400933", serial=933)) + ["", ""]]
    with rpc(auth["config"], auth["admin.32"]) as proxy:
        preview = proxy.auth.preview_import("名单.xlsx", xlsx_file(rows))
        applied = proxy.auth.apply_import("名单.xlsx", xlsx_file(rows))
    for summary in (preview, applied):
        assert summary["created"] == 1  # the row without a password
        assert [(e["row"], e["registration_number"]) for e in summary["errors"]] == [
            (2, "2026320400931"), (3, "2026320400932")]
        assert all("不接收、不保存考生密码" in e["message"] for e in summary["errors"])
    db = mongo_client[auth["config"]["MONGO"]["DB_PREFIX"] + "auth"]
    assert db.candidates.find_one({"_id": "2026320400931"}) is None
    assert db.candidates.find_one({"_id": "2026320400933"}).get("password_hash") is None


def test_a_row_with_several_errors_lists_every_one_and_a_category_written_by_name_is_accepted(auth):
    """Issue 28, defect 7."""
    records = [candidate("2026320400904", serial=904, category="中西医结合执业医师"),
               candidate("2026320400905", serial=905, phone="123", region="1", exam_year="26"),
               candidate("2026320400906", serial=906, category="中医师")]
    with rpc(auth["config"], auth["admin.32"]) as proxy:
        preview = proxy.auth.preview_import("名单.csv", csv_file(records))
        assert preview["created"] == 1
        errors = {e["row"]: e for e in preview["errors"]}
        assert errors[3]["messages"] == ["手机号格式错误", "考区代码格式错误", "考点代码格式错误", "考试年度错误"]
        assert errors[4]["message"].startswith("考试类别未知：中医师") and "中医执业医师（tcm_practitioner）" in errors[4]["message"]
        applied = proxy.auth.apply_import("名单.csv", csv_file(records))
        assert applied["created"] == 1
    from services.auth.cli import use_cases
    assert use_cases(auth["config"]).candidates.profile("2026320400904")["category"] == "integrated_practitioner"
