"""Adapters of the review service: the review desk over its database, the URL presigner,
auth (for candidate snapshots and the ID card verdicts), materials (for region settings)
and the ID card reader (its OCR worker processes and the read-only image source)."""
from datetime import timedelta

from common import s3
from common.https_rpc import client_of
from common.mongo import MongoDependency
from common.rpc import ServiceRpc
from common.settings import load
from common.wiring import sibling
from services.review.administration import Administration
from services.review.cases import Reviews
from services.review.idcheck import IdChecks
from services.review.ingest import Ingest, Profiles
from services.review.regions import RegionSettings
from services.review.reader import ImageSource, OcrPool
from services.review.repository import CaseRepository
from services.review.settings import ReviewSettings
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

    def __init__(self, auth_rpc, materials_rpc):
        self.auth_rpc = auth_rpc  # the ServiceRpc to auth (attribute name), for snapshots
        self.materials_rpc = materials_rpc  # and to materials, for the regions' settings

    def setup(self):
        super().setup()
        self._auth_rpc = sibling(self, self.auth_rpc, ServiceRpc)
        self._materials_rpc = sibling(self, self.materials_rpc, ServiceRpc)
        config = self.container.config
        self.settings = load(ReviewSettings, config)
        self.status_counts = StatusCounts(self.settings.counts_ttl_s)
        self.presigner = Presigner(s3.public_client(config), self.settings.bucket,
                                   self.settings.url_ttl_s)
        self.region_cache = {}
        self.reader = OcrPool(self.settings)
        self.source = ImageSource(s3.make_client(config, "READ_ACCESS_KEY", "READ_SECRET_KEY"),
                                  self.settings.bucket)

    def stop(self):
        self.reader.stop()
        super().stop()

    def profiles_for(self, worker_ctx):
        return Profiles(self.rpc_proxy(worker_ctx))

    def regions_for(self, worker_ctx):
        return RegionSettings(self._materials_rpc.get_dependency(worker_ctx), self.region_cache)

    def rpc_proxy(self, worker_ctx):
        """The auth proxy (ServiceRpc: calls carry review's own service token)."""
        return self._auth_rpc.get_dependency(worker_ctx)

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
                       p.settings, caller_of(self._worker_ctx), p.regions_for(self._worker_ctx))

    @property
    def admin(self):
        return Administration(CaseRepository(self._provider.db), caller_of(self._worker_ctx),
                              self._provider.status_counts, self._provider.regions_for(self._worker_ctx))

    @property
    def ingest(self):
        return Ingest(CaseRepository(self._provider.db), self._provider.profiles_for(self._worker_ctx))

    @property
    def id_checks(self):
        p = self._provider
        return IdChecks(CaseRepository(p.db).id_checks, p.source, p.reader,
                        p.rpc_proxy(self._worker_ctx))
