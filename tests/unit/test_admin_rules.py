"""Pure rules behind the administrators' screens: region setting diffs and versions,
the overview's arithmetic, the export's rows, and reading an import file."""
import base64
import csv
import io

import pytest

from common import errors
from services.auth import import_files
from services.materials import domain as materials
from services.review.admin import exports, overview


def test_a_settings_diff_lists_only_what_changed_with_nested_keys_dotted():
    before = {"upload_enabled": True, "window": {"start": "a", "end": "b"}, "notice": ""}
    after = {"upload_enabled": False, "window": {"start": "a", "end": "c"}, "notice": "",
             "contact": "0519"}
    assert materials.settings_diff(before, after) == [
        {"field": "contact", "before": None, "after": "0519"},
        {"field": "upload_enabled", "before": True, "after": False},
        {"field": "window.end", "before": "b", "after": "c"}]
    assert materials.settings_diff(None, {"window": {"start": "a"}}) == [
        {"field": "window.start", "before": None, "after": "a"}]


def test_an_edit_on_an_older_version_is_a_conflict_and_no_version_means_no_check():
    materials.check_version(None, 7)
    materials.check_version(7, 7)
    with pytest.raises(errors.Conflict) as stale:
        materials.check_version(6, 7)
    assert "第 7 版" in stale.value.message
    with pytest.raises(errors.ValidationError):
        materials.check_version(True, 1)


def test_the_beijing_day_of_a_moment_late_in_the_utc_day_is_the_next_day():
    assert overview.day_of("2026-06-01T16:30:00Z") == "2026-06-02"
    assert overview.days_back("2026-06-02", 3) == ["2026-05-31", "2026-06-01", "2026-06-02"]
    with pytest.raises(errors.ValidationError):
        overview.days_back("2026-06-02", 0)


def test_a_first_decision_waits_since_the_last_first_submission_before_it():
    case = {"history": [{"action": "submitted", "attempt": 1, "at": "2026-06-01T00:00:00Z"},
                        {"action": "withdrawn", "attempt": 1, "at": "2026-06-01T01:00:00Z"},
                        {"action": "submitted", "attempt": 1, "at": "2026-06-01T02:00:00Z"}],
            "decision": {"action": "return", "attempt": 1,
                         "items": [{"reason_code": "unclear"}, {"reason_code": "expired"}]}}
    payload = {"attempt": 1, "occurred_at": "2026-06-01T05:00:00Z", "reviewer_id": "staff:r"}
    fact = overview.decision_fact("MaterialReturned", payload, case)
    assert fact == {"k": "returned", "r": "staff:r", "w": 3 * 3600, "rs": ["unclear", "expired"]}
    assert overview.decision_fact("PackageApproved", dict(payload, attempt=2), case)["w"] is None


def test_the_summary_totals_days_reasons_reviewers_and_the_median():
    days = ["2026-06-01", "2026-06-02"]
    tallies = [
        {"day": "2026-06-01", "submitted": 3, "decisions": [
            {"k": "approved", "r": "a", "w": 3600, "rs": []},
            {"k": "returned", "r": "b", "w": 7200, "rs": ["unclear", "unclear"]}]},
        {"day": "2026-06-02", "submitted": 1, "decisions": [{"k": "approved", "r": "a", "w": None, "rs": []},
                                                            {"k": "rejected", "r": "b", "w": None, "rs": [], "c": "c"}]},
        {"day": "2026-05-01", "submitted": 9, "decisions": []}]  # outside the days shown
    result = overview.summarise(tallies, {"3204": {"pending": 2, "approved": 2}}, days)
    assert result["totals"] == {"submitted": 4, "decided": 4, "approved": 2, "returned": 1, "rejected": 1}
    assert result["per_day"]["approved"] == [1, 1] and result["per_day"]["submitted"] == [3, 1]
    assert result["median_first_decision_hours"] == 1.5 and result["median_first_decision_s"] == 5400
    assert result["first_decisions"] == 2
    assert result["returns_by_reason"] == [{"code": "unclear", "label": "图片不清晰", "count": 2}]
    assert result["reviewers"] == [{"reviewer_id": "a", "decisions": 2, "confirmations": 0},  # the confirmer too
                                   {"reviewer_id": "b", "decisions": 2, "confirmations": 0},
                                   {"reviewer_id": "c", "decisions": 0, "confirmations": 1}]
    assert result["sites"] == [{"site": "3204", "counts": {"pending": 2, "approved": 2}, "total": 4}]


def test_a_sites_typical_review_time_is_the_mean_wait_of_its_first_decisions_in_the_days_shown():
    days = [f"2026-06-0{d}" for d in range(1, 8)]

    def tally(site, day, *waits):
        return {"site": site, "day": day, "decisions": [{"k": "approved", "r": "a", "w": w, "rs": []}
                                                         for w in waits]}
    tallies = [tally("3204", "2026-06-01", 3600, 7200), tally("3204", "2026-06-07", 10800, None, 14400, 18000),
               tally("3204", "2026-05-31", 999_999),          # before the days asked about
               tally("3201", "2026-06-03", 600)]
    times = overview.review_times(tallies, ["3204", "3201", "1101"], days)
    assert times["3204"] == {"days": 7, "decisions": 5, "average_hours": 3.0}
    assert times["3201"] == {"days": 7, "decisions": 1, "average_hours": None}   # too few to say
    assert times["1101"] == {"days": 7, "decisions": 0, "average_hours": None}


def test_an_export_row_masks_numbers_in_free_text_and_defuses_formulas():
    case = {"candidate_id": "2026320400001", "region": "32", "site": "3204", "attempt": 1,
            "status": "rejected", "candidate": {"name": "=HYPERLINK(\"x\")", "id_number_masked": "3204**********1234"},
            "decision": {"attempt": 1, "reason": "证件号 320400199501010011 与报名不符", "by": "staff:r"}}
    row = exports.row(case, 0)
    assert row[2] == "3204**********1234" and "320400199501010011" not in row[11]
    text = base64.b64decode(exports.file([row], "3204", "csv", "20260601")["data"]).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text.splitlines()[1])))[1].startswith("'=")


def test_an_import_file_with_chinese_headers_in_gb18030_is_read_with_row_numbers():
    text = "报名号,姓名,身份证号,手机号,考区,考点,考试类别,考试年度,初始密码\n\n2026320400001,张三,x,y,32,3204,c,2026,p\n"
    data = base64.b64encode(text.encode("gb18030")).decode()
    rows = import_files.read("名单.CSV", data)
    assert rows == [(2, {"registration_number": "2026320400001", "name": "张三", "id_number": "x",
                         "phone": "y", "region": "32", "site": "3204", "category": "c",
                         "exam_year": "2026", "password": "p"})]


def test_an_import_file_that_is_too_large_or_a_zip_bomb_is_refused():
    with pytest.raises(errors.ValidationError):
        import_files.read("a.csv", base64.b64encode(b"x" * (import_files.MAX_FILE_BYTES + 1)).decode())
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (import_files.MAX_UNPACKED_BYTES + 1))
    with pytest.raises(errors.ValidationError) as bomb:
        import_files.read("a.xlsx", base64.b64encode(out.getvalue()).decode())
    assert "解压后过大" in bomb.value.message
