"""The security suite runs against the whole system (tests/e2e/system.py), started once
for the session on the shared servers with its own vhost, database prefix and bucket.

Its own system, not the e2e suite's: these tests disable accounts and exhaust rate
limits, which must not leak into the page tests. Built from the same helpers as
tests/e2e/conftest.py, so this folder also runs on its own."""
import pytest

from e2e.system import own_vhost, running_system


@pytest.fixture(scope="session")
def rabbit_vhost(request):
    with own_vhost(request, "sec") as amqp_uri:
        yield amqp_uri


@pytest.fixture(scope="session")
def system(tmp_path_factory, base_config, rabbit_vhost, s3_bucket, keys_dir):
    with running_system(tmp_path_factory.mktemp("security-system"), base_config, rabbit_vhost,
                        s3_bucket, keys_dir) as sut:
        yield sut


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
