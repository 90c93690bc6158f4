"""A small exam on the real servers for the review suites: auth, materials and review
running, region 32 configured, candidates imported, staff created, and helpers to get a
candidate's package submitted the way the upload page does it."""
import hashlib
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone

import pytest
import requests
from nameko.events import event_handler as nameko_event_handler
from nameko.exceptions import RemoteError

from services.auth.service import AuthService
from services.materials.service import MaterialsService
from services.review.service import ReviewService
from support import bearer, candidate, create_candidates, login, make_admin, make_reviewer, rpc, staff_token, wait_for
from unit.imagefactory import document_jpeg

ADMIN = "admin.test"
SITE_3204, OTHER_3204, SITE_3201, REGION_32 = "reviewer.3204", "reviewer2.3204", "reviewer.3201", "reviewer.32"
ANNA, BEN, CAI = "2026320400001", "2026320400002", "2026320400003"   # site 3204 常州
DING = "2026320100001"                                                # site 3201 南京
REQUIRED = (("id_card", 2), ("degree_certificate", 1), ("probation_certificate", 1),
            ("registration_form", 1))
EXTRA_FOR_CLINICAL = "work_certificate"


class ReviewEvents:
    """Records what review announces, as materials and notify receive it."""
    name = "review_listener"
    seen = []

    @nameko_event_handler("review", "ReviewStarted")
    def started(self, payload):
        ReviewEvents.seen.append(("ReviewStarted", payload))

    @nameko_event_handler("review", "MaterialReturned")
    def returned(self, payload):
        ReviewEvents.seen.append(("MaterialReturned", payload))

    @nameko_event_handler("review", "PackageApproved")
    def approved(self, payload):
        ReviewEvents.seen.append(("PackageApproved", payload))

    @nameko_event_handler("review", "PackageRejected")
    def rejected(self, payload):
        ReviewEvents.seen.append(("PackageRejected", payload))

    @classmethod
    def of(cls, event_type, package_id):
        return [p for t, p in cls.seen if t == event_type and p["package_id"] == package_id]


def refused(kind, call, *args, **kwargs):
    """Assert an RPC call fails with the DESIGN §5 error kind; returns the RemoteError."""
    with pytest.raises(RemoteError) as info:
        call(*args, **kwargs)
    assert info.value.exc_type == kind, info.value
    return info.value


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class Exam:
    def __init__(self, config, auth_url, materials_url, review_url=None):
        self.config = config
        self.auth_url = auth_url
        self.materials_url = materials_url
        self.review_url = review_url
        self._tokens = {}
        self._proxies = {}
        self._stack = ExitStack()

    # -- staff over RPC ------------------------------------------------------------------------
    def review(self, username):
        """A long-lived RPC proxy to review, signed in as `username`."""
        if username not in self._proxies:
            password = "Admin@2026" if username == ADMIN else "Review@2026"
            token = staff_token(self.config, username, password)
            self._proxies[username] = self._stack.enter_context(rpc(self.config, token)).review
        return self._proxies[username]

    def close(self):
        self._stack.close()

    def queued(self, package_id, attempt=1, status="pending"):
        """Wait until the case shows in the queue (listing is not audited, opening is)."""
        def find():
            items = self.review(ADMIN).list_queue(status=status, limit=200)["items"]
            return next((i for i in items if i["package_id"] == package_id
                         and i["attempt"] == attempt), None)
        return wait_for(find, timeout=10, message=f"{package_id} {status} attempt {attempt}")

    def audit(self, package_id):
        return self.review(ADMIN).audit(package_id)

    # -- the candidate on the upload page ----------------------------------------------------------
    def token(self, number):
        if number not in self._tokens:
            self._tokens[number] = login(self.auth_url, number)["access_token"]
        return self._tokens[number]

    def call(self, method, number, path="", **kwargs):
        return requests.request(method, f"{self.materials_url}/api/v1/package{path}",
                                headers=bearer(self.token(number)), timeout=30, **kwargs)

    def package(self, number):
        response = self.call("GET", number)
        assert response.status_code == 200, response.text
        return response.json()

    def item(self, number, material_type):
        return next(i for i in self.package(number)["items"] if i["material_type"] == material_type)

    def upload(self, number, material_type, data):
        return self.call("POST", number, f"/items/{material_type}/images",
                         files={"file": ("scan.jpg", data, "image/jpeg")})

    def submit_package(self, number, images=None, seed=0):
        """Consent, upload every required type, submit; returns the package id.

        `images` may give the bytes per type; others are drawn (distinct per seed)."""
        images = images or {}
        consent = self.call("POST", number, "/consent", json={"notice_version": "2026-1"})
        assert consent.status_code == 200, consent.text
        for n, (material_type, count) in enumerate(REQUIRED):
            for i in range(count):
                data = images.get(material_type) or document_jpeg(seed=seed * 10 + n * 2 + i)
                response = self.upload(number, material_type, data)
                assert response.status_code == 201, response.text
        submitted = self.call("POST", number, "/submit")
        assert submitted.status_code == 200, submitted.text
        return submitted.json()["package_id"]


def region_32():
    now = datetime.now(timezone.utc)
    national = [code for code, _ in REQUIRED]
    return {"name": "江苏", "upload_enabled": True,
            "window": {"start": (now - timedelta(days=1)).isoformat(),
                       "end": (now + timedelta(days=30)).isoformat()},
            "sites": {"3204": "常州", "3201": "南京"},
            "categories": {"clinical_practitioner": {"required": national + [EXTRA_FOR_CLINICAL]}}}


@pytest.fixture
def make_exam(start_service, container_factory, config, registration_standin):
    """Start the exam with review's lease and URL lifetime for this test."""
    exams = []

    def make(lease_s=60, url_ttl_s=600, hold_s=None):
        config["REVIEW"] = {"LEASE_S": lease_s, "URL_TTL_S": url_ttl_s}
        if hold_s is not None:  # how long a held decision waits before its event leaves
            config["REVIEW"]["HOLD_S"] = hold_s
        auth_url = start_service(AuthService)
        materials_url = start_service(MaterialsService)
        review_url = start_service(ReviewService)
        listener = container_factory(ReviewEvents, config)
        listener.start()
        ReviewEvents.seen.clear()
        make_admin(config, ADMIN)
        for username, sites in ((SITE_3204, ["3204"]), (OTHER_3204, ["3204"]),
                                (SITE_3201, ["3201"]), (REGION_32, ["*"])):
            make_reviewer(config, username, sites)
        exam = Exam(config, auth_url, materials_url, review_url)
        exam.standin = registration_standin  # where candidates are made (support.create_candidates)
        exams.append(exam)
        create_candidates(registration_standin, [candidate(ANNA, serial=1), candidate(BEN, serial=2),
                                                 candidate(CAI, serial=3), candidate(DING, site="3201", serial=4)])
        with rpc(config, staff_token(config, ADMIN, "Admin@2026")) as proxy:
            proxy.materials.configure_region("32", region_32())
        return exam

    yield make
    for exam in exams:
        exam.close()
