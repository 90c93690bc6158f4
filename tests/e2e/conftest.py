"""The whole system, started once per test session (tests/e2e/system.py)."""
import os
import uuid
from pathlib import Path

import pytest
import requests

from system import System

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


@pytest.fixture(scope="session")
def rabbit_vhost(request):
    """A vhost of this session's own on the local broker (management API)."""
    api = request.config.getoption("RABBIT_API_URI").rstrip("/")
    amqp = request.config.getoption("RABBIT_AMQP_URI").rstrip("/")
    vhost = f"e2e_{uuid.uuid4().hex[:10]}"
    auth = ("guest", "guest")
    base = "http://" + api.split("@")[-1]
    requests.put(f"{base}/api/vhosts/{vhost}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{base}/api/permissions/{vhost}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    yield "amqp://" + amqp.split("://", 1)[1].rsplit("/", 1)[0] + f"/{vhost}"
    requests.delete(f"{base}/api/vhosts/{vhost}", auth=auth, timeout=10)


@pytest.fixture(scope="session")
def system(tmp_path_factory, base_config, rabbit_vhost, s3_bucket, keys_dir):
    from support import MONGO_URI, S3_ENDPOINT
    from pymongo import MongoClient
    sut = System(tmp_path_factory.mktemp("system"), base_config, rabbit_vhost, MONGO_URI,
                 S3_ENDPOINT, s3_bucket, keys_dir)
    try:
        sut.start()
        yield sut
    finally:
        sut.stop()
        client = MongoClient(MONGO_URI)
        sut.drop_databases(client)
        client.close()


@pytest.fixture
def output_dir(request):
    """Where a test leaves screenshots and other artefacts (git-ignored)."""
    path = OUTPUT / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path
