"""The staff workspace's shell (issue 19 item 1) in Debian's Chromium against the whole
system: sign in through the staff flow, the header with who and which sites, the nav,
sign out; an expired session returns to sign-in and back to the same screen."""
from staff_helpers import screenshot, staff_sign_in


def test_a_reviewer_signs_in_and_the_header_shows_who_and_which_sites(system, staff_page, output_dir):
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3204")
    assert page.locator("[data-testid=who]").inner_text() == "reviewer.3204"
    assert page.locator("[data-testid=scope]").inner_text() == "考点 3204"
    assert page.get_by_role("navigation", name="工作台导航").get_by_role("link", name="待审队列").is_visible()
    assert page.url.endswith("/staff/#/queue")
    page.locator("[data-testid=counts] li").first.wait_for()
    screenshot(page, output_dir, "signed-in")

    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="登录", exact=True).wait_for()
    assert page.evaluate("() => sessionStorage.getItem('staff-web.tokens')") is None


def test_a_region_reviewer_sees_the_whole_region_in_the_header(system, staff_page):
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.32")
    assert page.locator("[data-testid=scope]").inner_text() == "考区 32 全部考点"


def test_an_expired_session_returns_to_sign_in_and_back_to_the_same_screen(system, staff_page):
    page = staff_page()
    staff_sign_in(page, system.url, "reviewer.3204")
    page.goto(f"{system.url}/staff/#/case/not-a-package")
    page.get_by_role("alert").filter(has_text="没有该材料包").wait_for()
    # The session ends elsewhere (signed out in another window, or the account's tokens
    # revoked): the page still holds both tokens, and neither works any more.
    assert page.evaluate("""async () => {
        const t = JSON.parse(sessionStorage.getItem('staff-web.tokens'));
        const r = await fetch('/auth/logout', {method: 'POST', body: new URLSearchParams({refresh_token: t.refresh_token}),
            headers: {Authorization: `Bearer ${t.access_token}`}});
        return r.status;
    }""") in (200, 204)
    page.wait_for_timeout(2500)  # services poll auth's revocation list every 2 s (common/security.py)
    page.reload()
    page.get_by_text("登录已过期，请重新登录").wait_for()
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/auth/authorize**")
    page.fill("#username", "reviewer.3204")
    page.fill("#password", "Review@2026")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{system.url}/staff/#/case/not-a-package")
