"""The administrators' screens, second pass (issue 28, defects 4 and 7) in Debian's
Chromium against the whole system: a region's outcomes exported by dates and status with
Beijing times as real spreadsheet dates and names, the national administrator's region
picker, the reviewers' workload with second reviewers' confirmations, the import
preview's errors all listed and a category written by its name. Screenshots at
1366x768 under test-output/<test name>/, axe-core on each new state.

Candidates 2026320400521 ... and 2026320100522 ... are imported here for these tests only."""
import csv
import io
from datetime import datetime

import openpyxl
import pytest

from common.clock import beijing_today
from common.rpc_client import RpcClient
from staff_helpers import STAFF_DESKTOP, chart_option, open_screen, screenshot, serious_violations, staff_sign_in
from support import Candidate, candidate, create_candidates

REGION_EXPORTED = {"3204": "2026320400521", "3201": "2026320100522"}
CONFIRMED = "2026320100523"
IMPORTED = ("2026320400524", "2026320400525")


def test_a_region_administrator_exports_the_whole_region_by_date_with_beijing_times_and_names(
        system, admin, admin_page, output_dir):  # noqa: F811
    records = [candidate(n, site=site, serial=int(n[-3:])) for site, n in REGION_EXPORTED.items()]
    create_candidates(system.standin, records)
    for number in REGION_EXPORTED.values():
        api = Candidate(system, number)
        api.fill_required()
        api.submit()
    page = admin_page("admin.32")
    open_screen(page, system, "overview")
    today = beijing_today()
    page.get_by_label("提交日期 从").fill(today.isoformat())
    page.get_by_label("至", exact=True).fill(today.isoformat())
    page.get_by_label("状态", exact=True).select_option("pending")
    screenshot(page, output_dir, "01-export-filters")
    assert serious_violations(page) == {}
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    path = output_dir / "outcomes-32.xlsx"
    download.value.save_as(path)
    page.get_by_text("已导出考区 32").wait_for()
    sheet = openpyxl.load_workbook(path).active
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, row)) for row in sheet.iter_rows(min_row=2)]
    by_number = {r["报名号"].value: r for r in rows}
    assert set(REGION_EXPORTED.values()) <= set(by_number)  # both sites of the region
    for row in rows:
        submitted = row["提交时间"]
        assert isinstance(submitted.value, datetime) and submitted.number_format == "yyyy-mm-dd hh:mm"
        assert submitted.value.date() == today  # Beijing's date, the one asked for
        assert row["状态"].value == "待审核"
    assert by_number[REGION_EXPORTED["3201"]]["考点"].value == "3201 南京"
    assert by_number[REGION_EXPORTED["3204"]]["报考类别"].value == "中西医结合执业医师"
    screenshot(page, output_dir, "02-exported")


# -- defect 7: administration --------------------------------------------------------------------
@pytest.fixture(scope="module")
def national_admin_codes(system):
    from services.auth.cli import use_cases
    staff = use_cases(system.config).staff
    staff.save_staff("admin.nation", "admin", "*", [], "Admin@2026")
    return list(staff.enrol_second_factor("admin.nation")["recovery_codes"])


def test_a_national_administrator_picks_the_region_of_the_overview(system, open_page, national_admin_codes, output_dir):
    page = open_page(STAFF_DESKTOP)
    staff_sign_in(page, system.url, "admin.nation", "Admin@2026", otp=national_admin_codes.pop())
    open_screen(page, system, "overview")
    picker = page.get_by_label("考区", exact=True)
    assert picker.locator("option:checked").inner_text() == "32 江苏"
    assert len(picker.locator("option").all_inner_texts()) == 32  # 全国 and the 31 regions
    page.get_by_role("heading", name="统计概览 · 考区 32 江苏").wait_for()
    with page.expect_request(lambda r: r.url.endswith("/rpc/review/overview")) as asked:
        picker.select_option("11")
    assert asked.value.post_data_json["region"] == "11"
    page.get_by_role("heading", name="统计概览 · 考区 11 北京").wait_for()
    page.locator("[data-testid=chart-daily] canvas").wait_for()
    screenshot(page, output_dir, "01-region-11")
    assert serious_violations(page) == {}


def test_the_workload_chart_counts_a_second_reviewers_confirmation(system, admin, admin_page, output_dir):  # noqa: F811
    create_candidates(system.standin, [candidate(CONFIRMED, site="3201", serial=523)])
    api = Candidate(system, CONFIRMED)
    api.fill_required()
    package_id = api.submit()["package_id"]
    proposer, confirmer = RpcClient(system.url), RpcClient(system.url)
    proposer.staff_login("reviewer.3201", "Review@2026")
    confirmer.staff_login("reviewer.32", "Review@2026")
    from support import wait_for
    wait_for(lambda: any(i["package_id"] == package_id for i in proposer.call("review", "list_queue", limit=200)["items"]),
             timeout=20, message="queued")
    proposer.call("review", "claim", package_id=package_id)
    proposer.call("review", "reject", package_id=package_id, reason="学历不符合报考条件")
    confirmer.call("review", "confirm_reject", package_id=package_id)
    wait_for(lambda: any(r["reviewer_id"] == "staff:reviewer.32" and r["confirmations"] >= 1
                         for r in admin.call("review", "overview", region="32")["reviewers"]),
             timeout=20, message="the confirmation counted")
    page = admin_page("admin.32")
    open_screen(page, system, "overview")
    page.locator("[data-testid=chart-reviewers] canvas").wait_for()
    chart = chart_option(page, "reviewers")
    series = {s["name"]: dict(zip(chart["yAxis"], s["data"])) for s in chart["series"]}
    assert series["复核确认"]["reviewer.32"] >= 1 and series["审核数"]["reviewer.3201"] >= 1
    page.get_by_test_id("chart-reviewers").scroll_into_view_if_needed()
    screenshot(page, output_dir, "01-workload")


def import_file(tmp_path, rows):
    keys = ["registration_number", "name", "id_number", "phone", "region", "site", "category", "exam_year"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(keys)
    writer.writerows([[r[k] for k in keys] for r in rows])
    path = tmp_path / "名单.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def preview(page, path):
    page.set_input_files("#i-file", str(path))
    page.get_by_test_id("import-preview-button").click()
    page.get_by_test_id("import-preview").wait_for()


def test_an_import_preview_lists_every_error_of_a_row_takes_category_names_and_never_prints_null(
        system, admin_page, output_dir, tmp_path):  # noqa: F811
    clean, broken = IMPORTED
    page = admin_page("admin.32")
    open_screen(page, system, "import")
    preview(page, import_file(tmp_path, [candidate(clean, serial=524, category="中西医结合执业医师")]))
    result = page.locator(".import-result")
    assert "null" not in result.inner_text()
    assert "将新建\n1" in page.get_by_test_id("import-preview").inner_text()
    assert page.get_by_test_id("import-errors").count() == 0
    screenshot(page, output_dir, "01-preview-clean")
    preview(page, import_file(tmp_path, [candidate(broken, serial=525, phone="123", region="1", exam_year="26")]))
    errors = page.get_by_test_id("import-errors").locator(".row-errors li").all_inner_texts()
    assert errors == ["手机号格式错误", "考区代码格式错误", "考点代码格式错误", "考试年度错误"]
    assert "null" not in result.inner_text()
    screenshot(page, output_dir, "02-preview-every-error")
    assert serious_violations(page) == {}


# -- beyond the anchors: the region's checklist, configured on 考区设置 -------------------------------
def test_a_region_administrator_sets_a_checklist_per_material_type_on_the_region_screen(
        system, admin, admin_page, output_dir):  # noqa: F811
    from test_staff_admin import SETTINGS
    before = admin.call("materials", "get_region", region="32")
    try:
        page = admin_page("admin.32")
        open_screen(page, system, "region")
        page.get_by_label("身份证明", exact=True).fill("姓名与报名信息一致\n证件在有效期内\n")
        page.get_by_label("学历证书", exact=True).fill("印章清晰")
        page.get_by_label("学历证书", exact=True).scroll_into_view_if_needed()
        screenshot(page, output_dir, "01-checklists")
        assert serious_violations(page) == {}
        page.get_by_test_id("save-region").click()
        page.locator("p.alert.ok", has_text="已保存为第").wait_for()  # not the screen reader's copy
        assert admin.call("materials", "get_region", region="32")["checklists"] == {
            "id_card": ["姓名与报名信息一致", "证件在有效期内"], "degree_certificate": ["印章清晰"]}
    finally:
        admin.call("materials", "configure_region", region="32", config={k: before[k] for k in SETTINGS})
