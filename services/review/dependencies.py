"""Adapters of the review service: the review desk over its database, the URL presigner
and auth (for candidate snapshots)."""
from datetime import timedelta

from common import s3
from common.https_rpc import client_of
from common.mongo import MongoDependency
from common.rpc import ServiceRpc
from services.review.administration import Administration
from services.review.cases import Reviews, Settings
from services.review.ingest import Ingest, Profiles
from services.review.repository import CaseRepository
from services.review.tallies import StatusCounts

MAX_CLIENT_LEN = 120


class Presigner:
    """Presigns GETs with the read-only review keys, for the host browsers use."""

    def __init__(self, client, bucket, ttl_s):
        self.client = client
        self.bucket = bucket
        self.ttl = timedelta(seconds=ttl_s)

    def url(self, key):
        # Pure signing: the client knows its region, so no request reaches S3 here.
        return self.client.presigned_get_object(self.bucket, key, expires=self.ttl)


def caller_of(worker_ctx):
    """Where a call came from, for the audit log: the client's address as the connection
    showed it (calls over HTTPS; never what a caller writes), and the origin of the call
    chain."""
    client = client_of(worker_ctx)
    stack = worker_ctx.call_id_stack or []
    return {"client": str(client)[:MAX_CLIENT_LEN] if client else None,
            "via": stack[0].split(".", 1)[0] if stack else None}


class ReviewDesk(MongoDependency):
    service = "review"
    repository_class = CaseRepository

    def setup(self):
        super().setup()
        config = self.container.config
        self.settings = Settings.from_config(config)
        self.status_counts = StatusCounts(float((config.get("REVIEW") or {}).get("COUNTS_TTL_S", 60)))
        self.presigner = Presigner(s3.public_client(config), config["S3"]["BUCKET"],
                                   self.settings.url_ttl_s)

    def profiles_for(self, worker_ctx):
        proxy = next(dep for dep in self.container.dependencies if isinstance(dep, ServiceRpc))
        return Profiles(proxy.get_dependency(worker_ctx))

    def get_dependency(self, worker_ctx):
        return Desk(self, worker_ctx)


class Desk:
    """What a worker gets: the reviewer's use cases and the event intake, built lazily."""

    def __init__(self, provider, worker_ctx):
        self._provider = provider
        self._worker_ctx = worker_ctx

    @property
    def reviews(self):
        p = self._provider
        return Reviews(CaseRepository(p.db), p.presigner, p.profiles_for(self._worker_ctx),
                       p.settings, caller_of(self._worker_ctx))

    @property
    def admin(self):
        return Administration(CaseRepository(self._provider.db), caller_of(self._worker_ctx),
                              self._provider.status_counts)

    @property
    def ingest(self):
        return Ingest(CaseRepository(self._provider.db), self._provider.profiles_for(self._worker_ctx))
