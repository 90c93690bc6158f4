"""Reviewing in the staff workspace (issue 19 items 2-6) in Debian's Chromium against the
whole system: filter the queue, claim, zoom, return two types with coded reasons (and
the candidate's page shows exactly those unlocked with those reasons); a rejection
needs a second reviewer; a 3201 reviewer never sees 3204; one case reviewed with the
keyboard alone; axe-core finds nothing serious on any screen. Screenshots at 1366x768
in test-output/<test name>/.

Candidates 2026320400941 ... 964 and 2026320100945 are imported here for these tests only.
(946: the short lease; 947: an ID card the OCR reader reads.)"""
from datetime import timedelta

import pytest

from page_helpers import card, sign_in
from staff_helpers import (STAFF_DESKTOP, choose_filter, queue_row, screenshot, serious_violations,
                           staff_sign_in)
from common import clock
from common.rpc_client import RpcClient
from support import Candidate, candidate, create_candidates, REQUIRED, wait_for
from unit import idcards
from unit.imagefactory import document_jpeg

MAIN, REJECTED, KEYS, OTHER_3204, NANJING = ("2026320400941", "2026320400942", "2026320400943",
                                             "2026320400944", "2026320100945")
LEASED, CARD_READ = "2026320400946", "2026320400947"
SHORT_LEASE_S = 30


@pytest.fixture(scope="module")
def packages(system, admin):
    """{number: (candidate API, package_id)}: each imported candidate's package, submitted."""
    records = [candidate(n, serial=int(n[-3:])) for n in (MAIN, REJECTED, KEYS, OTHER_3204)]
    records.append(candidate(NANJING, site="3201", serial=945))
    assert create_candidates(system.standin, records)["created"] == 5
    found = {}
    for number in (MAIN, REJECTED, KEYS, OTHER_3204, NANJING):
        api = Candidate(system, number)
        api.fill_required()
        found[number] = (api, api.submit()["package_id"])
    return found


def open_case_from_queue(page, package_id):
    row = queue_row(page, package_id)
    row.wait_for()
    row.get_by_role("button", name="领取", exact=False).click()
    page.locator("[data-testid=lease]").wait_for()
    page.wait_for_function("() => [...document.querySelectorAll('.viewer img')]"
                           ".every(img => img.complete && img.naturalWidth > 0)")


def test_a_reviewer_filters_claims_zooms_and_returns_two_types_the_candidate_sees_exactly_those(
        system, packages, staff_page, browser, output_dir):
    api, package_id = packages[MAIN]
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3204")
    choose_filter(page, "考点", "3204")
    choose_filter(page, "提交次数", "first")
    queue_row(page, package_id).wait_for()
    assert "首次提交" in queue_row(page, package_id).inner_text()
    assert int(page.locator("[data-status=pending] strong").inner_text()) >= 4
    screenshot(page, output_dir, "01-queue")
    choose_filter(page, "标记", "returned_before")  # nobody here was returned before
    assert queue_row(page, package_id).count() == 0
    choose_filter(page, "标记", "")

    open_case_from_queue(page, package_id)
    assert page.url.endswith(f"#/case/{package_id}")
    lease = page.locator("[data-testid=lease]").inner_text()
    assert lease.startswith("14:") or lease == "15:00"  # the 15-minute lease, counting down
    # ID front and back side by side, every type's images large, masked snapshot.
    id_card = page.locator('section.type[data-type="id_card"] .viewer')
    assert id_card.count() == 2
    front, back = id_card.nth(0).bounding_box(), id_card.nth(1).bounding_box()
    assert abs(front["y"] - back["y"]) < 2 and back["x"] > front["x"] + front["width"] - 2
    assert front["width"] > 300
    snapshot = page.locator("[aria-labelledby=who-title] .snapshot").inner_text()
    assert "****" in snapshot and "138****" in snapshot
    # Zoom and rotate the view of the front; the stored file is not touched.
    first = id_card.nth(0)
    first.get_by_role("button", name="放大：", exact=False).click()  # not 放大镜
    first.get_by_role("button", name="放大：", exact=False).click()
    first.get_by_role("button", name="向右旋转", exact=False).click()
    assert float(first.get_attribute("data-zoom")) > 1.5 and first.get_attribute("data-turn") == "1"
    assert "清晰度" in first.locator("figcaption").inner_text()
    screenshot(page, output_dir, "02-case-zoomed")

    # Return two types, each with a coded reason; the candidate's text is previewed.
    page.get_by_label("退回「身份证明」").check()
    page.get_by_role("group", name="退回原因：身份证明").get_by_label("图片不清晰").check()
    page.get_by_label("退回「学历证书」").check()
    page.get_by_role("group", name="退回原因：学历证书").get_by_label("信息不一致").check()
    page.get_by_label("补充说明（可选）：学历证书").fill("姓名与报名信息不一致")
    preview = page.locator("[data-testid=preview-degree_certificate]").inner_text()
    assert preview.startswith("材料上的信息") and preview.endswith("审核员说明：姓名与报名信息不一致")
    default = (clock.beijing_today() + timedelta(days=7)).isoformat()  # the region sets no respond_days
    assert page.get_by_label("考生答复期限").input_value() == default
    page.locator(".case-side").evaluate("el => el.scrollTo(0, el.scrollHeight)")
    screenshot(page, output_dir, "03-return-form")
    page.get_by_role("button", name="退回所选材料").click()
    page.locator(".outcome", has_text="已退回修改").wait_for()
    assert page.get_by_role("button", name="下一个").is_visible()
    screenshot(page, output_dir, "04-returned")

    wait_for(lambda: api.package()["status"] == "returned", timeout=20, message="returned")
    candidate_page = browser.new_page(STAFF_DESKTOP)
    try:
        sign_in(candidate_page, system.url, MAIN)
        unlocked = candidate_page.locator("section.card .reason")
        assert unlocked.count() == 2
        assert card(candidate_page, "id_card").locator(".reason").inner_text().find("图片模糊") >= 0
        degree = card(candidate_page, "degree_certificate").locator(".reason").inner_text()
        assert preview in degree
        others = candidate_page.locator(
            "section.card:not([data-type=id_card]):not([data-type=degree_certificate])")
        assert others.count() >= 2 and others.locator("button.upload-btn").count() == 0
        screenshot(candidate_page, output_dir, "05-candidate-page")
    finally:
        candidate_page.context.close()


def test_a_rejection_needs_a_second_reviewer_never_the_first(system, packages, staff_page, output_dir):
    api, package_id = packages[REJECTED]
    first = staff_page()
    staff_sign_in(first, system.url, "reviewer.3204")
    first.goto(f"{system.url}/staff/#/case/{package_id}")
    first.locator("[data-testid=lease]").wait_for()
    first.get_by_text("审核不通过（须另一位审核员复核）").click()
    first.get_by_label("不通过原因（考生将看到）").fill("学历不符合报考条件")
    first.get_by_role("button", name="提出不通过").click()
    first.locator(".outcome", has_text="等待另一位审核员复核").wait_for()
    # The proposer opens it again: the confirmation is not theirs to give.
    first.goto(f"{system.url}/staff/#/queue")
    choose_filter(first, "状态", "confirming")
    queue_row(first, package_id).get_by_role("button", name="查看", exact=False).click()
    confirm = first.get_by_role("button", name="确认不通过")
    confirm.wait_for()
    assert confirm.is_disabled()
    screenshot(first, output_dir, "01-proposer-cannot-confirm")
    assert api.package()["status"] == "in_review"

    second = staff_page()
    staff_sign_in(second, system.url, "reviewer.32", start=f"/staff/#/case/{package_id}")
    second.get_by_text("reviewer.3204 提出").wait_for()
    second.get_by_role("button", name="确认不通过").click()
    dialog = second.get_by_role("dialog", name="确认不通过")  # the confirmation step (issue 28)
    dialog.wait_for()
    for box in dialog.get_by_role("checkbox").all():
        box.check()
    dialog.get_by_role("button", name="确认不通过").click()
    second.locator(".outcome", has_text="已确认不通过").wait_for()
    wait_for(lambda: api.package()["status"] == "rejected", timeout=20, message="rejected")
    assert api.package()["feedback"]["reason"] == "学历不符合报考条件"


def test_an_earlier_filters_late_answer_never_replaces_the_queue_of_the_filter_chosen_since(
        system, packages, staff_page):
    """CI on a loaded machine: the first page's answer came back after the filter's, and
    the queue showed the unfiltered page under the chosen filter."""
    _, nanjing = packages[NANJING]
    _, changzhou = packages[OTHER_3204]
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.32")
    queue_row(page, changzhou).wait_for()
    held = []

    def hold_the_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)  # answered only after the next request's answer is drawn

    page.route("**/rpc/review/list_queue", hold_the_first)
    with page.expect_request(lambda r: r.url.endswith("/rpc/review/list_queue")):
        page.get_by_label("考点", exact=True).select_option("3204")
    choose_filter(page, "考点", "3201")
    assert len(held) == 1
    queue_row(page, nanjing).wait_for()
    with page.expect_response(lambda r: r.url.endswith("/rpc/review/list_queue")):
        held[0].continue_()
    page.wait_for_timeout(500)  # for the late answer to be drawn, if it were
    assert queue_row(page, nanjing).count() == 1 and queue_row(page, changzhou).count() == 0


def test_a_3201_reviewer_never_sees_a_3204_package_in_the_queue_or_the_case(system, packages, staff_page,
                                                                          output_dir):
    _, nanjing = packages[NANJING]
    _, changzhou = packages[OTHER_3204]
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3201")
    queue_row(page, nanjing).wait_for()
    sites = page.locator("table.queue tbody tr td:nth-child(3)").all_inner_texts()
    assert sites and set(sites) == {"3201"}
    assert page.get_by_label("考点", exact=True).locator("option").all_inner_texts() == ["全部考点", "3201"]
    page.goto(f"{system.url}/staff/#/case/{changzhou}")
    page.get_by_text("无权审核该考点的材料").wait_for()
    assert page.locator(".viewer").count() == 0
    page.goto(f"{system.url}/staff/#/view/{changzhou}")
    page.get_by_text("无权审核该考点的材料").wait_for()
    assert page.locator(".viewer").count() == 0
    screenshot(page, output_dir, "01-refused")


def focused(page):
    return page.evaluate("() => { const e = document.activeElement; return e ? "
                         "(e.getAttribute('aria-label') || e.textContent || '').trim() : ''; }")


def test_one_case_is_reviewed_with_the_keyboard_alone(system, packages, staff_page, output_dir):
    api, package_id = packages[KEYS]
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3204")
    queue_row(page, package_id).wait_for()
    target = f"领取 {KEYS}"
    for _ in range(300):
        if focused(page).startswith(target):
            break
        page.keyboard.press("Tab")
    else:
        raise AssertionError("the claim button was never reached with Tab")
    page.keyboard.press("Enter")
    page.locator("[data-testid=lease]").wait_for()
    page.keyboard.press("j")
    viewers = page.locator(".viewer")
    assert page.evaluate("() => document.activeElement.classList.contains('viewer')")
    first_id = page.evaluate("() => document.activeElement.dataset.imageId")
    page.keyboard.press("+")
    page.keyboard.press("+")
    page.keyboard.press("r")
    active = page.locator(f'.viewer[data-image-id="{first_id}"]')
    assert float(active.get_attribute("data-zoom")) > 1.5 and active.get_attribute("data-turn") == "1"
    page.keyboard.press("j")
    assert page.evaluate("() => document.activeElement.dataset.imageId") != first_id
    page.keyboard.press("k")
    assert page.evaluate("() => document.activeElement.dataset.imageId") == first_id
    assert viewers.count() >= 5
    screenshot(page, output_dir, "01-keyboard-zoomed")
    page.keyboard.press("t")
    assert page.evaluate("() => document.activeElement.name") == "return"
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("a")  # the confirmation step: each flag ticked with Space, then Enter
    dialog = page.get_by_role("dialog", name="确认审核通过")
    dialog.wait_for()
    for _ in range(dialog.get_by_role("checkbox").count()):
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator(".outcome", has_text="已审核通过").wait_for()
    assert page.evaluate("() => document.activeElement.id") == "next-case"
    wait_for(lambda: api.package()["status"] == "approved", timeout=20, message="approved")
    with page.expect_response(lambda r: r.url.endswith("/rpc/review/list_queue")):
        page.keyboard.press("n")
    page.wait_for_function(f"() => !location.hash.endsWith('{package_id}')")
    screenshot(page, output_dir, "02-next-case")
    page.goto(f"{system.url}/staff/#/queue")  # leaving releases what "next" claimed


def test_no_staff_screen_has_serious_or_critical_accessibility_violations(system, packages, staff_page):
    _, package_id = packages[OTHER_3204]
    page = staff_page()
    page.goto(f"{system.url}/staff/")
    page.get_by_role("button", name="登录", exact=True).wait_for()
    found = {"sign-in": serious_violations(page)}
    staff_sign_in(page, system.url, "reviewer.3204")
    queue_row(page, package_id).wait_for()
    found["queue"] = serious_violations(page)
    open_case_from_queue(page, package_id)
    page.get_by_label("退回「身份证明」").check()
    found["case"] = serious_violations(page)
    page.goto(f"{system.url}/staff/#/queue")
    # Leaving the case released the claim: it is waiting again, not held by anyone.
    queue_row(page, package_id).wait_for()
    assert "审核中" not in queue_row(page, package_id).inner_text()
    assert {screen: v for screen, v in found.items() if v} == {}


@pytest.fixture
def short_lease(system):
    """review restarted with a lease of SHORT_LEASE_S seconds, and with the usual one after."""
    with system.restarted("review", REVIEW_LEASE_S=str(SHORT_LEASE_S)):
        yield SHORT_LEASE_S


def test_the_case_screen_renews_a_short_lease_while_the_reviewer_works_and_releases_it_on_leaving(
        system, admin, staff_page, short_lease, output_dir):
    assert create_candidates(system.standin, [candidate(LEASED, serial=946)])["created"] == 1
    api = Candidate(system, LEASED)
    api.fill_required()
    package_id = api.submit()["package_id"]
    page = staff_page()
    claims = []
    page.on("response", lambda r: claims.append(r.json()["result"]["claim"]["lease_until"])
            if r.url.endswith("/rpc/review/claim") and r.ok else None)
    staff_sign_in(page, system.url, "reviewer.3204")
    open_case_from_queue(page, package_id)
    assert len(claims) == 1
    # The reviewer keeps working (a key every second): with 2/3 of the lease left to run
    # out, the page claims again before the first lease is gone.
    for _ in range(short_lease):
        page.keyboard.press("j")
        page.wait_for_timeout(1000)
        if len(claims) > 1:
            break
    assert len(claims) == 2, "the lease was not renewed while the reviewer worked"
    assert claims[1] > claims[0]  # ISO times in UTC: later sorts after
    page.wait_for_timeout(1500)
    left = page.locator("[data-testid=lease]").inner_text()
    minutes, seconds = map(int, left.split(":"))
    assert short_lease * 2 / 3 - 3 < minutes * 60 + seconds <= short_lease, left
    held = admin.call("review", "list_queue", status="claimed", site="3204")["items"]
    assert package_id in [i["package_id"] for i in held]
    screenshot(page, output_dir, "01-renewed")
    with page.expect_response(lambda r: r.url.endswith("/rpc/review/release")) as released:
        page.goto(f"{system.url}/staff/#/queue")
    assert released.value.ok
    queue_row(page, package_id).wait_for()
    assert "审核中" not in queue_row(page, package_id).inner_text()
    held = admin.call("review", "list_queue", status="claimed", site="3204")["items"]
    assert package_id not in [i["package_id"] for i in held]
    assert [e["action"] for e in admin.call("review", "audit", package_id=package_id)
            if e["outcome"] == "ok" and e["action"] in ("claim", "release")] == ["claim", "claim", "release"]


def test_a_case_whose_id_card_was_read_shows_the_verdicts_in_the_side_panel(system, reader_on, admin, staff_page,
                                                                           output_dir):
    card = idcards.card(947)
    assert create_candidates(system.standin, [candidate(
        CARD_READ, serial=947, name=card.name, id_number=card.id_number)])["created"] == 1
    api = Candidate(system, CARD_READ)
    for side in ("front", "back"):
        assert api.upload("id_card", idcards.photo_jpeg(card, side)).status_code == 201
    for n, (material_type, count) in enumerate(REQUIRED[1:]):
        for i in range(count):
            assert api.upload(material_type, document_jpeg(seed=947 + n * 2 + i)).status_code == 201
    package_id = api.submit()["package_id"]
    reviewer = RpcClient(system.url)
    reviewer.staff_login("reviewer.3204", "Review@2026")

    def read():  # review's OCR worker reads both sides off the upload path, then auth compares
        found = reviewer.call("review", "list_queue", limit=200)["items"]
        item = next((i for i in found if i["package_id"] == package_id), None)
        return item if item and (item["id_check"] or {}).get("images") == 2 else None
    item = wait_for(read, timeout=240, interval=1, message="the ID card cross-check")
    assert item["id_check"]["id_number"] == "match" and item["id_check"]["name"] == "match"
    assert item["id_flags"] == []

    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3204")
    assert queue_row(page, package_id).locator("[data-testid=id-flag]").count() == 0
    open_case_from_queue(page, package_id)
    panel = page.locator("[data-testid=id-check]")
    panel.get_by_role("heading", name="证件自动核验").wait_for()
    facts = dict(zip(panel.locator("dt").all_inner_texts(), panel.locator("dd").all_inner_texts()))
    assert facts["证件号码"] == "与报名信息一致" and facts["姓名"] == "与报名信息一致"
    check = item["id_check"]  # the expiry as read (OCR may miss it): shown as the service gives it
    assert facts["有效期至"] == ("长期" if check["long_term"] else check["expires"] or "未识别")
    assert facts["考试时是否过期"] == {True: "已过期", False: "未过期", None: "未识别"}[check["expired"]]
    assert facts["识别"].startswith(item["id_check"]["engine"]) and "置信度" in facts["识别"]
    assert card.id_number not in panel.inner_text()  # verdicts only, never the number read
    panel.scroll_into_view_if_needed()
    screenshot(page, output_dir, "01-id-check-panel")
    assert serious_violations(page) == {}
    page.goto(f"{system.url}/staff/#/queue")  # leaving releases the claim
