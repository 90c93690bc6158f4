"""Driving the candidate page (web/) in Debian's Chromium with Playwright (sync API).

The test process runs under eventlet's monkey-patching (tests/conftest.py). Playwright's
sync API runs its event loop and its listeners in greenlets of its own, and each of them
returns control to the greenlet that switched into it when it ends. Eventlet's hub, though,
re-parents every greenlet that blocks on it to the hub itself; a Playwright greenlet that
once waited on the hub (the dispatcher in its selector, a listener) then ends into the hub
instead, the greenlet waiting for it is never resumed, and the test hangs at random
(seen: wait_for_url after a click, and Playwright's stop). `keep_playwright_parents()`
makes Playwright's greenlet classes ignore that re-parenting.
"""
import shutil
import subprocess
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def ensure_cjk_font():
    """Screenshots are only worth looking at with Chinese glyphs; phones have them, a fresh
    Debian does not. Best effort: a test never fails for want of a font."""
    try:
        found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=20)
        if found.stdout.strip() or shutil.which("apt-get") is None:
            return
        from dev.servers import apt_install
        apt_install("fonts-wqy-microhei")
    except Exception:  # noqa: BLE001 - fonts only make screenshots legible
        pass


def keep_playwright_parents():
    import greenlet
    from playwright._impl import _greenlets
    native = greenlet.greenlet.parent  # the C-level descriptor

    def get_parent(self):
        return native.__get__(self, type(self))

    def ignore(self, value):
        pass  # eventlet's hub.switch() assigns here; Playwright never does

    fixed = property(get_parent, ignore)
    for value in vars(_greenlets).values():
        if isinstance(value, type) and issubclass(value, greenlet.greenlet) \
                and value is not greenlet.greenlet:
            value.parent = fixed


class Browser:
    """Playwright + one Chromium for a test module."""

    def __init__(self):
        from playwright.sync_api import sync_playwright
        keep_playwright_parents()
        self._manager = sync_playwright()
        self.playwright = self._manager.start()
        executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        self.browser = self.playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)

    def new_page(self, viewport=PHONE, **options):
        context = self.browser.new_context(viewport=viewport, locale="zh-CN",
                                           timezone_id="Asia/Shanghai", **options)
        context.set_default_timeout(15_000)
        return context.new_page()

    def close(self):
        try:
            self.browser.close()
        finally:
            self.playwright.stop()


def sign_in(page, base_url, username, password="Demo@2026"):
    """From the page's sign-in screen through the registration system's sign-in and
    consent (its stand-in) and back, signed in."""
    page.goto(f"{base_url}/")
    page.get_by_role("button", name="使用报名系统账号登录").click()
    provider_sign_in(page, username, password)  # at the registration system, via auth
    page.wait_for_url(f"{base_url}/")
    page.locator("[data-testid=status]").wait_for()


def provider_sign_in(page, username, password="Demo@2026"):
    """On the registration system's stand-in: its sign-in form (unless signed in there
    already), then 授权 on its consent page."""
    consent = page.get_by_role("button", name="授权", exact=True)
    login = page.locator("#login")
    login.or_(consent).first.wait_for()
    if login.is_visible():
        login.fill(username)
        page.fill("#password", password)
        page.get_by_role("button", name="登录", exact=True).click()
    consent.click()


def card(page, material_type):
    return page.locator(f'section.card[data-type="{material_type}"]')


def choose(page, material_type, path):
    """Choose a file for a type's upload button (the hidden input behind it); the page
    checks it and shows a preview, or refuses it next to the card."""
    card(page, material_type).locator("input[type=file]").set_input_files(str(path))


def upload(page, material_type, path):
    """Choose a file and press 提交 under its preview."""
    choose(page, material_type, path)
    page.locator("dialog[open] [data-role=confirm-upload]").click()


def delete(page, material_type, index=0):
    """Press 删除 under a thumbnail and confirm."""
    card(page, material_type).locator(".thumb-delete").nth(index).click()
    page.locator("dialog[open] [data-role=confirm-delete]").click()


# WCAG 2.2 AA as axe-core tags it; serious and critical findings fail a test.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                        "wcag22aa", "best-practice"]},
               "resultTypes": ["violations"]}


def audit(page, output_dir=None, name="axe"):
    """axe-core's violations on the page as it is now, serious or critical only (the full
    report is written beside the screenshots)."""
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page, options=AXE_OPTIONS)
    if output_dir is not None:
        (Path(output_dir) / f"{name}.txt").write_text(results.generate_report())
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def assert_accessible(page, output_dir, name):
    """No serious or critical axe-core violation on the page as it is now."""
    found = audit(page, output_dir, f"axe-{name}")
    assert not found, f"axe-core, {name}: {found}"


def count_text(page, material_type):
    return card(page, material_type).locator("[data-testid=count]").inner_text().strip()


def wait_count(page, material_type, expected):
    card(page, material_type).locator("[data-testid=count]").filter(has_text=expected).wait_for()


def shot(page, output_dir, name, full_page=True):
    """A screenshot to look at: the whole page from the top (where the sticky bar belongs),
    or just the viewport as it is (dialogs, focus)."""
    path = Path(output_dir) / f"{name}.png"
    if full_page:
        page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page)
    return path


def horizontal_overflow(page):
    """Pixels the document is wider than the viewport (0 when there is no sideways scroll)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def wait_thumbnails(page):
    """Every uploaded image's thumbnail fetched (with the token) and decoded."""
    page.wait_for_function("() => [...document.querySelectorAll('img[data-image]')]"
                           ".every(img => img.complete && img.naturalWidth > 0)")


def consent_on_page(page):
    page.get_by_label("我已阅读并理解《个人信息处理告知书》", exact=False).check()
    page.get_by_role("button", name="同意并开始上传").click()
    page.locator("#consent").wait_for(state="detached")
