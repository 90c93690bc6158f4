"""Decisions on an open page (DESIGN §4, issue 20 item 2) in Debian's Chromium, against
the whole running system behind its nginx: a reviewer's claim and return, made over
RPC while the candidate's page is open, show on that page within 5 seconds, without a
reload, through the page's Server-Sent Events stream (web/js/live.js). The return
carries the region's default respond-by date (item 3), shown in the banner.

Screenshots land in test-output/<test name>/."""
import time
from datetime import timedelta

from common import clock
from page_helpers import PHONE, shot, sign_in
from support import Candidate, candidate, create_candidates, rpc, staff_token, wait_until_queued

NUMBER = "2026320400971"
STREAM = "/api/v1/package/events"


def test_a_reviewers_return_shows_on_an_open_page_within_five_seconds_without_reload(
        system, admin, browser, output_dir):
    create_candidates(system.standin, [candidate(NUMBER, serial=971)])
    api = Candidate(system, NUMBER)
    api.fill_required()
    package_id = api.submit()["package_id"]

    page = browser.new_page(PHONE)
    errors, loads = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("framenavigated", lambda frame: loads.append(frame.url))
    # (Playwright hands events over only inside its own calls: wait through one.)
    with page.expect_response(lambda r: r.url.endswith(STREAM) and r.status == 200, timeout=15_000):
        sign_in(page, system.url, NUMBER)
    status = page.locator("[data-testid=status]")
    assert status.inner_text() == "已提交待审核"
    loads.clear()

    reviewer = staff_token(system.config, "reviewer.3204", "Review@2026")
    with rpc(system.config, reviewer) as proxy:
        wait_until_queued(proxy, package_id, timeout=20)
        proxy.review.claim(package_id)
        status.filter(has_text="审核中").wait_for(timeout=5_000)
        shot(page, output_dir, "01-in-review-without-reload")
        returned_at = time.monotonic()
        proxy.review.return_materials(package_id, items=[
            {"material_type": "degree_certificate", "reason": "unclear"}])  # no date given

    status.filter(has_text="已退回待补正").wait_for(timeout=5_000)
    assert time.monotonic() - returned_at < 5.0
    assert loads == [], "the page was reloaded"
    deadline = clock.beijing_today() + timedelta(days=7)  # the region's default
    banner = page.locator("section.banner.returned")
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in banner.inner_text()
    assert api.package()["feedback"]["respond_by"] == deadline.isoformat()
    shot(page, output_dir, "02-returned-without-reload")
    assert errors == []
    page.context.close()
