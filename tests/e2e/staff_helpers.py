"""Driving the staff workspace (web/staff/) in Debian's Chromium: sign-in through the
auth service's staff form (client `staff-web`), and what the staff tests share."""
from page_helpers import shot

STAFF_DESKTOP = {"width": 1366, "height": 768}


def staff_sign_in(page, base_url, username, password="Review@2026", otp=None, start="/staff/"):
    """From the workspace's sign-in screen through auth's staff form and back."""
    page.goto(f"{base_url}{start}")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/auth/authorize**")
    page.fill("#username", username)
    page.fill("#password", password)
    if otp is not None:
        page.fill("#otp", otp)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{base_url}/staff/**")
    page.locator("[data-testid=who]").wait_for()


def screenshot(page, output_dir, name):
    """The viewport as a reviewer sees it at 1366x768."""
    return shot(page, output_dir, name, full_page=False)


def serious_violations(page):
    """axe-core's serious and critical findings on the page as it is now (id: targets)."""
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page)
    return {v["id"]: [n["target"] for n in v["nodes"]][:3] for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")}


def queue_row(page, package_id):
    """The package's row in the queue's own table (not under 我认领的 or a search's results)."""
    return page.locator(f'[data-testid=queue] tr[data-package="{package_id}"]')


def choose_filter(page, label, value):
    """Choose a queue filter and wait for the page it loads."""
    with page.expect_response(lambda r: r.url.endswith("/rpc/review/list_queue")):
        page.get_by_label(label, exact=True).select_option(value)


# -- the administrators' screens ----------------------------------------------------------------
SCREENS = {"overview": "统计概览", "region": "考区设置", "import": "考生导入", "dead-letters": "失败事件"}


def open_screen(page, system, screen):
    page.goto(f"{system.url}/staff/#/admin/{screen}")
    page.get_by_role("heading", name=SCREENS[screen]).first.wait_for()


def chart_option(page, testid):
    """The chart's option as ECharts holds it (the same module instance the page loaded)."""
    return page.evaluate("""async (testid) => {
        const echarts = await import('/staff/vendor/echarts.esm.min.js');
        const chart = echarts.getInstanceByDom(document.querySelector(`[data-testid=chart-${testid}]`));
        const option = chart.getOption();
        return {xAxis: option.xAxis[0].data, yAxis: option.yAxis[0].data,
                series: option.series.map(s => ({name: s.name, data: s.data}))};
    }""", testid)
