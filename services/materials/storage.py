"""Images in the S3 bucket (DESIGN §7), behind a small domain-speaking wrapper.

Objects are written before the record that points to them and removed after the
record is gone; SHA-256 is stored with the record and checked on every read back."""
import hashlib
import io
import logging

import eventlet
from minio.error import S3Error
from urllib3 import exceptions as http_errors
from nameko.extensions import DependencyProvider

from common import s3
from common.errors import NotFound, Unavailable
from common.settings import load
from services.materials.settings import MaterialsSettings

log = logging.getLogger(__name__)


# The connection was never made: the request cannot have reached S3.
NEVER_CONNECTED = (http_errors.NewConnectionError, http_errors.ConnectTimeoutError)
DEADLINE_S = 4.0  # one S3 call; with the database's own deadline a request answers in 5 s
CHECK_DEADLINE_S = 2.0


class IntegrityError(Exception):
    """The stored bytes no longer match their recorded SHA-256."""


class StorageTimeout(Unavailable):
    """S3 did not answer in time, or the connection broke mid-call: whether the call took
    effect is unknown."""
    message = "图片存储暂时不可用，请稍后再试"


def deadline(seconds=DEADLINE_S):
    """A whole S3 call, retries included, within `seconds` (a server that accepts
    connections and answers nothing would otherwise hold the request)."""
    return eventlet.Timeout(seconds, StorageTimeout())


class ImageStore:
    def __init__(self, client, bucket):
        self.client = client
        self.bucket = bucket

    def put(self, key, data, content_type):
        """Store the object. Unavailable: certainly not stored (S3 answered so, or was never
        reached); StorageTimeout: perhaps stored (the caller keeps its pending note)."""
        try:
            with deadline():
                self.client.put_object(self.bucket, key, io.BytesIO(data), len(data),
                                       content_type=content_type)
        except S3Error as exc:
            raise Unavailable(s3.UNAVAILABLE) from exc
        except http_errors.MaxRetryError as exc:
            if isinstance(exc.reason, NEVER_CONNECTED):
                raise Unavailable(s3.UNAVAILABLE) from exc
            raise StorageTimeout() from exc
        except NEVER_CONNECTED as exc:
            raise Unavailable(s3.UNAVAILABLE) from exc
        except (http_errors.HTTPError, OSError) as exc:
            # Cut off after the request went out (S3 stopped mid-answer): it may have
            # stored the object; seen as an orphan without a note in the fault suite.
            raise StorageTimeout() from exc

    def get(self, key, sha256):
        data = s3.read_object(self.client, self.bucket, key, deadline())
        if data is None:
            raise NotFound("图片不存在")
        if hashlib.sha256(data).hexdigest() != sha256:
            log.error("stored object fails its SHA-256 check: %s", key)
            raise IntegrityError(key)
        return data

    def remove(self, key):
        try:
            with deadline():
                self.client.remove_object(self.bucket, key)
        except S3Error as exc:
            if exc.code != "NoSuchKey":
                raise Unavailable(s3.UNAVAILABLE) from exc

    def keys(self, prefix=""):
        for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
            yield obj.object_name, obj.last_modified


class ImageStorage(DependencyProvider):
    """The images' bucket: one S3 client per container; each worker gets an ImageStore."""
    health_name = "s3"

    def setup(self):
        self.bucket = load(MaterialsSettings, self.container.config).bucket
        if not self.bucket:
            raise RuntimeError("S3.BUCKET is not set: materials has nowhere to keep images")
        self.client = s3.make_client(self.container.config)
        self._ensure = None

    def start(self):
        self._ensure = self.container.spawn_managed_thread(self._ensure_bucket)

    def stop(self):
        if self._ensure is not None:
            self._ensure.kill()

    def _ensure_bucket(self):
        delay = 0.5
        while True:
            try:
                if not self.client.bucket_exists(self.bucket):
                    self.client.make_bucket(self.bucket)
                return
            except Exception as exc:  # S3 down at start: retry, never crash the service
                log.warning("bucket check failed (%s); retrying", type(exc).__name__)
                eventlet.sleep(delay)
                delay = min(delay * 2, 10)

    def health_check(self):
        with deadline(CHECK_DEADLINE_S):
            if not self.client.bucket_exists(self.bucket):
                raise RuntimeError("bucket missing")

    def get_dependency(self, worker_ctx):
        return ImageStore(self.client, self.bucket)
