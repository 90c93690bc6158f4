"""The whole system, started once per test session (tests/e2e/system.py)."""
from pathlib import Path

import pytest

from page_helpers import PHONE, Browser, ensure_cjk_font
from staff_helpers import STAFF_DESKTOP, staff_sign_in
from system import own_vhost, running_system
from unit.imagefactory import document_jpeg

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


@pytest.fixture(scope="session")
def rabbit_vhost(request):
    with own_vhost(request, "e2e") as amqp_uri:
        yield amqp_uri


@pytest.fixture(scope="session")
def system(tmp_path_factory, base_config, rabbit_vhost, s3_bucket, keys_dir):
    with running_system(tmp_path_factory.mktemp("system"), base_config, rabbit_vhost,
                        s3_bucket, keys_dir) as sut:
        yield sut


@pytest.fixture
def reader_on(system):
    """review's ID card reader on for one test (the suites keep it off, tests/conftest.py),
    at requests' priority: these tests check what it read, and an idle-class worker
    waits minutes on a machine the other test lanes keep busy."""
    with system.restarted("review", OCR_WORKERS="1", OCR_NICE="0"):
        yield


@pytest.fixture
def output_dir(request):
    """Where a test leaves screenshots and other artefacts (git-ignored)."""
    path = OUTPUT / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def admin(system):
    """The seeded admin's RPC client over HTTPS (support.staff_client)."""
    from support import staff_client
    return staff_client(system, "admin", "Admin@2026")


# -- the candidate's page in Chromium (test_page*.py) ----------------------------------------
@pytest.fixture(scope="module")
def browser():
    from system import ensure_chromium
    ensure_chromium()
    ensure_cjk_font()
    chromium = Browser()
    yield chromium
    chromium.close()


@pytest.fixture
def open_page(browser):
    """open_page(viewport, **context options) -> a fresh page (own cookies and
    sessionStorage) that records script errors and CSP violations; the test fails if
    there were any."""
    pages = []

    def make(viewport=PHONE, **options):
        page = browser.new_page(viewport, **options)
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda message: page.errors.append(message.text)
                if "Content Security Policy" in message.text else None)
        pages.append(page)
        return page

    yield make
    for page in pages:
        errors = list(page.errors)
        page.context.close()
        assert not errors, f"script errors or CSP violations on the page: {errors}"


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Valid uploads (~120 KB, 1000x700 scans), each different, as files."""
    folder = tmp_path_factory.mktemp("uploads")
    paths = []
    for seed in range(1, 9):
        path = folder / f"scan-{seed}.jpg"
        path.write_bytes(document_jpeg(seed=seed))
        paths.append(path)
    return paths


@pytest.fixture
def staff_page(open_page):
    """staff_page() -> a fresh page of the staff workspace's size (1366x768), checked as
    open_page's are."""
    return lambda: open_page(STAFF_DESKTOP)


# -- administrators in the staff workspace (test_staff_admin*.py) -------------------------------
@pytest.fixture(scope="module")
def recovery_codes(system):
    """A whole-region administrator of 32 and a 3201-only one, each with a second factor;
    every browser sign-in uses one of their single-use recovery codes (no TOTP step to wait for)."""
    from services.auth.cli import use_cases
    staff = use_cases(system.config).staff
    codes = {}
    for name, sites in (("admin.32", []), ("admin.3201", ["3201"])):
        staff.save_staff(name, "admin", "32", sites, "Admin@2026")
        codes[name] = list(staff.enrol_second_factor(name)["recovery_codes"])
    return codes


@pytest.fixture
def admin_page(open_page, system, recovery_codes):
    """admin_page(username) -> a signed-in administrator's 1366x768 page (open_page's
    checks: the test fails on script errors or CSP violations)."""
    def make(username="admin.32"):
        page = open_page(STAFF_DESKTOP, accept_downloads=True)
        staff_sign_in(page, system.url, username, "Admin@2026", otp=recovery_codes[username].pop())
        return page

    return make
