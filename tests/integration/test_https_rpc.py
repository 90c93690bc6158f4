"""The RPC methods over HTTPS (DESIGN §5): POST /rpc/{service}/{method} on the service's
own HTTP entrypoint, with the methods' own scope checks, an allow-list, the §4 envelope
with the §5 kinds, and the audit's "from where" taken from the connection."""
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from review_helpers import ADMIN, ANNA, SITE_3201, SITE_3204
from services.notify.service import NotifyService
from support import bearer, https_rpc, staff_token


def result_of(response, status=200):
    assert response.status_code == status, response.text
    return response.json()["result"]


def error_of(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"], body
    assert "Traceback" not in response.text
    return body["error"]


def test_a_site_reviewer_works_a_case_over_https_within_their_sites_only(make_exam):
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    mine = staff_token(exam.config, SITE_3204, "Review@2026")
    other = staff_token(exam.config, SITE_3201, "Review@2026")

    listed = result_of(https_rpc(exam.review_url, "review", "list_queue", mine, limit=10))
    assert package_id in [item["package_id"] for item in listed["items"]]
    assert package_id not in [i["package_id"] for i in result_of(
        https_rpc(exam.review_url, "review", "list_queue", other, limit=10))["items"]]
    error_of(https_rpc(exam.review_url, "review", "get_case", other, package_id=package_id), 403, "forbidden")
    error_of(https_rpc(exam.review_url, "review", "claim", other, package_id=package_id), 403, "forbidden")

    case = result_of(https_rpc(exam.review_url, "review", "claim", mine, package_id=package_id))
    assert case["status"] == "claimed"
    result_of(https_rpc(exam.review_url, "review", "approve", mine, package_id=package_id))
    decided = result_of(https_rpc(exam.review_url, "review", "get_case", mine, package_id=package_id))
    assert (decided["status"], decided["status_name"]) == ("approved", "审核通过")


def test_only_allow_listed_methods_answer_and_each_only_at_its_own_service(make_exam, start_service):
    exam = make_exam()
    notify_url = start_service(NotifyService)
    admin = staff_token(exam.config, ADMIN, "Admin@2026")
    for url, service, method in ((exam.auth_url, "auth", "get_contact"), (exam.auth_url, "auth", "token_state"),
                                 (exam.auth_url, "auth", "compare_identity"),
                                 (exam.auth_url, "auth", "service_token"), (exam.review_url, "review", "nothing"),
                                 (exam.review_url, "review", "rpc_over_https"),
                                 (exam.materials_url, "review", "list_queue"),
                                 (notify_url, "notify", "on_package_approved"), (notify_url, "notify", "deliver_sms")):
        error_of(https_rpc(url, service, method, admin), 404, "not_found")
    assert result_of(https_rpc(exam.review_url, "review", "reasons", admin))
    # the names of review's codes, for the staff page's filters and counts
    assert result_of(https_rpc(exam.review_url, "review", "labels", admin))["statuses"]["confirming"] == "不通过待复核"
    assert result_of(https_rpc(exam.materials_url, "materials", "get_region", admin, region="32"))["region"] == "32"
    assert isinstance(result_of(https_rpc(exam.review_url, "review", "dead_letters", admin)), list)
    # notify's delivery views and retry (the staff pages' undelivered SMS)
    assert result_of(https_rpc(notify_url, "notify", "failed", admin, limit=10)) == []
    assert result_of(https_rpc(notify_url, "notify", "pending", admin)) == []
    error_of(https_rpc(notify_url, "notify", "retry", admin, message_id="f" * 32), 404, "not_found")
    reviewer = staff_token(exam.config, SITE_3204, "Review@2026")
    error_of(https_rpc(notify_url, "notify", "failed", reviewer), 403, "forbidden")  # admin only
    # notify's webhook subscribers (DESIGN §4a), national administrators only
    assert result_of(https_rpc(notify_url, "notify", "webhook_subscribers", admin)) == []
    assert result_of(https_rpc(notify_url, "notify", "failed_webhooks", admin)) == []
    error_of(https_rpc(notify_url, "notify", "webhook_subscribers", reviewer), 403, "forbidden")


def test_a_call_needs_a_valid_token_of_a_staff_role(make_exam):
    exam = make_exam()
    error_of(https_rpc(exam.review_url, "review", "list_queue"), 401, "unauthenticated")
    error_of(https_rpc(exam.review_url, "review", "list_queue", "not-a-token"), 401, "unauthenticated")
    error_of(https_rpc(exam.review_url, "review", "list_queue", exam.token(ANNA)), 403, "forbidden")
    reviewer = staff_token(exam.config, SITE_3204, "Review@2026")
    error_of(https_rpc(exam.review_url, "review", "dead_letters", reviewer), 403, "forbidden")  # admin only


def test_bad_arguments_and_refusals_come_back_as_the_design_kinds(make_exam):
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    mine = staff_token(exam.config, SITE_3204, "Review@2026")
    region = staff_token(exam.config, "reviewer.32", "Review@2026")
    url = exam.review_url
    error_of(https_rpc(url, "review", "list_queue", mine, size=10), 422, "validation_error")
    error_of(https_rpc(url, "review", "list_queue", mine, limit="many"), 422, "validation_error")
    error_of(https_rpc(url, "review", "get_case", mine), 422, "validation_error")  # package_id missing
    for body in (b"[1, 2]", b"{not json", b"[" * 5000):
        error_of(requests.post(f"{url}/rpc/review/list_queue", data=body, headers=bearer(mine),
                               timeout=20), 422, "validation_error")
    error_of(https_rpc(url, "review", "get_case", mine, package_id="2026320400999-2026"), 404, "not_found")
    error_of(https_rpc(url, "review", "approve", mine, package_id=package_id), 409, "invalid_transition")
    result_of(https_rpc(url, "review", "claim", mine, package_id=package_id))
    error_of(https_rpc(url, "review", "claim", region, package_id=package_id), 409, "conflict")  # held


def test_the_audit_says_where_a_call_came_from_as_the_connection_showed_it(make_exam, config):
    config["TRUSTED_PROXIES"] = 0  # no proxy in front here: nothing in the headers is believed
    exam = make_exam()
    package_id = exam.submit_package(ANNA)
    exam.queued(package_id)
    mine = staff_token(exam.config, SITE_3204, "Review@2026")
    response = requests.post(f"{exam.review_url}/rpc/review/get_case", json={"package_id": package_id},
                             headers=dict(bearer(mine), **{"X-Forwarded-For": "6.6.6.6"}), timeout=20)
    result_of(response)
    # Over AMQP, a caller may write anything in its context data: it is not believed either.
    with ClusterRpcProxy(exam.config, context_data={"authorization": f"Bearer {mine}",
                                                    "client": "forged-address"}) as proxy:
        proxy.review.get_case(package_id)
    reads = [e for e in exam.audit(package_id) if e["action"] == "read"]
    assert [e["client"] for e in reads] == ["127.0.0.1", None], reads
