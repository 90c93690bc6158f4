"""What a first real candidate trips over on the page (issue 20), in Chromium against the
whole system: a returned type sent back unchanged, uploading off or a closed window, the
preview before an upload, delete by mistake, contrast, size and tap targets, and a text
file named like a photo. Every page state here is audited with axe-core (WCAG 2.2 AA);
serious or critical findings fail the test.

Candidates of their own, imported here: 2026320400981 ... 985 and 2026120100001 (a region
of its own, 12, whose window the test closes)."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from common import clock
from page_helpers import (PHONE, assert_accessible, card, choose, consent_on_page, delete, shot, sign_in, upload,
                          wait_count, wait_thumbnails)
from support import Candidate, candidate, create_candidates, return_by_reviewer, wait_for


@pytest.fixture(scope="module")
def people(system):
    """Import this module's candidates once (the registration system's way in)."""
    records = [candidate(f"2026320400{n}", serial=n) for n in range(981, 986)]
    records.append(candidate("2026120100001", site="1201", serial=986))
    summary = create_candidates(system.standin, records)
    assert not summary["errors"], summary
    return {r["registration_number"]: r for r in records}


def submit_colours(page):
    """The submit button's text and background colours, read in one go (the top bar is
    drawn again when the inbox arrives: a handle to the old button would read nothing)."""
    return page.evaluate("""() => { const s = getComputedStyle(document.querySelector('[data-key=submit]'));
                                     return [s.color, s.backgroundColor]; }""")


def contrast(a, b):
    """WCAG contrast ratio of two 'rgb(r, g, b)' colours."""
    def luminance(colour):
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# -- 1. a returned type is unfinished until its images are replaced ----------------------------------
def test_a_returned_type_counts_as_unfinished_until_its_images_are_replaced(system, people, open_page,
                                                                            images, output_dir):
    number = "2026320400981"
    api = Candidate(system, number)
    api.fill_required()
    return_by_reviewer(system, api.submit()["package_id"], [{"material_type": "id_card", "reason": "unclear"}])
    wait_for(lambda: api.package()["status"] == "returned", timeout=20, message="returned")

    page = open_page(PHONE)
    sign_in(page, system.url, number)
    progress = page.locator("#progress")
    assert "必传材料已完成 3/4 项" in progress.inner_text()
    assert "还需补正：身份证明" in progress.inner_text()
    ids = card(page, "id_card")
    assert ids.locator(".tag.to-fix").inner_text() == "待补正"
    # The reviewer named no date: the region's default (7 days, Beijing) is on the card.
    due = clock.beijing_today() + timedelta(days=7)
    assert f"补正截止：{due.year}年{due.month}月{due.day}日前" in ids.locator(".reason").inner_text()
    submit = page.get_by_role("button", name="提交审核")
    assert "is-incomplete" in submit.get_attribute("class")
    wait_thumbnails(page)
    shot(page, output_dir, "01-returned-to-fix")
    assert_accessible(page, output_dir, "returned")

    # Pressing submit anyway: the API's refusal, naming the type, next to nothing sent.
    submit.click()
    refusal = page.locator("#submit-error")
    refusal.wait_for()
    assert "退回修改的材料尚未更换" in refusal.inner_text() and "身份证明" in refusal.inner_text()
    assert ids.get_attribute("class").split().count("flagged") == 1
    assert api.package()["attempt"] == 1 and api.package()["status"] == "returned"
    assert_accessible(page, output_dir, "returned-refused")

    # One image replaced: the card says so, the page may be submitted, the dialog names it.
    delete(page, "id_card")
    wait_count(page, "id_card", "1/2")
    upload(page, "id_card", images[6])
    wait_count(page, "id_card", "2/2")
    assert ids.locator(".tag.replaced").inner_text() == "已更换，待重新提交"
    assert "可以提交审核" in progress.inner_text()
    submit.click()
    dialog = page.locator("dialog[open]")
    assert "已补正：身份证明" in dialog.inner_text() and "第2次提交" in dialog.inner_text()
    shot(page, output_dir, "02-resubmit-confirmation", full_page=False)
    assert_accessible(page, output_dir, "resubmit-dialog")
    dialog.get_by_role("button", name="确认提交").click()
    page.locator("section.banner.locked").wait_for()
    assert api.package()["attempt"] == 2


# -- 5. uploading off, or the window closed ---------------------------------------------------------------
def test_a_region_with_uploading_off_shows_its_notice_and_contact_and_no_controls(system, open_page,
                                                                                output_dir):
    page = open_page(PHONE)
    sign_in(page, system.url, "2026110100001")
    panel = page.locator("#availability")
    assert panel.get_by_role("heading", name="北京未开通网上上传材料").is_visible()
    assert "现场审核" in panel.inner_text() and "010-6000 0000" in panel.inner_text()
    assert page.locator("section.card, #consent, #progress, input[type=file]").count() == 0
    assert page.locator("[data-key=submit]").count() == 0
    shot(page, output_dir, "01-uploading-off")
    assert_accessible(page, output_dir, "uploading-off")


def test_a_closed_window_shows_its_dates_and_the_region_s_contact_and_no_controls(system, people, admin,
                                                                                open_page, output_dir):
    opens = datetime.now(timezone.utc) + timedelta(days=3)
    admin.call("materials", "configure_region", region="12", config={
        "name": "天津", "upload_enabled": True, "sites": {"1201": "天津"},
        "window": {"start": opens.isoformat(timespec="seconds"),
                   "end": (opens + timedelta(days=14)).isoformat(timespec="seconds")},
        "notice": "请在上传时间内登录本系统上传材料。", "contact": "天津考点 022-2000 0000"})
    page = open_page(PHONE)
    sign_in(page, system.url, "2026120100001")
    panel = page.locator("#availability")
    assert panel.get_by_role("heading", name="材料上传尚未开始").is_visible()
    beijing = clock.beijing_date(opens)
    assert f"{beijing.year}年{beijing.month}月{beijing.day}日" in panel.inner_text()
    assert "022-2000 0000" in panel.inner_text() and "请在上传时间内登录" in panel.inner_text()
    assert page.locator("section.card, #consent, input[type=file], [data-key=submit]").count() == 0
    shot(page, output_dir, "01-window-not-open")
    assert_accessible(page, output_dir, "window-closed")


# -- 6. the preview before an upload ---------------------------------------------------------------------
def test_the_upload_preview_shows_size_pixels_and_the_rules_before_anything_is_sent(system, people,
                                                                                   open_page, images,
                                                                                   output_dir):
    number = "2026320400982"
    page = open_page(PHONE)
    sign_in(page, system.url, number)
    consent_on_page(page)
    choose(page, "id_card", images[0])
    dialog = page.locator("dialog[open]")
    dialog.get_by_role("heading", name="上传身份证明").wait_for()
    text = dialog.inner_text()
    kb = max(1, round(images[0].stat().st_size / 1024))
    assert f"{kb}KB（上限200KB），符合" in text
    assert "1000×700（短边至少600），符合" in text
    for rule in ("jpg、jpeg、png", "每张不超过200KB", "至少600像素", "正向摆放"):
        assert rule in text
    preview = dialog.locator("img.preview")
    assert preview.evaluate("img => img.decode().then(() => img.naturalWidth)") == 1000
    shot(page, output_dir, "01-preview", full_page=False)
    assert_accessible(page, output_dir, "preview")
    api = Candidate(system, number, consent=False)
    assert api.item("id_card")["count"] == 0                     # nothing sent yet

    dialog.get_by_role("button", name="取消").click()
    page.locator("dialog[open]").wait_for(state="detached")
    assert api.item("id_card")["count"] == 0
    upload(page, "id_card", images[0])                            # 提交 under the preview
    wait_count(page, "id_card", "1/2")
    assert api.item("id_card")["count"] == 1


# -- 7. delete asks first; tap targets ---------------------------------------------------------------------
def test_delete_asks_first_and_every_tap_target_is_at_least_44px(system, people, open_page, images,
                                                                 output_dir):
    number = "2026320400983"
    page = open_page(PHONE)
    sign_in(page, system.url, number)
    consent_on_page(page)
    upload(page, "id_card", images[1])
    wait_count(page, "id_card", "1/2")
    wait_thumbnails(page)

    card(page, "id_card").get_by_role("button", name="删除身份证明第1张").click()
    dialog = page.locator("dialog[open]")
    assert dialog.get_by_role("heading", name="删除身份证明第1张？").is_visible()
    assert page.evaluate("() => document.activeElement.textContent") == "取消"   # a slip deletes nothing
    shot(page, output_dir, "01-delete-confirmation", full_page=False)
    assert_accessible(page, output_dir, "delete-dialog")
    page.keyboard.press("Enter")
    page.locator("dialog[open]").wait_for(state="detached")
    assert Candidate(system, number, consent=False).item("id_card")["count"] == 1

    small = page.evaluate("""() => [...document.querySelectorAll(
        'button, summary, input:not(.visually-hidden), .link, a[href]:not(p a):not(li a)')]
        .filter(el => el.offsetParent !== null)
        .map(el => [el.getAttribute('aria-label') || el.textContent.trim() || el.outerHTML.slice(0, 60),
                    el.getBoundingClientRect()])
        .filter(([, r]) => r.width < 44 || r.height < 44)
        .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)""")
    # The consent checkbox is reached through its label, which is the target (checked below).
    assert small == [], small

    delete(page, "id_card")
    wait_count(page, "id_card", "0/2")


# -- 8. contrast, size, focus; every state audited ---------------------------------------------------------
def test_every_page_state_meets_wcag_aa_contrast_size_and_focus(system, people, open_page, images,
                                                                output_dir):
    page = open_page(PHONE)
    page.goto(f"{system.url}/")
    page.get_by_role("button", name="使用报名系统账号登录").wait_for()
    assert_accessible(page, output_dir, "sign-in")

    number = "2026320400984"
    sign_in(page, system.url, number)
    # After sign-in the focus is on the main heading, not left at the top of the document.
    assert page.evaluate("() => document.activeElement.tagName") == "H1"
    assert_accessible(page, output_dir, "consent")
    consent_on_page(page)
    upload(page, "id_card", images[2])
    wait_count(page, "id_card", "1/2")
    wait_thumbnails(page)

    submit = page.get_by_role("button", name="提交审核")
    assert "is-incomplete" in submit.get_attribute("class")
    colours = submit_colours(page)
    assert contrast(*colours) >= 4.5, colours
    # The focus ring: 3:1 against the white it is drawn on.
    submit.focus()
    ring = submit.evaluate("el => [getComputedStyle(el).outlineColor, getComputedStyle(el).outlineWidth]")
    assert contrast(ring[0], "rgb(255, 255, 255)") >= 3 and float(ring[1].rstrip("px")) >= 2, ring
    # No text under 14 px on a phone.
    tiny = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(el => el.offsetParent !== null && [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .filter(el => parseFloat(getComputedStyle(el).fontSize) < 14)
        .map(el => `${el.tagName}.${el.className}: ${getComputedStyle(el).fontSize}`)""")
    assert tiny == [], tiny
    shot(page, output_dir, "01-incomplete")
    assert_accessible(page, output_dir, "uploading")

    card(page, "id_card").get_by_role("button", name="示例").click()
    page.locator("dialog[open] img.example-img").wait_for()
    assert_accessible(page, output_dir, "example-dialog")
    page.keyboard.press("Escape")

    api = Candidate(system, number, consent=False)
    for material_type, path in (("id_card", images[3]), ("degree_certificate", images[4]),
                                ("probation_certificate", images[5]), ("registration_form", images[6])):
        assert api.upload(material_type, path.read_bytes()).status_code == 201
    page.reload()
    page.locator("#progress").filter(has_text="可以提交审核").wait_for()
    enabled = submit_colours(page)
    assert contrast(*enabled) >= 4.5, enabled
    submit.click()
    page.get_by_role("button", name="确认提交").click()
    page.locator("section.banner.locked").wait_for()
    disabled = submit_colours(page)
    assert contrast(*disabled) >= 4.5, disabled              # readable even when it cannot be pressed
    wait_thumbnails(page)
    shot(page, output_dir, "02-submitted")
    assert_accessible(page, output_dir, "submitted")

    page.get_by_role("button", name="消息", exact=False).click()
    page.locator("dialog[open] details.message").first.wait_for(timeout=20_000)
    page.locator("dialog[open] details.message summary").first.click()
    shot(page, output_dir, "03-inbox", full_page=False)
    assert_accessible(page, output_dir, "inbox")


# -- 9. a text file named like a photo ----------------------------------------------------------------------
def test_a_text_file_named_like_a_photo_is_told_it_is_not_a_valid_image(system, people, open_page,
                                                                         tmp_path, output_dir):
    number = "2026320400985"
    fake = tmp_path / "fake.jpg"
    fake.write_text("这不是图片，是一段文字。\n" * 20, encoding="utf-8")
    page = open_page(PHONE)
    sign_in(page, system.url, number)
    consent_on_page(page)
    choose(page, "id_card", fake)
    error = card(page, "id_card").locator(".card-error")
    error.wait_for()
    assert "不是有效的图片" in error.inner_text() and "仅支持" not in error.inner_text()
    assert page.locator("dialog[open]").count() == 0
    shot(page, output_dir, "01-not-an-image")
    assert_accessible(page, output_dir, "not-an-image")
    # The API judges the same bytes the same way, whatever the name.
    direct = Candidate(system, number, consent=False).call(
        "POST", "/package/items/id_card/images",
        files={"file": ("fake.jpg", fake.read_bytes(), "image/jpeg")})
    assert direct.status_code == 415 and direct.json()["error"]["code"] == "unsupported_format"
    assert "不是有效的图片" in direct.json()["error"]["message"]
