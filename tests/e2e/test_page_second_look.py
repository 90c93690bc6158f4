"""The candidate's page, second look (issue 29), in Chromium against the whole system: a
phone in portrait, guidance by return reason, an identical re-upload, banners that say
what to do, tap targets, upload progress, the respond-by countdown and the site's
typical review time. Every page state here is audited with axe-core at 390×844 and
1366×768.

Candidates of their own, imported here: 2026320402001 ... 2026320402020 (site 3204)."""
import pytest

from page_helpers import audit, card, choose, consent_on_page, shot, sign_in
from support import candidate
from unit.imagefactory import document_jpeg

PHONE_390 = {"width": 390, "height": 844}
PHONE_360 = {"width": 360, "height": 640}
DESKTOP_1366 = {"width": 1366, "height": 768}
FIRST = 2026320402001


def number(n):
    return str(FIRST + n)


@pytest.fixture(scope="module")
def people(admin):
    """This module's candidates, imported once (the registration system's way in)."""
    records = [candidate(number(n), serial=200 + n) for n in range(20)]
    summary = admin.call("auth", "import_candidates", records=records)
    assert not summary["errors"], summary
    return {r["registration_number"]: r for r in records}


def assert_accessible(page, output_dir, name):
    found = audit(page, output_dir, f"axe-{name}")
    assert not found, f"axe-core, {name}: {found}"


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
        assert_accessible(page, output_dir, f"{shape}-preview")
        page.keyboard.press("Escape")
        dialog.wait_for(state="detached")

        choose(page, "degree_certificate", documents[(shape, "fix")])
        accept = dialog.locator("[data-role=accept-fix]")
        accept.wait_for(timeout=30_000)
        dialog.locator("img.fix-preview").evaluate("img => img.decode()")
        shot(page, output_dir, f"{shape}-fix", full_page=False)
        assert fully_visible(accept), f"使用处理后的图片上传 off screen for a {shape} file"
        assert_accessible(page, output_dir, f"{shape}-fix")
        page.keyboard.press("Escape")
        dialog.wait_for(state="detached")
    assert card(page, "degree_certificate").locator("[data-testid=count]").inner_text() == "0/3"
