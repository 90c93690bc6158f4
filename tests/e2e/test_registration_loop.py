"""The loop a candidate walks (DESIGN §1): the registration system's 报名信息 page (its
stand-in), 上传相关材料, sign-in and consent there, and our upload page, signed in; upload,
submit, a return, resubmission and approval; and every outcome back on the registration
system's page (DESIGN §4a: it follows our feed and receives our webhooks). The stand-in's
pages are Chinese, keyboard- and screen-reader-usable, and pass axe."""
from page_helpers import PHONE, audit, consent_on_page, delete, provider_sign_in, shot, upload, wait_count
from support import Candidate, candidate, create_candidates, return_by_reviewer, rpc, wait_for

NANJING = "2026320100955"


def sign_in_at_the_registration_system(page, system, number):
    page.goto(f"{system.standin.url}/")
    page.locator("#login").wait_for()
    page.get_by_label("报名号或身份证号").fill(number)
    page.get_by_label("密码").fill("Demo@2026")
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("heading", name="报名信息", exact=True).wait_for()


def test_a_candidate_goes_from_the_registration_systems_page_to_the_upload_page_signed_in(
        system, open_page, output_dir):
    create_candidates(system.standin, [candidate(NANJING, site="3201", serial=955, name="南京考生55")])
    page = open_page(PHONE)
    page.goto(f"{system.standin.url}/")
    assert not audit(page, output_dir, "axe-login"), "the stand-in's sign-in page"
    shot(page, output_dir, "01-registration-sign-in")
    sign_in_at_the_registration_system(page, system, NANJING)
    upload_section = page.locator("section", has=page.get_by_role("heading", name="报名材料上传"))
    assert "南京考生55" in page.locator("main").inner_text()
    assert "暂无审核结果" in page.locator("section", has=page.get_by_role("heading", name="材料审核结果")).inner_text()
    button = upload_section.get_by_role("link", name="上传相关材料")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    assert not audit(page, output_dir, "axe-registration"), "the 报名信息 page"
    shot(page, output_dir, "02-registration-info")

    button.click()
    page.wait_for_url(f"{system.url}/")
    page.get_by_role("button", name="使用报名系统账号登录").click()
    page.wait_for_url(f"{system.standin.url}/authorize**")  # signed in there already: consent only
    assert page.get_by_role("heading", name="授权登录").is_visible()
    assert "报名号" in page.locator("main").inner_text()
    assert not audit(page, output_dir, "axe-consent"), "the stand-in's consent page"
    shot(page, output_dir, "03-consent")
    provider_sign_in(page, NANJING)
    page.wait_for_url(f"{system.url}/")
    page.locator("[data-testid=status]").wait_for()
    assert "南京考生55" in page.locator("section.profile").inner_text()
    assert page.get_by_role("heading", name="个人信息处理告知书").is_visible()
    shot(page, output_dir, "04-upload-page-signed-in")


def test_a_candidate_not_signed_in_there_signs_in_then_consents(system, open_page):
    page = open_page(PHONE)
    page.goto(f"{system.url}/")
    page.get_by_role("button", name="使用报名系统账号登录").click()
    page.wait_for_url(f"{system.standin.url}/login**")
    provider_sign_in(page, "2026320400010")
    page.wait_for_url(f"{system.url}/")
    assert "江苏常州考生10" in page.locator("section.profile").inner_text()


def test_refusing_consent_returns_to_the_page_saying_so(system, open_page):
    page = open_page(PHONE)
    page.goto(f"{system.url}/")
    page.get_by_role("button", name="使用报名系统账号登录").click()
    page.locator("#login").fill("2026320400009")
    page.locator("#password").fill("Demo@2026")
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("button", name="拒绝").click()
    page.wait_for_url(f"{system.url}/")
    assert "您已取消授权登录" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("button", name="使用报名系统账号登录").is_visible()


def test_a_region_without_uploading_shows_its_notice_and_no_button(system, open_page, output_dir):
    page = open_page(PHONE)
    sign_in_at_the_registration_system(page, system, "2026110100001")
    main = page.locator("main").inner_text()
    assert "本考区不开展网上材料上传" in main and "现场审核" in main
    assert page.get_by_role("link", name="上传相关材料").count() == 0
    assert not audit(page, output_dir, "axe-registration-disabled")


def test_stored_review_outcomes_are_listed_under_the_review_result(system, open_page, output_dir):
    number = "2026320400008"
    system.standin.record_outcome({
        "event_id": "e2e-outcome-1", "sequence": 1, "candidate_id": number, "package_id": f"{number}-2026",
        "region": "32", "site": "3204", "attempt": 1, "status": "returned", "occurred_at": "2026-05-02T02:00:00Z",
        "items": [{"material_type": "id_card", "reason_code": "unclear", "reason": "身份证照片不清晰"}],
        "respond_by": "2026-05-09"})
    system.standin.record_outcome({"event_id": "e2e-outcome-1", "sequence": 1, "candidate_id": number,
                                   "status": "approved", "attempt": 1})  # the same event again: kept once
    page = open_page(PHONE)
    sign_in_at_the_registration_system(page, system, number)
    results = page.locator("section", has=page.get_by_role("heading", name="材料审核结果")).inner_text()
    assert "退回修改" in results and "身份证照片不清晰" in results and "2026-05-09" in results
    assert "id_card" not in results  # the type by its name (our catalogue, read with the region)
    assert "审核通过" not in results and "2026-05-02 10:00" in results  # Beijing time
    assert not audit(page, output_dir, "axe-outcomes")
    shot(page, output_dir, "outcomes")


def outcomes_section(page):
    return page.locator("section", has=page.get_by_role("heading", name="材料审核结果"))


def test_the_whole_loop_from_the_registration_page_through_review_and_back(system, open_page, images,
                                                                           output_dir):
    number = "2026320100956"
    create_candidates(system.standin, [candidate(number, site="3201", serial=956, name="南京考生56")])
    page = open_page(PHONE)
    sign_in_at_the_registration_system(page, system, number)
    page.get_by_role("link", name="上传相关材料").click()
    page.wait_for_url(f"{system.url}/")
    page.get_by_role("button", name="使用报名系统账号登录").click()
    provider_sign_in(page, number)                  # signed in there already: consent only
    page.wait_for_url(f"{system.url}/")
    consent_on_page(page)
    for (material_type, count), files in zip(LOOP_REQUIRED, (images[0:2], images[2:3], images[3:4], images[4:5])):
        for path in files:
            upload(page, material_type, path)
        wait_count(page, material_type, f"{count}/")
    page.get_by_role("button", name="提交审核").click()
    page.get_by_role("button", name="确认提交").click()
    page.locator("section.banner.locked").wait_for()

    package_id = Candidate(system, number, consent=False).package()["package_id"]
    reviewer = return_by_reviewer(system, package_id, [{"material_type": "degree_certificate", "reason": "unclear"}],
                                  site="3201", respond_by="2026-12-31")
    page.locator("[data-testid=status]").filter(has_text="已退回待补正").wait_for(timeout=10_000)
    delete(page, "degree_certificate")
    upload(page, "degree_certificate", images[5])
    wait_count(page, "degree_certificate", "1/")
    page.get_by_role("button", name="提交审核").click()
    page.get_by_role("button", name="确认提交").click()
    page.locator("section.banner.locked").wait_for()
    with rpc(system.config, reviewer) as proxy:
        wait_for(lambda: proxy.review.get_case(package_id)["attempt"] == 2, timeout=20, message="attempt 2")
        proxy.review.claim(package_id)
        proxy.review.approve(package_id)
    page.locator("[data-testid=status]").filter(has_text="审核通过").wait_for(timeout=10_000)

    # Back at the registration system: each outcome, as its feed reader and webhook took it.
    page.goto(f"{system.standin.url}/registration")

    def listed():
        page.reload()
        rows = outcomes_section(page).locator("ol.outcomes > li")
        return rows.all_inner_texts() if rows.count() == 4 else None
    rows = wait_for(listed, timeout=30, interval=1, message="four outcomes on the registration page")
    assert [row.split("（")[0].strip() for row in rows] == ["审核通过", "已提交审核", "退回修改", "已提交审核"]
    assert "第2次提交" in rows[0] and "第1次提交" in rows[2]
    assert "学历证书" in rows[2] and "2026-12-31" in rows[2]
    assert not audit(page, output_dir, "axe-loop-outcomes")
    shot(page, output_dir, "loop-outcomes")


LOOP_REQUIRED = (("id_card", 2), ("degree_certificate", 1), ("probation_certificate", 1),
                 ("registration_form", 1))
