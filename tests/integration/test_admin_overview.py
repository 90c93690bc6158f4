"""The administrators' overview and outcome export in review (issue 19 item 8), on the
real servers: totals that follow the decisions, counted once however often an event
arrives, a 3201 administrator who never sees 3204, and exports that open and mask."""
import base64
import csv
import io

import re
from datetime import date, datetime, timedelta

import openpyxl
import requests
from common.clock import beijing_today, beijing_wall
from services.review.admin.tallies import Tallies
from review_helpers import ADMIN, ANNA, BEN, CAI, DING, SITE_3201, SITE_3204, refused
from support import bearer, make_admin, rpc, staff_token, wait_for

ADMIN_3201 = "admin.3201"


def region_admin(exam, username, region="32", sites=()):
    authority = make_admin(exam.config, username, region=region)
    if sites:  # an administrator of those sites only
        authority.save_staff(username, "admin", region, list(sites), "Admin@2026")
    return staff_token(exam.config, username, "Admin@2026")


def decide(exam):
    """ANNA approved at 3204, BEN returned (two types) at 3204, DING approved at 3201."""
    ids = {n: exam.submit_package(n, seed=s) for s, n in enumerate((ANNA, BEN, DING))}
    for number in ids.values():
        exam.queued(number)
    reviewer = exam.review(SITE_3204)
    reviewer.claim(ids[ANNA])
    reviewer.approve(ids[ANNA])
    reviewer.claim(ids[BEN])
    reviewer.return_materials(ids[BEN], [{"material_type": "id_card", "reason": "unclear"},
                                         {"material_type": "degree_certificate", "reason": "expired"}])
    other = exam.review(SITE_3201)
    other.claim(ids[DING])
    other.approve(ids[DING])
    return ids


def test_the_overview_counts_submissions_decisions_reasons_and_reviewers_per_site(make_exam):
    exam = make_exam()
    decide(exam)
    with rpc(exam.config, region_admin(exam, "admin.32")) as proxy:
        view = wait_for(lambda: (lambda v: v if v["totals"]["decided"] == 3 else None)(
            proxy.review.overview(region="32")), timeout=10, message="three decisions counted")
    assert view["totals"] == {"submitted": 3, "decided": 3, "approved": 2, "returned": 1, "rejected": 0}
    assert sum(view["per_day"]["submitted"]) == 3 and len(view["days"]) == 14
    assert {r["code"]: r["count"] for r in view["returns_by_reason"]} == {"unclear": 1, "expired": 1}
    assert {r["reviewer_id"]: r["decisions"] for r in view["reviewers"]} == {
        f"staff:{SITE_3204}": 2, f"staff:{SITE_3201}": 1}
    assert view["first_decisions"] == 3 and view["median_first_decision_hours"] >= 0
    sites = {s["site"]: s["counts"] for s in view["sites"]}
    assert sites["3204"]["approved"] == 1 and sites["3204"]["returned"] == 1 and sites["3201"]["approved"] == 1


def test_an_event_delivered_twice_is_counted_once(make_exam, mongo_client):
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    admin = region_admin(exam, "admin.32")
    with rpc(exam.config, admin) as proxy:
        before = proxy.review.overview(site="3204")["totals"]["submitted"]
    # the same PackageSubmitted again, as a redelivery would bring it
    db = exam_db(exam, mongo_client)
    tally = db.tallies.find_one({"site": "3204"})
    again = {"event_id": tally["seen"][0], "occurred_at": "2026-01-01T00:00:00Z", "version": 1,
             "package_id": package_id, "candidate_id": ANNA, "region": "32", "site": "3204",
             "category": "integrated_practitioner", "attempt": 1, "items": []}
    Tallies(db).count_submission(dict(again, occurred_at=tally["day"] + "T04:00:00Z"))
    with rpc(exam.config, admin) as proxy:
        assert proxy.review.overview(site="3204")["totals"]["submitted"] == before == 1


def exam_db(exam, mongo_client):
    return mongo_client[exam.config["MONGO"]["DB_PREFIX"] + "review"]


def test_a_3201_administrator_never_sees_or_exports_3204(make_exam, mongo_client):
    exam = make_exam()
    decide(exam)
    with rpc(exam.config, region_admin(exam, ADMIN_3201, sites=["3201"])) as proxy:
        wait_for(lambda: proxy.review.overview()["totals"]["decided"] == 1, timeout=10, message="3201's decision")
        view = proxy.review.overview(region="32")  # naming the region still shows 3201 only
        assert [s["site"] for s in view["sites"]] == ["3201"] and view["totals"]["submitted"] == 1
        assert [r["reviewer_id"] for r in view["reviewers"]] == [f"staff:{SITE_3201}"]
        refused("Forbidden", proxy.review.overview, site="3204")
        refused("Forbidden", proxy.review.export_outcomes, site="3204")
        rows = proxy.review.export_outcomes(site="3201", format="csv")
        assert ANNA not in base64.b64decode(rows["data"]).decode("utf-8-sig")
    with rpc(exam.config, region_admin(exam, "admin.11", region="11")) as proxy:
        refused("Forbidden", proxy.review.overview, region="32")
        assert proxy.review.overview()["totals"]["submitted"] == 0  # its own region only
    with rpc(exam.config, staff_token(exam.config, SITE_3201, "Review@2026")) as proxy:
        refused("Forbidden", proxy.review.overview, region="32")  # reviewers have no overview


def test_the_exported_workbook_opens_with_its_rows_matching_the_cases_and_numbers_masked(make_exam, mongo_client):
    exam = make_exam()
    ids = decide(exam)
    with rpc(exam.config, region_admin(exam, "admin.32")) as proxy:
        book_file = proxy.review.export_outcomes(site="3204", format="xlsx")
        csv_file = proxy.review.export_outcomes(site="3204", format="csv")
        refused("ValidationError", proxy.review.export_outcomes, site="3204", format="pdf")
        queue = {c["package_id"]: c for c in proxy.review.list_queue(site="3204", status="approved")["items"]
                 + proxy.review.list_queue(site="3204", status="returned")["items"]}
    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(book_file["data"]))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("报名号", "姓名", "证件号码") and book_file["rows"] == len(rows) - 1 == 2
    by_number = {r[0]: r for r in rows[1:]}
    assert set(by_number) == {ANNA, BEN} == {queue[p]["candidate_id"] for p in queue}
    assert by_number[ANNA][7] == "审核通过" and by_number[BEN][7] == "退回修改"
    assert "身份证明" in by_number[BEN][11] and DING not in by_number
    for row in rows[1:]:
        assert "*" in row[2] and len(row[2]) == 18  # masked, never the full number
    text = base64.b64decode(csv_file["data"]).decode("utf-8-sig")
    assert [r[0] for r in csv.reader(io.StringIO(text))][1:] == [r[0] for r in rows[1:]]
    audit = exam_db(exam, mongo_client).audit.find_one({"action": "export", "site": "3204", "details.format": "xlsx"})
    assert audit["actor"] == "staff:admin.32" and audit["details"]["rows"] == 2
    assert ids[DING] not in str(rows)


def test_materials_learns_a_sites_typical_review_time_from_review_over_rpc_not_from_its_database(make_exam):
    """The candidate's page shows "本考点近7天平均审核用时" (issue 29): review computes it from
    its tallies and answers services only; materials asks off the candidate's request and
    carries the answer in the package view."""
    exam = make_exam()
    decide(exam)                       # two first decisions at 3204, one at 3201
    secrets = exam.config["TOKENS"]
    with rpc(exam.config) as proxy:
        service = proxy.auth.service_token(secrets["SERVICE_CLIENT_ID"], secrets["SERVICE_CLIENT_SECRET"])
    with rpc(exam.config, service["access_token"]) as proxy:
        times = wait_for(lambda: (lambda t: t if (t["3204"]["decisions"], t["3201"]["decisions"]) == (2, 1) else None)(
            proxy.review.site_review_times(sites=["3204", "3201"])), timeout=10, message="decisions counted")
    # Fewer than five first decisions in seven days: too few for an average to mean anything.
    assert times == {"3204": {"days": 7, "decisions": 2, "average_hours": None},
                     "3201": {"days": 7, "decisions": 1, "average_hours": None}}
    with rpc(exam.config, staff_token(exam.config, SITE_3204, "Review@2026")) as proxy:
        refused("Forbidden", proxy.review.site_review_times, sites=["3204"])
    over_https = requests.post(f"{exam.review_url}/rpc/review/site_review_times", json={"sites": ["3204"]},
                               headers=bearer(service["access_token"]), timeout=10)
    assert over_https.status_code == 404                # not an operator's method

    assert exam.package(CAI)["site_review_time"] is None          # asked for now, not waited on
    learnt = wait_for(lambda: exam.package(CAI)["site_review_time"], timeout=30,
                      message="materials' timer asked review")
    assert learnt == times["3204"]


def sheet_rows(file):
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(file["data"])))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    return header, [dict(zip(header, row)) for row in sheet.iter_rows(min_row=2)]


def csv_rows(file):
    text = base64.b64decode(file["data"]).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_exports_write_beijing_times_as_dates_and_names_not_codes_filter_by_date_and_status_and_cover_a_region(
        make_exam):
    """Issue 28, defect 4."""
    exam = make_exam()
    ids = decide(exam)
    ben_case = exam.review(ADMIN).get_case(ids[BEN])
    today = beijing_today()
    with rpc(exam.config, region_admin(exam, "admin.32")) as proxy:
        region = proxy.review.export_outcomes(format="xlsx")  # no site: the whole region
        returned = proxy.review.export_outcomes(format="csv", status="returned")
        dated = proxy.review.export_outcomes(format="csv", since=today.isoformat(), until=today.isoformat())
        earlier = proxy.review.export_outcomes(format="csv", since=(today - timedelta(days=9)).isoformat(),
                                               until=(today - timedelta(days=1)).isoformat())
        for bad in ({"since": "2026-13-01"}, {"since": today.isoformat(), "until": (today - timedelta(days=1)).isoformat()},
                    {"status": "open"}, {"region": "11"}):
            refused("Forbidden" if "region" in bad else "ValidationError", proxy.review.export_outcomes, **bad)
    header, rows = sheet_rows(region)
    by_number = {r["报名号"].value: r for r in rows}
    assert set(by_number) == {ANNA, BEN, DING} and region["rows"] == 3
    assert region["filename"].startswith("outcomes-32-")
    ben = by_number[BEN]
    # Beijing time as a real spreadsheet date-time, with a number format people read.
    assert isinstance(ben["提交时间"].value, datetime) and ben["提交时间"].number_format == "yyyy-mm-dd hh:mm"
    assert ben["提交时间"].value == beijing_wall(ben_case["submitted_at"]).replace(microsecond=0)
    decided = beijing_wall(ben_case["decision"]["at"])
    assert abs(ben["审核时间"].value - decided.replace(microsecond=0)) < timedelta(seconds=1)
    assert isinstance(ben["补正截止日期"].value, datetime) and ben["补正截止日期"].number_format == "yyyy-mm-dd"
    assert ben["补正截止日期"].value.date() == date.fromisoformat(ben_case["decision"]["respond_by"])
    # Names, not codes.
    assert ben["报考类别"].value == "中西医结合执业医师"
    assert ben["考点"].value == "3204 常州" and by_number[DING]["考点"].value == "3201 南京"
    assert ben["审核人"].value == SITE_3204
    assert ben["原因或退回材料"].value.startswith("身份证明：图片不清晰") and "学历证书：材料已过期" in ben["原因或退回材料"].value
    # CSV: Beijing time as text a person reads, the same names.
    [only] = csv_rows(returned)
    assert only["报名号"] == BEN and only["状态"] == "退回修改"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", only["提交时间"])
    assert only["提交时间"] == beijing_wall(ben_case["submitted_at"]).strftime("%Y-%m-%d %H:%M")
    assert only["报考类别"] == "中西医结合执业医师" and only["审核人"] == SITE_3204
    assert {r["报名号"] for r in csv_rows(dated)} == {ANNA, BEN, DING} and csv_rows(earlier) == []
    # A national administrator names the region; a site administrator gets their sites.
    national = exam.review(ADMIN).export_outcomes(region="32", format="csv")
    assert national["rows"] == 3
    refused("ValidationError", exam.review(ADMIN).export_outcomes, format="csv")
    with rpc(exam.config, region_admin(exam, ADMIN_3201, sites=["3201"])) as proxy:
        assert [r["报名号"] for r in csv_rows(proxy.review.export_outcomes(format="csv"))] == [DING]


def test_the_workload_counts_the_second_reviewers_confirmation_of_a_rejection(make_exam):
    """Issue 28, defect 7: the second pair of eyes is work too."""
    from review_helpers import OTHER_3204
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    exam.review(SITE_3204).claim(package_id)
    exam.review(SITE_3204).reject(package_id, reason="学历不符合报考条件")
    exam.review(OTHER_3204).confirm_reject(package_id)
    with rpc(exam.config, region_admin(exam, "admin.32")) as proxy:
        view = wait_for(lambda: (lambda v: v if v["totals"]["rejected"] == 1 else None)(
            proxy.review.overview(region="32")), timeout=10, message="the rejection counted")
    workload = {r["reviewer_id"]: r for r in view["reviewers"]}
    assert workload[f"staff:{SITE_3204}"]["decisions"] == 1
    assert workload[f"staff:{OTHER_3204}"]["confirmations"] == 1
    assert workload[f"staff:{SITE_3204}"]["confirmations"] == 0
