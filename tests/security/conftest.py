"""The security suite runs against the whole system (tests/e2e/system.py), started once
for the session on the shared servers with its own vhost, database prefix and bucket.

The fixtures are declared the same way as tests/e2e/conftest.py (that module imports
`system` by a path only the e2e folder has), so this folder also runs on its own."""
import uuid

import pytest
import requests

from e2e.system import System


@pytest.fixture(scope="session")
def rabbit_vhost(request):
    """A vhost of this session's own on the local broker (management API)."""
    api = request.config.getoption("RABBIT_API_URI").rstrip("/")
    amqp = request.config.getoption("RABBIT_AMQP_URI").rstrip("/")
    vhost = f"sec_{uuid.uuid4().hex[:10]}"
    auth = ("guest", "guest")
    base = "http://" + api.split("@")[-1]
    requests.put(f"{base}/api/vhosts/{vhost}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{base}/api/permissions/{vhost}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    yield "amqp://" + amqp.split("://", 1)[1].rsplit("/", 1)[0] + f"/{vhost}"
    requests.delete(f"{base}/api/vhosts/{vhost}", auth=auth, timeout=10)


@pytest.fixture(scope="session")
def system(tmp_path_factory, base_config, rabbit_vhost, s3_bucket, keys_dir):
    from pymongo import MongoClient
    from support import MONGO_URI, S3_ENDPOINT
    sut = System(tmp_path_factory.mktemp("security-system"), base_config, rabbit_vhost,
                 MONGO_URI, S3_ENDPOINT, s3_bucket, keys_dir)
    try:
        sut.start()
        yield sut
    finally:
        sut.stop()
        client = MongoClient(MONGO_URI)
        sut.drop_databases(client)
        client.close()


@pytest.fixture(scope="session")
def admin_token(system):
    from support import staff_token
    return staff_token(system.config, "admin", "Admin@2026")


@pytest.fixture(scope="session")
def s3_client(system):
    """The materials identity's client on the system's bucket (reads objects directly)."""
    from common import s3
    return s3.make_client(system.config)


@pytest.fixture(scope="session")
def system_mongo(system):
    from pymongo import MongoClient
    client = MongoClient(system.mongo_uri, serverSelectionTimeoutMS=5000)
    yield client
    client.close()
