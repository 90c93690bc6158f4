"""The staff workspace's second pass (issue 28) in Debian's Chromium against the whole
system: decisions take a confirmation step that lists the package's flags (each
acknowledged), and are held a few seconds so that they can be undone; the previous
attempt's images stay visible after the candidate deleted them; the queue refreshes by
itself, is searchable and lists the reviewer's own claims; the case screen's order,
focus, landmarks, names and rotation; a package someone else holds opens read-only;
staff buttons are 44 px tall. Every new state is screenshotted at 1366x768 under
test-output/<test name>/ and audited with axe-core.

Candidates 2026320400501 ... 2026320400540 are imported here for these tests only."""
import pytest

from common.rpc_client import RpcClient
from staff_helpers import queue_row, screenshot, serious_violations, staff_sign_in
from support import Candidate, candidate, create_candidates, wait_for
from unit.imagefactory import document_jpeg

SAFE, REJECTING, RESUBMITTED, CASE, HELD, BUTTONS, TOOLS, BEYOND = (
    "2026320400501", "2026320400502", "2026320400503", "2026320400504", "2026320400505", "2026320400506",
    "2026320400507", "2026320400508")


def number_serial(number):
    return int(number[-3:])


@pytest.fixture(scope="module")
def packages(system, admin):
    """{number: (candidate API, package_id)}: imported, every required type uploaded, submitted."""
    numbers = (SAFE, REJECTING, RESUBMITTED, CASE, HELD, BUTTONS, TOOLS, BEYOND)
    records = [candidate(n, serial=number_serial(n)) for n in numbers]
    assert create_candidates(system.standin, records)["created"] == len(records)
    found = {}
    for number in numbers:
        api = Candidate(system, number)
        api.fill_required()
        found[number] = (api, api.submit()["package_id"])
    return found


def reviewer_client(system, username):
    client = RpcClient(system.url)
    client.staff_login(username, "Review@2026")
    return client


def open_case(page, system, package_id):
    page.goto(f"{system.url}/staff/#/case/{package_id}")
    page.locator("[data-testid=lease]").wait_for()
    page.wait_for_function("() => [...document.querySelectorAll('.viewer img')]"
                           ".every(img => img.complete && img.naturalWidth > 0)")


def audit_entries(admin, package_id, action):
    return [e for e in admin.call("review", "audit", package_id=package_id)
            if e["action"] == action and e["outcome"] == "ok"]


# -- defect 1: one key approves ----------------------------------------------------------------
def test_approving_asks_for_a_confirmation_listing_each_flag_to_acknowledge_and_can_be_undone(
        system, admin, packages, staff_page, output_dir):
    api, package_id = packages[SAFE]
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3204")
    open_case(page, system, package_id)
    page.locator(".viewer").first.focus()
    page.keyboard.press("a")
    dialog = page.get_by_role("dialog", name="确认审核通过")
    dialog.wait_for()
    flags = dialog.get_by_role("checkbox")
    assert flags.count() >= 1 and "疑似重复图片" in dialog.inner_text()  # every package here shares images
    screenshot(page, output_dir, "01-approve-confirmation")
    assert serious_violations(page) == {}

    page.keyboard.press("Escape")  # cancels: nothing decided
    dialog.wait_for(state="hidden")
    assert page.locator(".outcome").inner_text() == ""
    assert package_id in [i["package_id"] for i in
                          admin.call("review", "list_queue", status="claimed", site="3204")["items"]]

    page.keyboard.press("a")
    dialog.wait_for()
    page.keyboard.press("Enter")  # not every flag acknowledged yet: refused, still open
    dialog.get_by_text("请先逐项确认").wait_for()
    assert dialog.is_visible()
    labels = [flags.nth(i).evaluate("el => el.labels[0].textContent.trim()") for i in range(flags.count())]
    for i in range(flags.count()):
        flags.nth(i).check()
    page.keyboard.press("Enter")
    dialog.wait_for(state="hidden")
    undo = page.get_by_role("button", name="撤销")
    undo.wait_for()
    assert "已审核通过" in page.locator(".outcome").inner_text()
    screenshot(page, output_dir, "02-approved-undo-window")
    assert serious_violations(page) == {}
    undo.click()
    page.locator(".outcome", has_text="已撤销").wait_for()
    page.get_by_role("button", name="审核通过").wait_for()  # the decision panel is back, the claim too
    screenshot(page, output_dir, "03-undone")
    approve = audit_entries(admin, package_id, "approve")[0]
    assert approve["details"]["acknowledged"] == labels
    assert "疑似重复图片" in approve["details"]["flags"]
    assert audit_entries(admin, package_id, "undo")
    assert api.package()["status"] == "in_review"

    # Decided again: once the window closes the candidate hears of it.
    page.get_by_role("button", name="审核通过").click()
    dialog.wait_for()
    for i in range(flags.count()):
        flags.nth(i).check()
    dialog.get_by_role("button", name="确认通过").click()
    page.locator(".outcome", has_text="已通知考生").wait_for(timeout=20_000)
    assert page.get_by_role("button", name="撤销").count() == 0
    wait_for(lambda: api.package()["status"] == "approved", timeout=20, message="approved")
    screenshot(page, output_dir, "04-approved-sent")


def test_confirming_a_rejection_asks_for_a_confirmation_with_the_proposal_and_esc_cancels(
        system, admin, packages, staff_page, output_dir):
    api, package_id = packages[REJECTING]
    proposer = reviewer_client(system, "reviewer.3204")
    proposer.call("review", "claim", package_id=package_id)
    proposer.call("review", "reject", package_id=package_id, reason="学历不符合报考条件")
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.32", start=f"/staff/#/case/{package_id}")
    page.get_by_role("button", name="确认不通过").click()
    dialog = page.get_by_role("dialog", name="确认不通过")
    dialog.wait_for()
    assert "学历不符合报考条件" in dialog.inner_text() and "疑似重复图片" in dialog.inner_text()
    screenshot(page, output_dir, "01-confirm-rejection")
    assert serious_violations(page) == {}
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    page.get_by_role("button", name="确认不通过").click()
    dialog.wait_for()
    for box in dialog.get_by_role("checkbox").all():
        box.check()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="撤销").wait_for()
    assert "已确认不通过" in page.locator(".outcome").inner_text()
    page.locator(".outcome", has_text="已通知考生").wait_for(timeout=20_000)
    wait_for(lambda: api.package()["status"] == "rejected", timeout=20, message="rejected")
    confirm = audit_entries(admin, package_id, "confirm_reject")[0]
    assert "疑似重复图片" in confirm["details"]["acknowledged"]


# -- defect 2: the previous attempt's image after the candidate deleted it --------------------------
def test_the_returned_image_the_candidate_deleted_still_shows_beside_the_new_one(
        system, packages, staff_page, output_dir):
    api, package_id = packages[RESUBMITTED]
    reviewer = reviewer_client(system, "reviewer.3204")
    reviewer.call("review", "claim", package_id=package_id)
    reviewer.call("review", "return_materials", package_id=package_id,
                  items=[{"material_type": "degree_certificate", "reason": "unclear"}])
    wait_for(lambda: api.package()["status"] == "returned", timeout=20, message="returned")
    old = api.item("degree_certificate")["images"][0]["image_id"]
    assert api.call("DELETE", f"/package/items/degree_certificate/images/{old}").status_code == 204
    assert api.upload("degree_certificate", document_jpeg(seed=503)).status_code == 201
    api.submit()
    wait_for(lambda: reviewer.call("review", "get_case", package_id=package_id)["attempt"] == 2,
             timeout=20, message="attempt 2 queued")
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3204")
    open_case(page, system, package_id)  # every image, the previous one included, has loaded
    before = page.locator('section.type[data-type="degree_certificate"] .before')
    before.locator(f'img[data-image="{old}"]').wait_for()
    assert before.locator("[data-testid=deleted-by-candidate]").inner_text() == "考生已删除（审核结束前保留）"
    before.scroll_into_view_if_needed()
    screenshot(page, output_dir, "01-previous-image-kept")
    assert serious_violations(page) == {}


# -- defect 3: the queue is stale and cannot be searched ------------------------------------------
NANJING = ("2026320100511", "2026320100512", "2026320100513")  # site 3201: a short queue


def submitted(system, admin, number, site):
    assert create_candidates(system.standin, [
        candidate(number, site=site, serial=number_serial(number))])["created"] == 1
    api = Candidate(system, number)
    api.fill_required()
    return api, api.submit()["package_id"]


def test_the_queue_refreshes_by_itself_and_finds_by_number_name_or_id_number_and_lists_my_claims(
        system, admin, staff_page, output_dir):
    first, second, late = NANJING
    _, one = submitted(system, admin, first, "3201")
    _, two = submitted(system, admin, second, "3201")
    page = staff_page()
    rpc_calls = []
    page.on("request", lambda r: rpc_calls.append((r.url, r.post_data or "")) if "/rpc/" in r.url else None)
    page.clock.install()  # the page's own timers, so its 20 s refresh need not be waited out
    staff_sign_in(page, system.url, "reviewer.3201")
    queue_row(page, two).wait_for()
    assert "自动刷新" in page.locator("[data-testid=refresh-state]").inner_text()
    pending = page.locator("[data-status=pending] strong")
    before = int(pending.inner_text())

    # Submitted while the queue is open: it appears by itself, and is counted.
    _, late_id = submitted(system, admin, late, "3201")
    wait_for(lambda: late_id in [i["package_id"] for i in reviewer_client(system, "reviewer.3201").call(
        "review", "list_queue", site="3201", limit=200)["items"]], timeout=20, message="queued")
    assert queue_row(page, late_id).count() == 0      # not yet on the open page ...
    page.clock.fast_forward(20_000)                   # ... until its refresh comes round
    queue_row(page, late_id).wait_for(timeout=15_000)
    page.wait_for_function("(n) => Number(document.querySelector('[data-status=pending] strong').textContent) === n",
                           arg=before + 1, timeout=15_000)
    screenshot(page, output_dir, "01-refreshed-by-itself")

    # My claims: two taken in another window show under 我认领的 at the next refresh.
    reviewer = reviewer_client(system, "reviewer.3201")
    reviewer.call("review", "claim", package_id=one)
    reviewer.call("review", "claim", package_id=two)
    page.get_by_role("button", name="立即刷新").click()
    claims = page.locator("[data-testid=my-claims]")
    claims.get_by_role("heading", name="我认领的（2）").wait_for()
    assert claims.locator(f'tr[data-package="{one}"]').count() == 1
    screenshot(page, output_dir, "02-my-claims")
    assert serious_violations(page) == {}

    # Search: by 报名号, by name, by the full ID number (sent in the body, never shown).
    search = page.get_by_label("查找材料包")
    for query in (late, f"考生{number_serial(late)}"):
        search.fill(query)
        with page.expect_response(lambda r: r.url.endswith("/rpc/review/search_cases")):
            search.press("Enter")
        results = page.locator("[data-testid=search-results]")
        results.locator(f'tr[data-package="{late_id}"]').wait_for()
        assert results.locator("tbody tr").count() == 1
    screenshot(page, output_dir, "03-search-by-name")
    from support import id_number
    number = id_number("320100", number_serial(late))
    rpc_calls.clear()
    search.fill(number)
    with page.expect_response(lambda r: r.url.endswith("/rpc/review/search_cases")):
        search.press("Enter")
    page.locator("[data-testid=search-results]").locator(f'tr[data-package="{late_id}"]').wait_for()
    assert search.input_value() == ""  # not left on the screen
    assert number not in page.inner_text("body") and number not in page.url
    sent = [(url, body) for url, body in rpc_calls if url.endswith("/rpc/review/search_cases")]
    assert sent and all(number not in url for url, _ in rpc_calls) and number in sent[0][1]
    screenshot(page, output_dir, "04-search-by-id-number")
    assert serious_violations(page) == {}
    page.get_by_role("button", name="清除查找").click()
    queue_row(page, late_id).wait_for()
    reviewer.call("review", "release", package_id=one)
    reviewer.call("review", "release", package_id=two)


# -- defect 5: the case screen ----------------------------------------------------------------------
def focused_text(page):
    return page.evaluate("() => { const e = document.activeElement; return e ? "
                         "(e.getAttribute('aria-label') || e.textContent || '').trim() : ''; }")


def inside(inner, outer, slack=1.5):
    return (inner["x"] >= outer["x"] - slack and inner["y"] >= outer["y"] - slack
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack)


def test_the_case_screen_follows_the_catalogue_focuses_the_first_image_and_reaches_the_decision_in_two_keys(
        system, packages, staff_page, output_dir):
    api, package_id = packages[CASE]
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3204")
    open_case(page, system, package_id)
    types = page.locator("section.type").evaluate_all("els => els.map(e => e.dataset.type)")
    assert types == ["id_card", "degree_certificate", "probation_certificate", "registration_form"]
    viewers = page.locator(".viewer")
    ids = viewers.evaluate_all("els => els.map(e => e.dataset.imageId)")
    assert page.evaluate("() => document.activeElement.dataset.imageId") == ids[0]  # the first image
    page.keyboard.press("j")
    assert page.evaluate("() => document.activeElement.dataset.imageId") == ids[1]  # then the second
    page.keyboard.press("k")

    # A landscape scan rotated at normal zoom still fits its stage.
    front = viewers.first
    page.keyboard.press("r")
    page.wait_for_timeout(200)  # the view's transition
    assert front.get_attribute("data-turn") == "1"
    assert inside(front.locator("img").bounding_box(), front.locator(".stage").bounding_box())
    screenshot(page, output_dir, "01-rotated-fits")
    page.keyboard.press("0")

    # From the first image to 审核通过: back to the skip link, then Enter.
    page.keyboard.press("Shift+Tab")
    assert focused_text(page) == "跳到审核结论"
    page.keyboard.press("Enter")
    assert focused_text(page).startswith("审核通过")
    assert page.get_by_role("region", name="审核结论").count() == 1

    # The side panel: the category and the site by name, the status as it changes.
    panel = page.locator("[aria-labelledby=who-title] .snapshot")

    def facts():
        return dict(zip(panel.locator("dt").all_inner_texts(), panel.locator("dd").all_inner_texts()))
    assert facts()["考试类别"] == "中西医结合执业医师" and facts()["考点"] == "3204 常州"
    assert facts()["状态"] == "审核中"
    screenshot(page, output_dir, "02-side-panel-names")
    assert serious_violations(page) == {}
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="确认审核通过")
    dialog.wait_for()
    for box in dialog.get_by_role("checkbox").all():
        box.check()
    page.keyboard.press("Enter")
    page.locator(".outcome", has_text="已审核通过").wait_for()
    assert facts()["状态"] == "审核通过"
    screenshot(page, output_dir, "03-approved-side-panel")


# -- defect 6: a package held by someone else -------------------------------------------------------
def test_a_package_another_reviewer_holds_opens_read_only_saying_who_holds_it_until_when(
        system, packages, staff_page, output_dir):
    from common.clock import beijing_wall
    _, package_id = packages[HELD]
    other = reviewer_client(system, "reviewer.32")
    lease_until = other.call("review", "claim", package_id=package_id)["claim"]["lease_until"]
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3204")
    page.goto(f"{system.url}/staff/#/case/{package_id}")
    held = page.get_by_test_id("held-by-other")
    held.wait_for()
    assert "reviewer.32" in held.inner_text()
    assert beijing_wall(lease_until).strftime("%H:%M") in held.inner_text()
    page.wait_for_function("() => document.querySelectorAll('.viewer img').length >= 5 && "
                           "[...document.querySelectorAll('.viewer img')].every(i => i.complete && i.naturalWidth > 0)")
    assert page.get_by_role("button", name="审核通过").count() == 0
    assert page.locator(".alert.error").count() == 0
    assert held.get_by_role("link", name="返回队列").count() == 1
    screenshot(page, output_dir, "01-held-by-other")
    assert serious_violations(page) == {}
    # Once the other reviewer lets go, one click takes it over.
    other.call("review", "release", package_id=package_id)
    held.get_by_role("button", name="重新领取").click()
    page.locator("[data-testid=lease]").wait_for()
    page.get_by_role("button", name="审核通过").wait_for()
    page.goto(f"{system.url}/staff/#/queue")  # leaving releases it


# -- defect 8: staff buttons are 34 px tall ----------------------------------------------------------
SHORT_BUTTONS = """() => [...document.querySelectorAll('button, a.btn, summary')]
    .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
    .map((el) => [(el.getAttribute('aria-label') || el.textContent).trim().slice(0, 30),
                  Math.round(el.getBoundingClientRect().height * 10) / 10])
    .filter(([, height]) => height < 44)"""


def test_every_staff_button_is_at_least_44_px_tall_as_on_the_candidates_page(system, packages, staff_page):
    _, package_id = packages[BUTTONS]
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3204")
    queue_row(page, package_id).wait_for()
    assert page.evaluate(SHORT_BUTTONS) == []
    open_case(page, system, package_id)
    page.get_by_text("审核不通过（须另一位审核员复核）").click()
    assert page.evaluate(SHORT_BUTTONS) == []
    page.keyboard.press("a")
    page.get_by_role("dialog", name="确认审核通过").wait_for()
    assert page.evaluate(SHORT_BUTTONS) == []
    page.keyboard.press("Escape")
    page.goto(f"{system.url}/staff/#/queue")


# -- beyond the anchors: viewing tools ---------------------------------------------------------------
def test_the_viewing_tools_adjust_magnify_fill_the_screen_and_a_strip_shows_every_image(
        system, packages, staff_page, output_dir):
    _, package_id = packages[TOOLS]
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3204")
    open_case(page, system, package_id)
    viewers = page.locator(".viewer")
    ids = viewers.evaluate_all("els => els.map(e => e.dataset.imageId)")
    strip = page.get_by_role("navigation", name="全部图片")
    thumbs = strip.get_by_role("button")
    assert thumbs.count() == len(ids) == 5
    thumbs.nth(3).click()
    assert page.evaluate("() => document.activeElement.dataset.imageId") == ids[3]

    first = viewers.first
    first.get_by_role("button", name="亮度和对比度", exact=False).click()
    first.get_by_role("slider", name="亮度").fill("1.5")
    first.get_by_role("slider", name="对比度").fill("1.8")
    image = first.locator("img")
    assert image.evaluate("i => i.style.filter") == "brightness(1.5) contrast(1.8)"
    screenshot(page, output_dir, "01-brightness-contrast")
    assert serious_violations(page) == {}

    first.get_by_role("button", name="放大镜", exact=False).click()
    image.evaluate("i => i.scrollIntoView({block: 'center'})")
    box = image.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3)
    lens = first.get_by_test_id("lens")
    lens.wait_for()
    assert image.get_attribute("src") in lens.evaluate("l => l.style.backgroundImage")
    screenshot(page, output_dir, "02-magnifier")
    first.get_by_role("button", name="放大镜", exact=False).click()

    first.get_by_role("button", name="全屏查看", exact=False).click()
    page.wait_for_function("() => document.fullscreenElement && document.fullscreenElement.classList.contains('viewer')")
    screenshot(page, output_dir, "03-full-screen")
    first.get_by_role("button", name="全屏查看", exact=False).click()
    page.wait_for_function("() => !document.fullscreenElement")
    page.goto(f"{system.url}/staff/#/queue")


# -- beyond the anchors: the checklist, internal notes, one image returned with two reasons ---------
@pytest.fixture
def region_checklists(admin):
    """Region 32 with a checklist for ID proofs, as it was after the test."""
    from test_staff_admin import SETTINGS
    before = admin.call("materials", "get_region", region="32")
    config = {k: before[k] for k in SETTINGS}
    admin.call("materials", "configure_region", region="32", config=dict(
        config, checklists={"id_card": ["姓名与报名信息一致", "证件在有效期内"]}))
    yield
    admin.call("materials", "configure_region", region="32", config=config)


def test_a_reviewer_ticks_the_checklist_leaves_a_note_and_returns_one_image_with_two_reasons(
        system, admin, packages, staff_page, output_dir, region_checklists):
    import json
    api, package_id = packages[BEYOND]
    # review keeps a region's settings a minute (services/review/regions.py)
    reviewer = reviewer_client(system, "reviewer.3204")
    wait_for(lambda: reviewer.call("review", "get_case", package_id=package_id)["checklists"], timeout=75,
             interval=2, message="the region's checklist reaching review")
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3204")
    open_case(page, system, package_id)
    checks = page.get_by_role("group", name="核对清单：身份证明")
    checks.get_by_label("姓名与报名信息一致").check()
    assert checks.get_by_role("checkbox").count() == 2

    note = "背面疑似翻拍，请第二位审核员留意"
    page.get_by_label("添加内部备注").fill(note)
    with page.expect_response(lambda r: r.url.endswith("/rpc/review/add_note")):
        page.get_by_role("button", name="添加备注").click()
    page.get_by_test_id("notes").get_by_text(note).wait_for()

    page.get_by_label("退回「身份证明」").check()
    reasons = page.get_by_role("group", name="退回原因：身份证明")
    reasons.get_by_label("图片不清晰").check()
    reasons.get_by_label("材料不完整").check()
    page.get_by_role("group", name="只退回部分图片：身份证明").get_by_label("第2张").check()
    preview = page.get_by_test_id("preview-id_card").inner_text()
    assert "图片模糊" in preview and "材料不完整" in preview and preview.endswith("需重新上传：第2张（共2张）")
    page.locator(".case-side").evaluate("el => el.scrollTo(0, 0)")
    screenshot(page, output_dir, "01-checklist-note-return")
    assert serious_violations(page) == {}
    page.get_by_role("button", name="退回所选材料").click()
    page.locator(".outcome", has_text="已退回修改").wait_for()

    wait_for(lambda: api.package()["status"] == "returned", timeout=20, message="returned")
    item = api.item("id_card")
    assert [i["locked"] for i in item["images"]] == [True, False]  # only the back is to be replaced
    assert item["reason"] == preview
    assert note not in json.dumps(api.package(), ensure_ascii=False)
    [entry] = [e for e in admin.call("review", "audit", package_id=package_id) if e["action"] == "return"]
    assert entry["details"]["checklist"]["id_card"] == [{"item": "姓名与报名信息一致", "checked": True},
                                                         {"item": "证件在有效期内", "checked": False}]
    assert [e["action"] for e in admin.call("review", "audit", package_id=package_id)].count("note") == 1
