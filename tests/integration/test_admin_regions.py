"""Region settings as a region administrator edits them (issue 19 item 7): scope,
versions with who/when/diff, optimistic concurrency, and what candidates then see."""
from datetime import datetime, timedelta, timezone

import pytest
import requests

from services.auth.service import AuthService
from services.materials.service import MaterialsService
from support import bearer, candidate, create_candidates, login, make_admin, rpc, staff_token, wait_for

NUMBER = "2026320400801"


def window():
    now = datetime.now(timezone.utc)
    return {"start": (now - timedelta(days=3)).isoformat(), "end": (now + timedelta(days=3)).isoformat()}


def settings(**overrides):
    return dict({"name": "江苏", "upload_enabled": True, "window": window(),
                 "sites": {"3204": "常州", "3201": "南京"}}, **overrides)


@pytest.fixture
def admins(start_service, config, registration_standin):
    auth_url = start_service(AuthService)
    url = start_service(MaterialsService)
    make_admin(config, "admin.32", region="32")
    make_admin(config, "admin.33", region="33")
    tokens = {name: staff_token(config, name, "Admin@2026") for name in ("admin.32", "admin.33")}
    create_candidates(registration_standin, [candidate(NUMBER, serial=801)])
    with rpc(config, tokens["admin.32"]) as proxy:
        proxy.materials.configure_region("32", settings())
    return {"config": config, "url": url, "auth_url": auth_url, **tokens}


def test_a_change_is_versioned_with_who_when_and_a_diff_against_the_previous_version(admins):
    with rpc(admins["config"], admins["admin.32"]) as proxy:
        current = proxy.materials.get_region("32")
        proxy.materials.configure_region("32", settings(
            upload_enabled=False, respond_days=5, contact="常州考点 0519-88880000", notice="上传已暂停"),
            expected_version=current["version"])
        history = proxy.materials.region_history("32")
    newest = history[0]
    assert newest["version"] == current["version"] + 1 and newest["updated_by"] == "staff:admin.32"
    assert newest["updated_at"]
    changes = {c["field"]: (c["before"], c["after"]) for c in newest["changes"]}
    assert changes["upload_enabled"] == (True, False)
    assert changes["respond_days"] == (7, 5)
    assert changes["notice"] == ("", "上传已暂停")
    assert not any(f.startswith("sites") for f in changes)  # unchanged settings are not listed
    assert history[-1]["version"] == 1


def test_an_edit_made_on_a_stale_version_is_refused_and_changes_nothing(admins):
    with rpc(admins["config"], admins["admin.32"]) as proxy:
        version = proxy.materials.get_region("32")["version"]
        proxy.materials.configure_region("32", settings(notice="第一位管理员"), expected_version=version)
        with pytest.raises(Exception) as refused:
            proxy.materials.configure_region("32", settings(notice="第二位管理员"), expected_version=version)
        assert refused.value.exc_type == "Conflict"
        assert proxy.materials.get_region("32")["notice"] == "第一位管理员"
    # over HTTPS the same refusal is 409 with a message saying what to do
    response = requests.post(f"{admins['url']}/rpc/materials/configure_region", headers=bearer(admins["admin.32"]),
                             json={"region": "32", "config": settings(), "expected_version": version}, timeout=10)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict" and "刷新" in response.json()["error"]["message"]


def test_an_administrator_of_another_region_neither_sees_the_history_nor_changes_the_settings(admins):
    with rpc(admins["config"], admins["admin.33"]) as proxy:
        for call in (lambda: proxy.materials.region_history("32"),
                     lambda: proxy.materials.configure_region("32", settings(upload_enabled=False))):
            with pytest.raises(Exception) as refused:
                call()
            assert refused.value.exc_type == "Forbidden"
    with rpc(admins["config"], admins["admin.32"]) as proxy:
        assert proxy.materials.get_region("32")["upload_enabled"] is True


def test_settings_out_of_bounds_are_refused_with_a_chinese_message(admins):
    with rpc(admins["config"], admins["admin.32"]) as proxy:
        before = proxy.materials.get_region("32")["version"]
        for bad in (settings(respond_days=0), settings(respond_days="7"), settings(notice="长" * 501),
                    settings(contact={"$ne": ""})):
            with pytest.raises(Exception) as refused:
                proxy.materials.configure_region("32", bad)
            assert refused.value.exc_type == "ValidationError"
        assert proxy.materials.get_region("32")["version"] == before


def test_the_candidate_sees_uploading_off_with_the_contact_and_notice_within_the_cache_ttl(admins):
    token = login(admins["auth_url"], NUMBER)["access_token"]

    def package():
        return requests.get(f"{admins['url']}/api/v1/package", headers=bearer(token), timeout=10).json()

    assert package()["upload_enabled"] is True
    with rpc(admins["config"], admins["admin.32"]) as proxy:
        proxy.materials.configure_region("32", settings(upload_enabled=False, contact="0519-88880000",
                                                        notice="系统维护，暂停上传"))
    wait_for(lambda: package()["upload_enabled"] is False, timeout=5, message="uploading off")
    seen = package()
    assert (seen["region_contact"], seen["region_notice"]) == ("0519-88880000", "系统维护，暂停上传")
