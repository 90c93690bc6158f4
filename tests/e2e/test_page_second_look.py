"""The candidate's page, second look (issue 29), in Chromium against the whole system: a
phone in portrait, guidance by return reason, an identical re-upload, banners that say
what to do, tap targets, upload progress, the respond-by countdown and the site's
typical review time. Every page state here is audited with axe-core at 390×844 and
1366×768.

Candidates of their own, imported here: 2026320402001 ... 2026320402020 (site 3204) and
2026320102001 ... 2026320102006 (site 3201)."""
import re
from datetime import timedelta

import pytest

from common import clock
from page_helpers import (assert_accessible, card, choose, consent_on_page, shot, sign_in, upload, wait_count,
                          wait_thumbnails)
from support import Candidate, candidate, create_candidates, return_by_reviewer, rpc, staff_token, wait_for, wait_until_queued
from unit.imagefactory import document_jpeg

PHONE_390 = {"width": 390, "height": 844}
PHONE_360 = {"width": 360, "height": 640}
DESKTOP_1366 = {"width": 1366, "height": 768}
FIRST = 2026320402001


def number(n):
    return str(FIRST + n)


def nanjing(n):
    """Candidate `n` of site 3201, whose review times no other test of this module makes."""
    return str(2026320102001 + n)


@pytest.fixture(scope="module")
def people(system):
    """This module's candidates, made once at the registration system's stand-in."""
    records = [candidate(number(n), serial=200 + n) for n in range(20)]
    records += [candidate(nanjing(n), site="3201", serial=230 + n) for n in range(6)]
    summary = create_candidates(system.standin, records)
    assert not summary["errors"], summary
    return {r["registration_number"]: r for r in records}


def assert_accessible_at_both_sizes(page, output_dir, name):
    """axe on the state as it is, at 390×844 and at 1366×768 (a screenshot of each), then
    back at the size the test uses."""
    used = page.viewport_size
    for size, label in ((PHONE_390, "390"), (DESKTOP_1366, "1366")):
        page.set_viewport_size(size)
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        shot(page, output_dir, f"{name}-{label}", full_page=False)
        assert_accessible(page, output_dir, f"{name}-{label}")
    page.set_viewport_size(used)


def returned_package(system, n, items, respond_by=None):
    """Candidate `n`'s package filled, submitted and returned by the site's reviewer over
    RPC with `items` ([{"material_type", "reason"}]); the candidate's API handle."""
    api = Candidate(system, number(n))
    api.fill_required()
    return_by_reviewer(system, api.submit()["package_id"], items, respond_by=respond_by)
    wait_for(lambda: api.package()["status"] == "returned", timeout=20, message="returned")
    return api


def scan(tmp_path, seed, **options):
    """A scan of a page of its own (the seed), as a file to choose."""
    path = tmp_path / f"scan-{seed}.jpg"
    path.write_bytes(document_jpeg(seed=seed, **options))
    return path


def fully_visible(locator):
    """Whether the element lies wholly inside the viewport and is what a tap on its
    centre would hit (nothing drawn over it)."""
    return locator.evaluate("""el => { const r = el.getBoundingClientRect();
        if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return false;
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return hit === el || el.contains(hit); }""")


# -- 1. the dialog's actions stay on screen ---------------------------------------------------------
@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """Portrait and landscape scans, each small enough to send as it is (the preview) and
    too large (the in-browser fix)."""
    folder = tmp_path_factory.mktemp("documents")
    made = {}
    for shape, size in (("portrait", (1240, 1754)), ("landscape", (1754, 1240))):
        for kind, target in (("preview", 190_000), ("fix", None)):
            path = folder / f"{shape}-{kind}.jpg"
            path.write_bytes(document_jpeg(*size, target_bytes=target, seed=len(made) + 40))
            made[(shape, kind)] = path
    return made


@pytest.mark.parametrize("viewport", [PHONE_390, PHONE_360], ids=["390x844", "360x640"])
def test_the_upload_dialog_s_buttons_stay_on_screen_on_a_phone_for_portrait_and_landscape_files(
        system, people, open_page, documents, output_dir, viewport):
    page = open_page(viewport)
    sign_in(page, system.url, number(0 if viewport is PHONE_390 else 1))
    consent_on_page(page)
    dialog = page.locator("dialog[open]")
    for shape in ("portrait", "landscape"):
        choose(page, "degree_certificate", documents[(shape, "preview")])
        send = dialog.locator("[data-role=confirm-upload]")
        send.wait_for()
        dialog.locator("img.preview").evaluate("img => img.decode()")
        shot(page, output_dir, f"{shape}-preview", full_page=False)
        assert fully_visible(send), f"提交 off screen for a {shape} file"
        assert page.evaluate("() => document.activeElement.dataset.role") == "confirm-upload"
        for other in ("choose-again",):
            assert fully_visible(dialog.locator(f"[data-role={other}]"))
        assert_accessible_at_both_sizes(page, output_dir, f"{shape}-preview")
        page.keyboard.press("Escape")
        dialog.wait_for(state="detached")

        choose(page, "degree_certificate", documents[(shape, "fix")])
        accept = dialog.locator("[data-role=accept-fix]")
        accept.wait_for(timeout=30_000)
        dialog.locator("img.fix-preview").evaluate("img => img.decode()")
        shot(page, output_dir, f"{shape}-fix", full_page=False)
        assert fully_visible(accept), f"使用处理后的图片上传 off screen for a {shape} file"
        assert_accessible_at_both_sizes(page, output_dir, f"{shape}-fix")
        page.keyboard.press("Escape")
        dialog.wait_for(state="detached")
    assert card(page, "degree_certificate").locator("[data-testid=count]").inner_text() == "0/3"


# -- 2. what to do about a return follows its reason ---------------------------------------------------
def test_a_returned_card_says_what_to_do_for_its_reason_and_a_missing_page_is_simply_added(
        system, people, open_page, tmp_path, output_dir):
    api = returned_package(system, 2, [
        {"material_type": "id_card", "reason": "mismatch"},
        {"material_type": "degree_certificate", "reason": "incomplete"},
        {"material_type": "probation_certificate", "reason": "unclear"},
        {"material_type": "registration_form", "reason": "wrong_document"}])
    codes = {i["material_type"]: i["reason_code"] for i in api.package()["items"] if i["returned"]}
    assert codes == {"id_card": "mismatch", "degree_certificate": "incomplete",
                     "probation_certificate": "unclear", "registration_form": "wrong_document"}

    page = open_page(PHONE_390)
    sign_in(page, system.url, number(2))
    wait_thumbnails(page)

    def guidance(material_type):
        return card(page, material_type).locator(".guidance").inner_text()

    missing_page = guidance("degree_certificate")
    assert "补充上传" in missing_page and "缺少的页" in missing_page
    assert "删除" not in missing_page                  # what it has may stay
    assert "重新拍摄或扫描" in guidance("probation_certificate")
    assert "删除模糊的图片" in guidance("probation_certificate")
    assert "正确的材料" in guidance("registration_form") and "示例" in guidance("registration_form")
    mismatch = guidance("id_card")
    assert "与报名信息一致" in mismatch and "025-8000 0000" in mismatch   # the region's contact
    shot(page, output_dir, "01-guidance-by-reason")
    assert_accessible_at_both_sizes(page, output_dir, "guidance-by-reason")

    # Submitting before any change: the refusal says the same, type by type.
    page.get_by_role("button", name="提交审核").click()
    refusal = page.locator("#submit-error")
    refusal.wait_for()
    degree_entry = refusal.locator("li", has_text="学历证书").inner_text()
    assert "补充上传" in degree_entry and "删除" not in degree_entry
    assert "重新拍摄或扫描" in refusal.locator("li", has_text="试用期考核证明").inner_text()
    assert_accessible_at_both_sizes(page, output_dir, "guidance-refused")

    # Adding page 2 is the fix, and it is accepted as one.
    upload(page, "degree_certificate", scan(tmp_path, 61))
    wait_count(page, "degree_certificate", "2/3")
    degree = card(page, "degree_certificate")
    assert degree.locator(".tag.replaced").is_visible()
    assert "degree_certificate" not in {m["material_type"] for m in api.package()["to_fix"]}
    for material_type, seed in (("id_card", 62), ("probation_certificate", 64),
                                ("registration_form", 65)):
        for image in api.item(material_type)["images"]:
            assert api.call("DELETE", f"/package/items/{material_type}/images/{image['image_id']}").status_code == 204
        for extra in range(2 if material_type == "id_card" else 1):
            assert api.upload(material_type, document_jpeg(seed=seed * 10 + extra)).status_code == 201
    page.reload()
    page.locator("#progress").filter(has_text="可以提交审核").wait_for()
    assert api.package()["can_submit"]


# -- 3. the returned picture sent again -----------------------------------------------------------------
def test_the_returned_picture_uploaded_again_is_flagged_on_its_card_and_refused_at_submit(
        system, people, open_page, tmp_path, output_dir):
    api = returned_package(system, 3, [{"material_type": "registration_form", "reason": "unclear"}])
    [returned] = api.item("registration_form")["images"]
    same = tmp_path / "the-same-scan.jpg"                      # what the candidate kept on the phone
    same.write_bytes(api.call("GET", returned["url"].removeprefix("/api/v1")).content)

    page = open_page(PHONE_390)
    sign_in(page, system.url, number(3))
    form = card(page, "registration_form")
    form.get_by_role("button", name="删除医师资格考试报名/审核表第1张").click()
    page.locator("dialog[open] [data-role=confirm-delete]").click()
    wait_count(page, "registration_form", "0/4")
    upload(page, "registration_form", same)
    wait_count(page, "registration_form", "1/4")
    # Told on the card as soon as it is stored, before any submit.
    warning = form.locator(".same-as-returned")
    warning.wait_for()
    assert "与被退回的图片相同" in warning.inner_text() and "重新拍摄或扫描" in warning.inner_text()
    assert form.locator(".thumb .tag.same").inner_text() == "与退回的相同"
    assert form.locator(".tag.to-fix").is_visible() and form.locator(".tag.replaced").count() == 0
    assert "还需补正：医师资格考试报名/审核表" in page.locator("#progress").inner_text()
    wait_thumbnails(page)
    shot(page, output_dir, "01-same-as-returned")
    assert_accessible_at_both_sizes(page, output_dir, "same-as-returned")

    page.get_by_role("button", name="提交审核").click()
    refusal = page.locator("#submit-error")
    refusal.wait_for()
    assert "与被退回的图片相同" in refusal.inner_text() and "医师资格考试报名/审核表" in refusal.inner_text()
    assert api.package()["status"] == "returned" and api.package()["attempt"] == 1
    assert_accessible_at_both_sizes(page, output_dir, "same-as-returned-refused")

    # A new scan of the page replaces it: the warning goes, the page may be submitted.
    form.locator(".thumb-delete").click()
    page.locator("dialog[open] [data-role=confirm-delete]").click()
    wait_count(page, "registration_form", "0/4")
    upload(page, "registration_form", scan(tmp_path, 66))
    wait_count(page, "registration_form", "1/4")
    assert form.locator(".same-as-returned, .thumb .tag.same").count() == 0
    assert form.locator(".tag.replaced").is_visible()
    page.locator("#progress").filter(has_text="可以提交审核").wait_for()


# -- 4. banners that say what to do ----------------------------------------------------------------------
def decided_package(system, n, decision):
    """Candidate `n`'s package submitted, then approved, or rejected by one reviewer of the
    site and confirmed by a second (four eyes)."""
    api = Candidate(system, number(n))
    api.fill_required()
    package_id = api.submit()["package_id"]
    with rpc(system.config, staff_token(system.config, "reviewer.3204", "Review@2026")) as proxy:
        wait_until_queued(proxy, package_id, timeout=20)
        proxy.review.claim(package_id)
        if decision == "approved":
            proxy.review.approve(package_id)
        else:
            proxy.review.reject(package_id, "学历不符合本类别报考条件")
    if decision == "rejected":
        with rpc(system.config, staff_token(system.config, "reviewer.32", "Review@2026")) as proxy:
            proxy.review.confirm_reject(package_id)
    wait_for(lambda: api.package()["status"] == decision, timeout=20, message=decision)
    return api


@pytest.mark.parametrize("viewport", [PHONE_390, DESKTOP_1366], ids=["390x844", "1366x768"])
def test_a_rejection_names_whom_to_contact_and_a_decided_page_offers_no_submit_button(
        system, people, open_page, output_dir, viewport):
    phone = viewport is PHONE_390
    rejected = decided_package(system, 4 if phone else 7, "rejected")
    contact = rejected.package()["region_contact"]
    assert contact
    page = open_page(viewport)
    sign_in(page, system.url, number(4 if phone else 7))
    banner = page.locator("section.banner.bad")
    assert "学历不符合本类别报考条件" in banner.inner_text()
    assert contact in banner.inner_text()                # the region's configured contact
    assert page.locator("[data-key=submit]").count() == 0
    wait_thumbnails(page)
    shot(page, output_dir, "01-rejected")
    assert_accessible(page, output_dir, "rejected")

    decided_package(system, 5 if phone else 8, "approved")
    page = open_page(viewport)
    sign_in(page, system.url, number(5 if phone else 8))
    banner = page.locator("section.banner.ok")
    assert "审核通过" in banner.inner_text() and "上报完成" not in banner.inner_text()
    assert page.locator("[data-key=submit]").count() == 0   # no greyed 提交审核 on a final page
    assert page.get_by_role("button", name="提交审核").count() == 0
    wait_thumbnails(page)
    shot(page, output_dir, "02-approved")
    assert_accessible(page, output_dir, "approved")


@pytest.mark.parametrize("viewport", [PHONE_390, DESKTOP_1366], ids=["390x844", "1366x768"])
def test_a_submitted_package_says_it_waits_for_the_site_and_what_happens_next(
        system, people, open_page, output_dir, viewport):
    n = 6 if viewport is PHONE_390 else 9
    api = Candidate(system, number(n))
    api.fill_required()
    page = open_page(viewport)
    sign_in(page, system.url, number(n))
    page.get_by_role("button", name="提交审核").click()
    page.get_by_role("button", name="确认提交").click()
    banner = page.locator("section.banner.locked")
    banner.wait_for()
    text = banner.inner_text()
    assert "已提交，等待考点审核" in text and "上报完成" not in text
    assert "短信和站内消息" in text and "退回" in text and "撤回" in text   # what happens next
    assert page.locator("[data-testid=status]").inner_text() == "已提交待审核"
    wait_thumbnails(page)
    shot(page, output_dir, "01-submitted")
    assert_accessible(page, output_dir, "submitted")

    reviewer = staff_token(system.config, "reviewer.3204", "Review@2026")
    with rpc(system.config, reviewer) as proxy:
        package_id = api.package()["package_id"]
        wait_until_queued(proxy, package_id, timeout=20)
        proxy.review.claim(package_id)
    page.locator("[data-testid=status]").filter(has_text="审核中").wait_for(timeout=20_000)
    text = banner.inner_text()
    assert "考点正在审核" in text and "上报完成" not in text and "短信和站内消息" in text
    shot(page, output_dir, "02-in-review")
    assert_accessible(page, output_dir, "in-review")


# -- 5. tap targets on every page of ours -----------------------------------------------------------------
# Controls under 44×44 px (links inside running text excepted) and text under 14 px.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, summary, select, textarea, input:not([type=hidden]):not(.visually-hidden), a[href]:not(p a):not(li a)')]
    .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
    .map(el => [el.getAttribute('aria-label') || el.textContent.trim() || el.id || el.outerHTML.slice(0, 60),
                el.getBoundingClientRect()])
    .filter(([, r]) => r.width < 44 || r.height < 44)
    .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)
    .concat([...document.querySelectorAll('body *')]
      .filter(el => el.getClientRects().length && [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
      .filter(el => parseFloat(getComputedStyle(el).fontSize) < 14)
      .map(el => `text in ${el.tagName}.${el.className}: ${getComputedStyle(el).fontSize}`))"""


@pytest.mark.parametrize("viewport", [PHONE_390, DESKTOP_1366], ids=["390x844", "1366x768"])
def test_every_tap_target_on_our_pages_is_at_least_44px_the_consent_checkbox_included(
        system, people, open_page, documents, output_dir, viewport):
    page = open_page(viewport)
    seen = {}

    def check(state):
        seen[state] = page.evaluate(SMALL_TARGETS)
        shot(page, output_dir, f"{len(seen):02d}-{state}", full_page=False)
        assert_accessible(page, output_dir, state)

    page.goto(f"{system.url}/")
    page.get_by_role("button", name="使用报名系统账号登录").wait_for()
    check("sign-in")
    page.goto(f"{system.url}/callback?error=access_denied&state=x")    # back from the sign-in, refused
    page.get_by_text("您已取消授权登录").wait_for()
    check("callback-refused")
    page.goto(f"{system.url}/auth/authorize?client_id=unknown&response_type=code")
    page.get_by_role("heading", name="无法登录").wait_for()
    check("auth-error-page")

    # The registration system's sign-in and 授权 pages (its stand-in) keep the same rule.
    page.goto(f"{system.url}/")
    page.get_by_role("button", name="使用报名系统账号登录").click()
    page.wait_for_url(f"{system.standin.url}/login**")
    check("registration-system-sign-in")
    page.locator("#login").fill(number(10 if viewport is PHONE_390 else 11))
    page.locator("#password").fill("Demo@2026")
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("button", name="授权", exact=True).wait_for()
    check("registration-system-consent")
    page.get_by_role("button", name="授权", exact=True).click()
    page.wait_for_url(f"{system.url}/")
    page.locator("[data-testid=status]").wait_for()
    check("consent")
    box = page.locator("#consent-check").bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box        # the box itself, not only its label
    page.locator("#consent-check").check()
    assert page.locator("#consent-check").is_checked()
    shot(page, output_dir, f"{len(seen):02d}-consent-checked", full_page=False)
    page.get_by_role("button", name="同意并开始上传").click()
    page.locator("#consent").wait_for(state="detached")

    upload(page, "id_card", documents[("landscape", "preview")])
    wait_count(page, "id_card", "1/2")
    wait_thumbnails(page)
    check("uploading")
    choose(page, "degree_certificate", documents[("portrait", "preview")])
    page.locator("dialog[open] img.preview").evaluate("img => img.decode()")
    check("preview-dialog")
    page.keyboard.press("Escape")
    card(page, "id_card").locator(".thumb-delete").click()
    page.locator("dialog[open] [data-role=confirm-delete]").wait_for()
    check("delete-dialog")
    page.keyboard.press("Escape")
    card(page, "id_card").get_by_role("button", name="示例").click()
    page.locator("dialog[open] img.example-img").wait_for()
    check("example-dialog")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="消息", exact=False).click()
    page.locator("dialog[open] #inbox-list").wait_for()
    check("inbox-dialog")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="查看告知书").click()
    page.locator("dialog[open] .dialog-notice").wait_for()
    check("notice-dialog")
    page.keyboard.press("Escape")

    api = Candidate(system, number(10 if viewport is PHONE_390 else 11), consent=False)
    api.upload("id_card", document_jpeg(seed=1101))
    for n, material_type in enumerate(("degree_certificate", "probation_certificate", "registration_form")):
        assert api.upload(material_type, document_jpeg(seed=1102 + n)).status_code == 201
    page.reload()
    page.locator("#progress").filter(has_text="可以提交审核").wait_for()
    page.get_by_role("button", name="提交审核").click()
    page.locator("dialog[open] [data-role=confirm-submit]").wait_for()
    check("submit-dialog")
    page.locator("dialog[open] [data-role=confirm-submit]").click()
    page.get_by_role("button", name="撤回提交").wait_for()
    check("submitted")

    page.route("**/api/v1/package", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body='{"error": {"code": "unavailable", "message": "服务暂时不可用，请稍后再试"}}'))
    page.reload()
    page.get_by_role("button", name="重试").wait_for()
    check("page-unavailable")
    assert {state: small for state, small in seen.items() if small} == {}


# -- beyond the anchors: upload progress --------------------------------------------------------------------
def test_a_slow_upload_shows_a_byte_bar_that_fills_as_the_file_goes(system, people, open_page, documents,
                                                                   output_dir):
    page = open_page(PHONE_390)
    sign_in(page, system.url, number(12))
    consent_on_page(page)
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    # A slow mobile uplink: 190 KB at 24 KB/s takes about 8 s.
    network.send("Network.emulateNetworkConditions", {"offline": False, "latency": 100,
                                                      "downloadThroughput": -1, "uploadThroughput": 24 * 1024})
    upload(page, "degree_certificate", documents[("portrait", "preview")])
    bar = card(page, "degree_certificate").locator("progress")
    bar.wait_for()
    first = page.wait_for_function("""() => { const bar = document.querySelector('.card[data-type=degree_certificate] progress');
        return bar && bar.value > 0 && bar.value < bar.max && [bar.value, bar.max]; }""").json_value()
    text = card(page, "degree_certificate").locator(".upload-progress").inner_text()
    assert "正在上传" in text and "KB" in text and "%" in text, text
    assert first[1] >= 190_000                                  # the whole request, in bytes
    assert_accessible_at_both_sizes(page, output_dir, "uploading")
    page.wait_for_function(f"""() => {{ const bar = document.querySelector('.card[data-type=degree_certificate] progress');
        return !bar || bar.value > {first[0]}; }}""")           # it moves
    network.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                      "downloadThroughput": -1, "uploadThroughput": -1})
    wait_count(page, "degree_certificate", "1/3")
    assert card(page, "degree_certificate").locator("progress").count() == 0


# -- beyond the anchors: the respond-by countdown, in Beijing days --------------------------------------------
def beijing_today():
    return clock.utcnow().astimezone(clock.BEIJING).date()


COUNTDOWN_IN_PAGE = """async (cases) => {
  const m = await import('/js/countdown.js');
  return cases.map(([respondBy, now]) => m.countdownText(respondBy, Date.parse(now)));
}"""


def test_a_returned_package_counts_down_the_days_to_its_respond_by_date_in_beijing_time(
        system, people, open_page, output_dir):
    respond_by = beijing_today() + timedelta(days=3)
    returned_package(system, 13, [{"material_type": "degree_certificate", "reason": "unclear"}],
                     respond_by=respond_by.isoformat())
    # The phone's own clock two days fast: the count follows the server's time, not the phone's.
    page = open_page(PHONE_390)
    page.clock.install(time=clock.utcnow() + timedelta(days=2))
    sign_in(page, system.url, number(13))
    countdown = page.locator("section.banner.returned .countdown")
    assert countdown.inner_text() == "还剩3天"
    assert_accessible_at_both_sizes(page, output_dir, "countdown")
    page.clock.fast_forward(24 * 3600 * 1000)             # a day later, the page still open
    page.wait_for_function("() => document.querySelector('.countdown').textContent === '还剩2天'")

    # The Beijing day turns at 16:00 UTC; the deadline day itself is the last one.
    assert page.evaluate(COUNTDOWN_IN_PAGE, [
        ["2026-12-15", "2026-12-12T15:59:00Z"],           # Beijing 12-12 23:59
        ["2026-12-15", "2026-12-13T16:00:00Z"],           # Beijing 12-14 00:00
        ["2026-12-15", "2026-12-14T16:30:00Z"],           # Beijing 12-15 00:30
        ["2026-12-15", "2026-12-15T16:00:00Z"],           # Beijing 12-16 00:00
    ]) == ["还剩3天", "明天截止", "今天截止", "已过截止日期1天，请尽快修改并提交，或联系考点"]


# -- beyond the anchors: the site's typical review time --------------------------------------------------------
def test_a_waiting_package_says_how_long_its_site_took_to_review_over_the_last_seven_days(
        system, people, open_page, output_dir):
    reviewer = staff_token(system.config, "reviewer.3201", "Review@2026")
    for n in range(5):                                   # five first decisions at 3201, seconds each
        api = Candidate(system, nanjing(n))
        api.fill_required()
        package_id = api.submit()["package_id"]
        with rpc(system.config, reviewer) as proxy:
            wait_until_queued(proxy, package_id, timeout=20)
            proxy.review.claim(package_id)
            proxy.review.approve(package_id)
    waiting = Candidate(system, nanjing(5))
    waiting.fill_required()
    waiting.submit()
    # Other modules' candidates of 3201 may have had their page ask before these decisions:
    # materials keeps a site's figure 10 minutes (services/materials/review_times.py), so
    # start it afresh rather than wait that out.
    system.restart("materials")

    page = open_page(PHONE_390)
    sign_in(page, system.url, nanjing(5))
    banner = page.locator("section.banner.locked")

    def shown():                                          # materials asks review on its next tick
        page.reload()
        banner.wait_for()
        return banner.locator(".review-time").count() and banner.locator(".review-time").inner_text()
    text = wait_for(shown, timeout=40, interval=2, message="the site's review time on the page")
    assert text.startswith("本考点近7天平均审核用时不到1小时"), text
    decided = int(re.search(r"共审核(\d+)份", text).group(1))
    assert decided >= 5
    figure = waiting.package()["site_review_time"]
    assert figure["days"] == 7 and figure["decisions"] == decided and figure["average_hours"] < 1
    assert_accessible_at_both_sizes(page, output_dir, "review-time")
