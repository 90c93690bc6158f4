"""What the outcome feed and webhook tests share: auth and notify on the real servers,
events published as materials and review would, the registration system's token, a
national administrator's, and the feed read the way a reader reads it."""
import itertools

import pytest
import requests
from nameko.standalone.events import event_dispatcher

from common import events
from dev.outcome_feed import client_token
from services.auth.service import AuthService
from services.notify.service import NotifyService
from support import bearer, make_admin, staff_token

FEED = "/integration/v1/outcomes"
_serial = itertools.count(1)


def fast_rounds(config):
    """Fast rounds and retries; local development (receivers on 127.0.0.1): the config of
    the suites marked `outcome_settings` (tests/integration/conftest.py)."""
    config["NOTIFY"] = {"POLL_S": 0.1, "RETRY_BASE_S": 0.2, "RETRY_MAX_S": 1.0,
                        "CURSOR_KEYS": "outcome-tests-cursor-key"}
    config["WEBHOOKS"] = {"RETRY_BASE_S": 0.2, "RETRY_MAX_S": 0.5, "HORIZON_S": 60,
                          "CONNECT_TIMEOUT_S": 1, "READ_TIMEOUT_S": 1, "SEND_TIMEOUT_S": 2,
                          "LOCAL_DEVELOPMENT": True}
    return config


class Outcomes:
    def __init__(self, config, auth_url, notify_url, db):
        self.config, self.auth_url, self.url, self.db = config, auth_url, notify_url, db
        self.dispatch = event_dispatcher(config)
        make_admin(config)
        self.admin = staff_token(config, "admin.test", "Admin@2026")
        # the registration system's client, with the secret the stand-in also uses
        self.registration = client_token(auth_url, config["CLIENTS"]["REGISTRATION_SYSTEM_SECRET"])

    # -- events as their sources publish them ----------------------------------------------------
    def publish(self, cls, number=None, site="3204", year=2026, **fields):
        number = number or f"20263204{next(_serial):05d}"
        payload = cls(package_id=f"{number}-{year}", candidate_id=number, region=site[:2], site=site,
                      **fields).to_payload()
        self.dispatch(cls.source, cls.__name__, payload)
        return payload

    def submitted(self, number=None, attempt=1, **kw):
        return self.publish(events.PackageSubmitted, number, attempt=attempt, category="integrated_practitioner",
                            items=[{"material_type": "id_card", "image_ids": ["a" * 32]}], **kw)

    def returned(self, number=None, attempt=1, **kw):
        fields = dict(reviewer_id="staff:reviewer.3204", respond_by="2026-05-20", items=[
            {"material_type": "id_card", "reason_code": "unclear", "reason": "图片不清晰"}])
        return self.publish(events.MaterialReturned, number, attempt=attempt, **dict(fields, **kw))

    def approved(self, number=None, attempt=1, **kw):
        return self.publish(events.PackageApproved, number, attempt=attempt, reviewer_id="staff:r", **kw)

    # -- the feed -----------------------------------------------------------------------------------
    def feed(self, token=None, **params):
        return requests.get(f"{self.url}{FEED}", params=params, timeout=10,
                            headers=bearer(token or self.registration))

    def page(self, after=None, limit=500):
        params = {"limit": limit} if after is None else {"after": after, "limit": limit}
        response = self.feed(**params)
        assert response.status_code == 200, response.text
        return response.json()

    def everything(self):
        """Every item from the start, following `next`."""
        items, after = [], None
        while True:
            body = self.page(after)
            items += body["items"]
            after = body["next"]
            if not body["items"]:
                return items

    def call(self, method, token=None, **kwargs):
        """POST /rpc/notify/{method} (support.https_rpc takes `url` itself; so do these)."""
        return requests.post(f"{self.url}/rpc/notify/{method}", json=kwargs, timeout=20,
                             headers=bearer(token or self.admin))


@pytest.fixture
def outcomes(start_service, config, mongo_client):
    auth_url = start_service(AuthService)
    notify_url = start_service(NotifyService)
    return Outcomes(config, auth_url, notify_url, mongo_client[config["MONGO"]["DB_PREFIX"] + "notify"])
