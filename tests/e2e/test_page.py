"""The candidate's upload page (web/) in Debian's Chromium, against the whole running system.

Issue 8's "done when": sign in through the auth service's own form, consent, upload, see
the upload button go when a type is full, delete and upload again, the API's
missing_materials on an early submit, submit and the lock banner; a reviewer returns one
type over RPC and only that card unlocks, with the reason and the deadline; a 3 MB phone
photo stored sideways (EXIF orientation 6) is fixed in the browser and accepted upright;
keyboard-only use; the layout at 375 px; every refusal next to its card.

Each test uses demo candidates of its own (2026320400003 ... 008, 2026110100001), so the
tests do not depend on each other's order; the session's other e2e tests use 002 and
2026320100002. Screenshots land in test-output/<test name>/.
"""
import io
from datetime import date, timedelta

import requests
from PIL import Image

from common import clock
from page_helpers import (DESKTOP, PHONE, card, choose, consent_on_page, delete, horizontal_overflow,
                          shot, sign_in, upload, wait_count, wait_thumbnails)
from support import Candidate, return_by_reviewer, rpc, wait_for
from unit.imagefactory import (add_noise, defocused, document_image, document_jpeg, jpeg_bytes,
                               with_exif_orientation)

REQUIRED = ("id_card", "degree_certificate", "probation_certificate", "registration_form")
LOCK_BANNER = "已提交，等待考点审核"


def focused_key(page):
    return page.evaluate("() => document.activeElement && document.activeElement.dataset"
                         " ? document.activeElement.dataset.key || null : null")


def tab_to(page, key, backwards=False, limit=150):
    """Press Tab (or Shift+Tab) until the element with data-key `key` has the focus."""
    for _ in range(limit):
        if focused_key(page) == key:
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{key} never got the focus with the keyboard")


# -- the main flow --------------------------------------------------------------------------------
def test_sign_in_consent_upload_delete_early_submit_submit_and_lock(system, open_page, images,
                                                                    output_dir):
    page = open_page(PHONE)
    sign_in(page, system.url, "2026320400003")
    profile = page.locator("section.profile")
    assert "江苏常州考生03" in profile.inner_text()
    assert "中西医结合执业医师" in profile.inner_text()
    assert "常州" in profile.inner_text()
    assert page.locator("[data-testid=status]").inner_text() == "未提交"
    # Before the first upload: the notice and the separate consent; no upload yet.
    assert page.get_by_role("heading", name="个人信息处理告知书").is_visible()
    assert "敏感个人信息" in page.locator(".notice-text").inner_text()
    assert page.locator("button.upload-btn").count() == 0
    shot(page, output_dir, "01-signed-in-notice")
    page.get_by_role("button", name="同意并开始上传").click()   # not ticked: told to tick
    assert "请先勾选" in page.locator("#consent .card-error").inner_text()
    consent_on_page(page)

    ids = card(page, "id_card")
    assert ids.locator("[data-testid=count]").inner_text() == "0/2"
    assert ids.get_by_role("button", name="上传身份证明").is_visible()
    upload(page, "id_card", images[0])
    wait_count(page, "id_card", "1/2")
    upload(page, "id_card", images[1])
    wait_count(page, "id_card", "2/2")
    assert ids.locator("button.upload-btn").count() == 0       # full: the button goes
    thumbs = ids.locator("img[data-image]")
    assert thumbs.count() == 2
    wait_thumbnails(page)
    assert thumbs.nth(0).get_attribute("alt").startswith("身份证明第1张")
    shot(page, output_dir, "02-id-card-full")

    ids.get_by_role("button", name="删除身份证明第1张").click()
    page.get_by_role("button", name="删除", exact=True).click()     # confirmed in a dialog
    wait_count(page, "id_card", "1/2")
    assert ids.locator("button.upload-btn").is_visible()      # room again: it is back
    upload(page, "id_card", images[2])
    wait_count(page, "id_card", "2/2")

    # Early submit: the button says "incomplete", and pressing it shows the API's refusal.
    submit = page.get_by_role("button", name="提交审核")
    assert "is-incomplete" in submit.get_attribute("class")
    submit.click()
    refusal = page.locator("#submit-error")
    refusal.wait_for()
    text = refusal.inner_text()
    assert "还有必传材料未上传" in text                             # missing_materials, in the API's words
    for name in ("学历证书", "试用期考核证明", "医师资格考试报名/审核表"):
        assert name in text
    assert "身份证明" not in text
    assert page.locator("section.card.flagged").count() == 3
    shot(page, output_dir, "03-missing-materials")

    for material_type, path in zip(REQUIRED[1:], images[3:]):
        upload(page, material_type, path)
        wait_count(page, material_type, "1/")
    assert "is-incomplete" not in submit.get_attribute("class")
    submit.click()
    page.get_by_role("button", name="确认提交").click()
    banner = page.locator("section.banner.locked")
    banner.wait_for()
    assert LOCK_BANNER in banner.inner_text()
    assert page.locator("[data-testid=status]").inner_text() == "已提交待审核"
    # Every control locked: no upload, no delete, submit disabled.
    assert page.locator("button.upload-btn").count() == 0
    assert page.locator(".thumb-delete").count() == 0
    assert page.get_by_role("button", name="提交审核").is_disabled()
    assert page.locator("section.card .tag.lock").count() == len(page.locator("section.card").all())
    wait_thumbnails(page)
    shot(page, output_dir, "04-submitted-locked")

    # A reload keeps the candidate signed in (sessionStorage, never localStorage) and shows
    # the same lock; an expired access token is refreshed on the way.
    stored = "() => JSON.parse(sessionStorage.getItem('upload-web.tokens'))"
    before = page.evaluate(stored)
    page.evaluate("() => { const t = JSON.parse(sessionStorage.getItem('upload-web.tokens'));"
                  " t.expires_at = 0; sessionStorage.setItem('upload-web.tokens', JSON.stringify(t)); }")
    page.reload()
    page.locator("section.banner.locked").wait_for()
    after = page.evaluate(stored)
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]
    assert page.evaluate("() => localStorage.length") == 0
    assert Candidate(system, "2026320400003", consent=False).package()["status"] == "submitted"

    # Signing out revokes the refresh token and forgets the tokens.
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="使用报名系统账号登录").wait_for()
    assert page.evaluate(stored) is None
    reuse = requests.post(f"{system.url}/auth/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": after["refresh_token"], "client_id": "upload-web"})
    assert reuse.status_code >= 400


# -- a reviewer returns one type -----------------------------------------------------------------------
def submit_by_api(system, number):
    api = Candidate(system, number)
    api.fill_required()
    package = api.submit()
    assert package["status"] == "submitted"
    return api, package["package_id"]


def test_a_returned_type_shows_the_reason_and_deadline_and_alone_unlocks(system, open_page, images,
                                                                        output_dir):
    number = "2026320400004"
    api, package_id = submit_by_api(system, number)
    respond_by = (clock.beijing_today() + timedelta(days=7)).isoformat()
    reviewer = return_by_reviewer(system, package_id, [{"material_type": "degree_certificate", "reason": "unclear"}],
                                  respond_by=respond_by)
    wait_for(lambda: api.package()["status"] == "returned", timeout=20, message="returned")
    reason = api.item("degree_certificate")["reason"]
    wait_for(lambda: len(api.call("GET", "/messages").json().get("messages", [])) == 2, timeout=20,
             message="submitted and returned in the inbox")

    page = open_page(DESKTOP)
    sign_in(page, system.url, number)
    assert page.locator("[data-testid=status]").inner_text() == "已退回待补正"
    banner = page.locator("section.banner.returned")
    deadline = date.fromisoformat(respond_by)
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in banner.inner_text()
    assert "学历证书" in banner.inner_text()
    degree = card(page, "degree_certificate")
    assert reason in degree.locator(".reason").inner_text()
    assert degree.locator("button.upload-btn").is_visible()
    assert degree.locator(".thumb-delete").count() == 1
    # Only the returned card unlocked: nothing else can be changed.
    others = page.locator("section.card:not([data-type=degree_certificate])")
    assert others.locator("button.upload-btn").count() == 0
    assert others.locator(".thumb-delete").count() == 0
    assert page.locator("section.card .reason").count() == 1
    assert page.get_by_role("button", name="提交审核").is_enabled()
    # The inbox: submitted and returned, both unread.
    inbox = page.get_by_role("button", name="消息", exact=False)
    page.wait_for_function("() => /2条未读/.test(document.querySelector('[data-key=inbox]')"
                           ".getAttribute('aria-label'))", timeout=20_000)
    wait_thumbnails(page)
    shot(page, output_dir, "01-returned")

    inbox.click()
    dialog = page.locator("dialog[open]")
    returned = dialog.locator("details.message", has_text="被退回")
    returned.locator("summary").click()
    assert "学历证书" in returned.locator(".message-body").inner_text()
    page.wait_for_function("() => /1条未读/.test(document.querySelector('[data-key=inbox]')"
                           ".getAttribute('aria-label'))")
    page.wait_for_timeout(500)                    # the list is fetched again meanwhile
    assert returned.get_attribute("open") is not None and "1条未读" in dialog.inner_text()
    shot(page, output_dir, "02-inbox", full_page=False)
    page.keyboard.press("Escape")

    delete(page, "degree_certificate")
    wait_count(page, "degree_certificate", "0/3")
    upload(page, "degree_certificate", images[5])
    wait_count(page, "degree_certificate", "1/3")
    page.get_by_role("button", name="提交审核").click()
    page.get_by_role("button", name="确认提交").click()
    page.locator("section.banner.locked").wait_for()
    assert api.package()["attempt"] == 2
    assert page.locator(".thumb-delete").count() == 0
    wait_thumbnails(page)
    shot(page, output_dir, "03-resubmitted")

    # The reviewer approves the second attempt: final, and the page says so.
    with rpc(system.config, reviewer) as proxy:
        wait_for(lambda: proxy.review.get_case(package_id)["attempt"] == 2, timeout=20,
                 message="attempt 2 in review")
        proxy.review.claim(package_id)
        proxy.review.approve(package_id)
    wait_for(lambda: api.package()["status"] == "approved", timeout=20, message="approved")
    page.reload()
    page.locator("section.banner.ok").wait_for()
    assert page.locator("[data-testid=status]").inner_text() == "审核通过"
    assert page.get_by_role("button", name="提交审核").count() == 0     # final: nothing to submit
    assert page.locator("button.upload-btn, .thumb-delete").count() == 0
    wait_thumbnails(page)
    shot(page, output_dir, "04-approved")


# -- the browser fixes a phone photo ------------------------------------------------------------------
def red_centre(image):
    """Where the red seal is, as fractions of width and height."""
    small = image.convert("RGB").resize((200, round(200 * image.height / image.width)))
    xs, ys = [], []
    for y in range(small.height):
        for x in range(small.width):
            r, g, b = small.getpixel((x, y))
            if r > 150 and g < 100 and b < 100:
                xs.append(x)
                ys.append(y)
    assert xs, "no red seal found"
    return sum(xs) / len(xs) / small.width, sum(ys) / len(ys) / small.height


def sideways_phone_photo():
    """A 4000x3000 document photographed with the phone held sideways: the pixels are
    stored 3000x4000 (rotated a quarter turn) with EXIF orientation 6, about 3 MB."""
    upright = add_noise(document_image(4000, 3000, seed=7), 9.0, seed=7)
    assert 0.5 < red_centre(upright)[0] and 0.5 < red_centre(upright)[1]  # seal bottom right
    stored = upright.transpose(Image.Transpose.ROTATE_90)   # what a sideways sensor records
    data = None
    for quality in range(95, 60, -2):
        data = jpeg_bytes(stored, quality=quality)
        if len(data) <= 3_200_000:
            break
    assert 2_600_000 <= len(data) <= 3_200_000, len(data)
    return with_exif_orientation(data, 6)


def test_a_3mb_sideways_phone_photo_is_fixed_in_the_browser_and_accepted(system, open_page,
                                                                         output_dir, tmp_path):
    number = "2026320400005"
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(sideways_phone_photo())
    page = open_page(PHONE)
    sign_in(page, system.url, number)
    consent_on_page(page)

    choose(page, "degree_certificate", path)
    dialog = page.locator("dialog[open]")
    dialog.get_by_role("heading", name="图片需要处理").wait_for()
    problems = dialog.inner_text()
    assert "超过 200KB" in problems and "方向" in problems
    accept = dialog.get_by_role("button", name="使用处理后的图片上传")
    accept.wait_for(timeout=30_000)
    preview = dialog.locator("img.fix-preview")
    size = preview.evaluate("img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])")
    assert size[0] > size[1], size                               # upright: landscape again
    assert "已按拍摄方向摆正" in dialog.inner_text()
    shot(page, output_dir, "01-fix-offered", full_page=False)
    accept.click()
    wait_count(page, "degree_certificate", "1/3")
    assert card(page, "degree_certificate").locator(".card-error").count() == 0
    wait_thumbnails(page)
    shot(page, output_dir, "02-accepted")

    api = Candidate(system, number, consent=False)
    stored = api.item("degree_certificate")["images"][0]
    assert stored["bytes"] <= 204_800
    assert stored["width"] > stored["height"]
    assert 1000 <= stored["width"] <= 1600
    data = api.call("GET", stored["url"].removeprefix("/api/v1")).content
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and not image.getexif()
    x, y = red_centre(image)
    assert x > 0.5 and y > 0.5, (x, y)                           # the seal where it belongs


QUADRANTS = {"tl": (220, 40, 40), "tr": (40, 170, 60), "bl": (40, 70, 210), "br": (235, 200, 40)}
# What a sensor stores for each EXIF orientation, from the upright picture (PIL's
# transpositions; each of them undone by the viewer as the tag says).
STORED = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
          4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
          6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}
FIX_IN_PAGE = """async ({data, limits}) => {
  const m = await import('/js/imagefix.js');
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const result = await m.inspect(new File([bytes], 'photo.jpg', {type: 'image/jpeg'}), limits);
  const fixed = await m.fix(result, limits);
  const bitmap = await createImageBitmap(fixed.blob);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width; canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  const at = (fx, fy) => Array.from(ctx.getImageData(Math.floor(fx * canvas.width),
                                                     Math.floor(fy * canvas.height), 1, 1).data.slice(0, 3));
  return {problems: result.problems, width: canvas.width, height: canvas.height, type: fixed.blob.type,
          tl: at(0.25, 0.25), tr: at(0.75, 0.25), bl: at(0.25, 0.75), br: at(0.75, 0.75)};
}"""


def test_every_exif_orientation_comes_out_upright_from_the_page_s_fixer(system, open_page):
    """The orientation arithmetic of web/js/imagefix.js, all eight cases, in Chromium (which
    itself applies EXIF orientation when decoding: the fixer must not apply it twice)."""
    import base64
    from PIL import ImageDraw, ImageOps
    upright = Image.new("RGB", (900, 600))
    draw = ImageDraw.Draw(upright)
    for (name, colour), box in zip(QUADRANTS.items(), [(0, 0, 450, 300), (450, 0, 900, 300),
                                                         (0, 300, 450, 600), (450, 300, 900, 600)]):
        draw.rectangle(box, fill=colour)
    page = open_page(DESKTOP)
    page.goto(f"{system.url}/")
    limits = {"max_bytes": 204_800, "min_short_side": 600}
    for orientation, transposition in STORED.items():
        stored = upright if transposition is None else upright.transpose(transposition)
        data = jpeg_bytes(stored, quality=90)
        if orientation != 1:
            data = with_exif_orientation(data, orientation)
        shown = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))   # the fixture itself:
        assert shown.size == upright.size                                # a viewer shows it upright
        assert all(abs(a - b) < 40 for a, b in zip(shown.getpixel((225, 150)), QUADRANTS["tl"]))
        got = page.evaluate(FIX_IN_PAGE, {"data": base64.b64encode(data).decode(), "limits": limits})
        assert got["type"] == "image/jpeg"
        assert (got["width"], got["height"]) == (900, 600), (orientation, got)
        for corner, colour in QUADRANTS.items():
            assert all(abs(a - b) < 40 for a, b in zip(got[corner], colour)), (orientation, corner, {k: got[k] for k in QUADRANTS})
        assert ("rotated" in got["problems"]) == (orientation != 1)


# -- keyboard only ------------------------------------------------------------------------------------
def test_the_main_flow_works_with_the_keyboard_alone(system, open_page, images, output_dir):
    page = open_page(DESKTOP)
    chosen = []
    page.on("filechooser", lambda chooser: chosen.append(chooser))  # intercept the picker
    page.goto(f"{system.url}/")
    assert focused_key(page) == "signin"
    page.keyboard.press("Enter")
    # the registration system's sign-in form (its stand-in) focuses the 报名号 field
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'login'")
    page.keyboard.type("2026320400006")
    page.keyboard.press("Tab")
    page.keyboard.type("Demo@2026")
    shot(page, output_dir, "00-registration-sign-in")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="授权登录").wait_for()
    for _ in range(8):                                    # to its 授权 button, and press it
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "授权":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"{system.url}/")
    page.locator("[data-testid=status]").wait_for()

    tab_to(page, "consent-check")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert focused_key(page) == "consent-accept"
    page.keyboard.press("Enter")
    page.locator("#consent").wait_for(state="detached")
    assert focused_key(page) == "upload:id_card"          # straight on to the first upload

    # The example: opened, read, closed with Escape; the focus comes back.
    tab_to(page, "example:id_card", backwards=True)
    page.keyboard.press("Enter")
    example = page.locator("dialog[open] img.example-img")
    example.wait_for()
    assert "身份证" in example.get_attribute("alt")
    shot(page, output_dir, "01-example", full_page=False)
    page.keyboard.press("Escape")
    page.locator("dialog[open]").wait_for(state="detached")
    page.wait_for_function("() => document.activeElement.dataset.key === 'example:id_card'")

    def choose_with_keyboard(path):
        before = len(chosen)
        page.keyboard.press("Enter")
        wait_for(lambda: len(chosen) > before or page.wait_for_timeout(50), timeout=15,
                 message="the file picker")
        chosen[-1].set_files(str(path))
        # The preview opens with 提交 focused: Enter sends it.
        page.wait_for_function("() => document.activeElement && document.activeElement.dataset.role === 'confirm-upload'")
        page.keyboard.press("Enter")

    page.keyboard.press("Tab")
    assert focused_key(page) == "upload:id_card"
    choose_with_keyboard(images[0])
    wait_count(page, "id_card", "1/2")
    assert focused_key(page) == "upload:id_card"          # the focus stays where it was
    choose_with_keyboard(images[1])
    wait_count(page, "id_card", "2/2")
    assert focused_key(page) == "card:id_card"            # the button went; its card has the focus

    first = card(page, "id_card").locator(".thumb-delete").first.get_attribute("data-key")
    tab_to(page, first)
    page.keyboard.press("Enter")
    # The confirmation opens on 取消 (a slip deletes nothing); 删除 is one Shift+Tab away.
    page.wait_for_function("() => document.activeElement && document.activeElement.textContent === '取消'")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.dataset.role") == "confirm-delete"
    page.keyboard.press("Enter")
    wait_count(page, "id_card", "1/2")
    assert focused_key(page) == "upload:id_card"
    choose_with_keyboard(images[2])
    wait_count(page, "id_card", "2/2")

    for material_type, path in zip(REQUIRED[1:], images[3:]):
        tab_to(page, f"upload:{material_type}")
        choose_with_keyboard(path)
        wait_count(page, material_type, "1/")
    wait_thumbnails(page)
    shot(page, output_dir, "02-all-uploaded")

    tab_to(page, "submit", backwards=True)
    page.keyboard.press("Enter")
    confirm = page.get_by_role("button", name="确认提交")
    confirm.wait_for()
    assert page.evaluate("() => document.activeElement.textContent") == "确认提交"
    page.keyboard.press("Enter")
    page.locator("section.banner.locked").wait_for()
    assert focused_key(page) == "banner"
    assert LOCK_BANNER in page.evaluate("() => document.activeElement.innerText")
    shot(page, output_dir, "03-submitted", full_page=False)


# -- 375 px wide ----------------------------------------------------------------------------------------
def test_the_layout_holds_at_375px_and_every_image_has_alt_text(system, open_page, images,
                                                              output_dir):
    page = open_page(PHONE)
    page.goto(f"{system.url}/")
    page.get_by_role("button", name="使用报名系统账号登录").wait_for()
    assert horizontal_overflow(page) == 0
    shot(page, output_dir, "01-sign-in")

    sign_in(page, system.url, "2026320400007")
    assert horizontal_overflow(page) == 0
    consent_on_page(page)
    upload(page, "id_card", images[0])
    wait_count(page, "id_card", "1/2")
    page.get_by_role("button", name="提交审核").click()       # a long refusal, with a list
    page.locator("#submit-error").wait_for()
    wait_thumbnails(page)
    assert horizontal_overflow(page) == 0
    assert page.eval_on_selector_all("img", "els => els.filter(e => !e.hasAttribute('alt')).length") == 0
    # Tap targets: the upload and delete buttons are big enough for a thumb.
    for locator in (card(page, "id_card").locator("button.upload-btn"),
                    card(page, "id_card").locator(".thumb-delete")):
        box = locator.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44
    # Top right: the submit button, inside the screen.
    submit = page.get_by_role("button", name="提交审核").bounding_box()
    assert submit["x"] + submit["width"] <= 375 and submit["x"] > 375 / 2 and submit["y"] < 60
    shot(page, output_dir, "02-phone")

    card(page, "registration_form").get_by_role("button", name="示例").click()
    dialog = page.locator("dialog[open]")
    dialog.locator("img.example-img").wait_for()
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert dialog.locator("img.example-img").evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    assert horizontal_overflow(page) == 0
    shot(page, output_dir, "03-example-dialog", full_page=False)
    page.keyboard.press("Escape")

    page.set_viewport_size(DESKTOP)
    shot(page, output_dir, "04-desktop")


def test_a_region_without_uploading_says_so_and_offers_nothing_to_change(system, open_page,
                                                                       output_dir):
    page = open_page(PHONE)
    sign_in(page, system.url, "2026110100001")
    text = page.locator("main").inner_text()
    assert "北京未开通网上上传材料" in text
    assert "现场审核" in text and "010-6000 0000" in text        # the region's notice and contact
    assert page.locator("button.upload-btn").count() == 0
    assert page.locator("section.card").count() == 0             # nothing uploaded, nothing to show
    assert page.get_by_role("button", name="提交审核").count() == 0
    assert horizontal_overflow(page) == 0
    shot(page, output_dir, "01-disabled-region")


# -- refusals next to their card; the inbox may be away ---------------------------------------------------
def test_refusals_are_shown_next_to_their_card_and_a_missing_inbox_does_not_break_the_page(
        system, open_page, tmp_path, output_dir):
    page = open_page(PHONE)
    # The notify service under construction or down: the page must carry on without it.
    page.route("**/api/v1/messages**", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body='{"error": {"code": "unavailable", "message": "服务暂时不可用，请稍后再试"}}'))
    sign_in(page, system.url, "2026320400008")
    consent_on_page(page)

    blurred = tmp_path / "blurred.jpg"
    blurred.write_bytes(jpeg_bytes(defocused(document_image(1000, 700, seed=3), 5.0), quality=85))
    upload(page, "probation_certificate", blurred)
    error = card(page, "probation_certificate").locator(".card-error")
    error.wait_for()
    direct = Candidate(system, "2026320400008", consent=False).call(
        "POST", "/package/items/probation_certificate/images",
        files={"file": ("b.jpg", blurred.read_bytes(), "image/jpeg")})
    assert direct.status_code == 422 and direct.json()["error"]["code"] == "image_unclear"
    assert error.inner_text() == direct.json()["error"]["message"]   # the API's own words
    assert card(page, "id_card").locator(".card-error").count() == 0

    fake = tmp_path / "scan.jpg"
    fake.write_bytes(b"GIF89a" + b"\0" * 200)                  # a .jpg that is not one
    choose(page, "id_card", fake)
    assert "jpg" in card(page, "id_card").locator(".card-error").inner_text()

    tiny = tmp_path / "tiny.jpg"
    tiny.write_bytes(document_jpeg(400, 300))
    choose(page, "degree_certificate", tiny)
    assert "分辨率过低" in card(page, "degree_certificate").locator(".card-error").inner_text()
    shot(page, output_dir, "01-refusals")

    page.get_by_role("button", name="消息").click()
    assert "暂时无法获取" in page.locator("dialog[open]").inner_text()
    shot(page, output_dir, "02-inbox-unavailable", full_page=False)
    page.keyboard.press("Escape")
    wait_count(page, "probation_certificate", "0/3")
