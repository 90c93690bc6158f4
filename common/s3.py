"""S3 client construction (minio), sized to the worker pool (README, "Stack pitfalls")."""
import urllib3
from minio import Minio
from minio.error import S3Error
from urllib.parse import urlsplit

from common.config import as_bool
from common.errors import Unavailable

UNAVAILABLE = "图片存储暂时不可用，请稍后再试"


def make_client(config, access_key="ACCESS_KEY", secret_key="SECRET_KEY", endpoint=None):
    s3 = config["S3"]
    workers = int(config.get("max_workers", 10))
    # A server that accepts connections but answers nothing (SIGSTOP) must cost a request
    # seconds, not minutes: short timeouts, and no retry of a read that timed out (the
    # caller's deadline, materials/storage.py, bounds the whole call).
    http = urllib3.PoolManager(
        maxsize=workers + 4, timeout=urllib3.Timeout(connect=2, read=3),
        retries=urllib3.Retry(total=2, connect=2, read=0, backoff_factor=0.2,
                              status_forcelist=(500, 502, 503, 504)))
    secure = as_bool(s3.get("SECURE", False))
    if endpoint is not None:
        parts = urlsplit(endpoint)
        endpoint, secure = parts.netloc, parts.scheme == "https"
    return Minio(endpoint or s3["ENDPOINT"], access_key=s3[access_key], secret_key=s3[secret_key],
                 secure=secure, region=s3.get("REGION", "us-east-1"), http_client=http)


def public_client(config, access_key="READ_ACCESS_KEY", secret_key="READ_SECRET_KEY"):
    """A client that only presigns, for the host:port browsers use (SigV4 covers Host)."""
    return make_client(config, access_key, secret_key, endpoint=config["S3"]["PUBLIC_ENDPOINT"])


def read_object(client, bucket, key, deadline):
    """An object's bytes, or None when there is no such key; Unavailable when S3 refused.
    `deadline`: a started eventlet.Timeout bounding the whole call (it raises the caller's
    own outage), since the client's timeouts bound each socket operation only."""
    try:
        with deadline:
            response = client.get_object(bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()
    except S3Error as exc:
        if exc.code == "NoSuchKey":
            return None
        raise Unavailable(UNAVAILABLE) from exc
