"""The administrators' screens, second pass (issue 28, defects 4 and 7) in Debian's
Chromium against the whole system: a region's outcomes exported by dates and status with
Beijing times as real spreadsheet dates and names, the national administrator's region
picker, the reviewers' workload with second reviewers' confirmations, the import
preview's errors all listed and a category written by its name. Screenshots at
1366x768 under test-output/<test name>/, axe-core on each new state.

Candidates 2026320400521 ... and 2026320100522 ... are imported here for these tests only."""
from datetime import datetime

import openpyxl

from common.clock import beijing_today
from staff_helpers import screenshot, serious_violations
from support import Candidate, candidate
from test_staff_admin import admin_page, open_screen, recovery_codes  # noqa: F401 (fixtures)

REGION_EXPORTED = {"3204": "2026320400521", "3201": "2026320100522"}


def test_a_region_administrator_exports_the_whole_region_by_date_with_beijing_times_and_names(
        system, admin, admin_page, output_dir):  # noqa: F811
    records = [candidate(n, site=site, serial=int(n[-3:])) for site, n in REGION_EXPORTED.items()]
    admin.call("auth", "import_candidates", records=records)
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
