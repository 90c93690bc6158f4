"""Review's adapters: one DependencyProvider per resource, each building its client in
setup() from the config (settings.ReviewSettings) and injecting a small object that
speaks review's terms. bootstrap.py builds the use cases from what they inject."""
import hashlib
import logging
from datetime import timedelta

import eventlet
from nameko.extensions import DependencyProvider

from common import outbox, s3
from common.errors import Unavailable
from common.https_rpc import client_of
from common.mongo import MongoDependency
from common.rpc import ServiceRpc
from common.settings import load
from services.review.admin import overview
from services.review.admin.tallies import StatusCounts, Tallies
from services.review.idcheck.reader import OcrPool, ReaderFailed
from services.review.regions import RegionSettings
from services.review.repository import CaseRepository
from services.review.settings import ReviewSettings

log = logging.getLogger(__name__)

MAX_CLIENT_LEN = 120


# -- the `review` database ------------------------------------------------------------------------
class CaseDatabase(MongoDependency):
    """Cases (with their outbox), image metadata, the audit log, ID card checks, tallies."""
    service = "review"
    repository_class = CaseRepository


class TallyingRelay(outbox.OutboxRelay):
    """The cases' outbox relay, counting every decision it publishes (admin/tallies.py)."""

    def after_publish(self, collection, doc_id, entry):
        if entry["type"] in overview.DECISION_KINDS:
            case = collection.find_one({"_id": doc_id}, {"history": 1, "decision": 1})
            Tallies(self.db).count_decision(entry["type"], entry["payload"], case)


# -- materials' images in S3, through review's read-only keys --------------------------------------
class ReadOnlyImages:
    """Presigned GETs for the host browsers use (SigV4 covers it, so a client of its own),
    and an image's bytes for the ID card reader, checked against their SHA-256."""

    def __init__(self, presigning, reading, bucket, url_ttl_s, deadline_s=4.0):
        self.presigning = presigning
        self.reading = reading
        self.bucket = bucket
        self.ttl = timedelta(seconds=url_ttl_s)
        self.deadline_s = deadline_s

    def url(self, key):
        # Pure signing: the client knows its region, so no request reaches S3 here.
        return self.presigning.presigned_get_object(self.bucket, key, expires=self.ttl)

    def get(self, key, sha256):
        """The image's bytes, or None when it is gone (deleted since the upload)."""
        data = s3.read_object(self.reading, self.bucket, key,
                              eventlet.Timeout(self.deadline_s, Unavailable(s3.UNAVAILABLE)))
        if data is None:
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ReaderFailed("stored image fails its SHA-256 check")
        return data


class ImageBucket(DependencyProvider):
    def setup(self):
        config = self.container.config
        settings = load(ReviewSettings, config)
        self.images = ReadOnlyImages(s3.public_client(config),
                                     s3.make_client(config, "READ_ACCESS_KEY", "READ_SECRET_KEY"),
                                     settings.bucket, settings.url_ttl_s)

    def get_dependency(self, worker_ctx):
        return self.images


# -- the ID card reader's worker processes ---------------------------------------------------------
class IdCardReader(DependencyProvider):
    """The OCR pool (idcheck/reader.py): started on first use, its processes stopped with the service."""

    def setup(self):
        self.pool = OcrPool(load(ReviewSettings, self.container.config))

    def stop(self):
        self.pool.stop()

    def kill(self):
        self.pool.stop()

    def get_dependency(self, worker_ctx):
        return self.pool


# -- the sibling services, called with review's own service token ----------------------------------
class Profiles:
    """What review asks auth about candidates. A case is still built while auth is down;
    its snapshot is then fetched when a reviewer first opens the case."""

    def __init__(self, auth_rpc):
        self.auth_rpc = auth_rpc

    def fetch(self, candidate_id):
        """The candidate's profile (masked numbers only), or None while auth cannot answer."""
        try:
            return self.auth_rpc.get_profile(candidate_id)
        except Exception as exc:  # RemoteError, Unavailable, timeouts: degrade, never fail
            log.warning("candidate profile unavailable: %s", type(exc).__name__)
            return None

    def candidate_by_id_number(self, id_number):
        """auth's match of a full ID number (its keyed hash); an outage is the caller's
        (Unavailable): a search that could not ask must not answer "nobody"."""
        return self.auth_rpc.candidate_by_id_number(id_number)

    def compare_identity(self, candidate_id, id_number, name, expires):
        """auth's verdicts on what the ID card reader read; the values go nowhere else."""
        return self.auth_rpc.compare_identity(candidate_id, id_number=id_number, name=name,
                                              expires=expires)


class AuthProfiles(ServiceRpc):
    def __init__(self, **options):
        super().__init__("auth", **options)

    def get_dependency(self, worker_ctx):
        return Profiles(super().get_dependency(worker_ctx))


class MaterialsRegions(ServiceRpc):
    """materials' region settings (regions.py), kept a minute per region in this process."""

    def __init__(self, **options):
        super().__init__("materials", **options)

    def setup(self):
        super().setup()
        self.cache = {}  # {region: (fetched_at, settings)}, shared by the workers

    def get_dependency(self, worker_ctx):
        return RegionSettings(super().get_dependency(worker_ctx), self.cache)


# -- this process's own state ------------------------------------------------------------------------
class StatusCountCache(DependencyProvider):
    """The overview's per-site counts by status, shared by the workers (tallies.StatusCounts)."""

    def setup(self):
        self.counts = StatusCounts(load(ReviewSettings, self.container.config).counts_ttl_s)

    def get_dependency(self, worker_ctx):
        return self.counts


class Settings(DependencyProvider):
    """The service's settings (ReviewSettings), read once at start."""

    def setup(self):
        self.settings = load(ReviewSettings, self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings


class CallOrigin(DependencyProvider):
    """Where a call came from, for the audit log: the client's address as the connection
    showed it (calls over HTTPS; never what a caller writes), and the origin of the call
    chain."""

    def get_dependency(self, worker_ctx):
        client = client_of(worker_ctx)
        stack = worker_ctx.call_id_stack or []
        return {"client": str(client)[:MAX_CLIENT_LEN] if client else None,
                "via": stack[0].split(".", 1)[0] if stack else None}
