"""Root fixtures. Monkey-patching comes first: nothing may import ssl, urllib3, pymongo
or minio before it (README, "Stack pitfalls").

Integration and e2e tests talk to the real servers `make test` starts (dev/servers.py);
each test gets its own RabbitMQ vhost (nameko's `rabbit_config`), its own database
names (a unique prefix, dropped afterwards) and the session its own S3 bucket."""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()  # noqa: E402

import os  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
from support import MONGO_URI, S3_ENDPOINT, free_port  # noqa: E402

# config.yaml holds no usable secret: the tests use the local ones (dev/secrets.py), as
# `make run` and the servers `make test` starts do.
from dev.secrets import services_env  # noqa: E402
for _name, _value in services_env().items():
    os.environ.setdefault(_name, _value)
# The suites keep this machine's CPU contended, and the ID card reader would defer its
# reads for minutes there (services/review/idcheck/reader.py); its deferral has unit tests.
os.environ.setdefault("OCR_MAX_DEFER_S", "0")
# The ID card reader is off (OCR.WORKERS 0) wherever it is not under test: each review
# container that met an id_card upload started a worker and read images nobody checked.
# test_id_check.py and the e2e tests of the check switch it on.
os.environ.setdefault("OCR_WORKERS", "0")
# argon2 at its cheapest (about 1 ms instead of 190 ms of CPU): every test makes staff
# accounts and signs people in, and at the production cost those hashes were minutes of
# the suite's CPU. The same code path; the cost's own behaviour is tested in
# tests/unit/test_auth_passwords.py and measured by `make bench` at the production cost.
for _name, _value in (("AUTH_HASH_TIME_COST", "1"), ("AUTH_HASH_MEMORY_KIB", "8"),
                      ("AUTH_HASH_PARALLELISM", "1")):
    os.environ.setdefault(_name, _value)


# Fixtures of the integration helpers, registered here once (pytest takes plugins only from
# the root conftest): test modules import helpers, never fixtures.
pytest_plugins = ["review_helpers", "outcome_helpers"]


# Whole-system and fault tests are `slow` by where they live, so a new test there is too;
# the fuzz module marks itself. `make test-fast` deselects them.
SLOW_FOLDERS = ("e2e", "faults")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.relative_to(ROOT / "tests").parts[0] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def base_config():
    """config.yaml as the services read it, with defaults only (no test isolation yet)."""
    from common.config import load_config
    return load_config(str(ROOT / "config.yaml"))


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory):
    from services.auth.keys import ensure_dev_key
    directory = tmp_path_factory.mktemp("keys")
    ensure_dev_key(directory, kid="test-1")
    return directory


@pytest.fixture(scope="session")
def s3_bucket(base_config):
    """A bucket of this test session's own, emptied and removed at the end."""
    from common import s3
    config = dict(base_config, S3=dict(base_config["S3"], ENDPOINT=S3_ENDPOINT))
    client = s3.make_client(config)
    name = f"test-{uuid.uuid4().hex[:12]}"
    client.make_bucket(name)
    yield name
    for obj in client.list_objects(name, recursive=True):
        client.remove_object(name, obj.object_name)
    client.remove_bucket(name)


@pytest.fixture
def mongo_client():
    from pymongo import MongoClient
    client = MongoClient(MONGO_URI, serverSelectionTimeoutMS=3000)
    yield client
    client.close()


@pytest.fixture
def config(rabbit_config, base_config, keys_dir, s3_bucket, mongo_client):
    """A complete service config isolated to this test."""
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    config = dict(base_config)
    config.update(rabbit_config)
    config["MONGO"] = {"URI": MONGO_URI, "DB_PREFIX": prefix, "SELECT_TIMEOUT_MS": 3000}
    config["S3"] = dict(base_config["S3"], ENDPOINT=S3_ENDPOINT, BUCKET=s3_bucket,
                        PUBLIC_ENDPOINT=f"http://{S3_ENDPOINT}")
    config["TOKENS"] = dict(base_config["TOKENS"], KEYS_DIR=str(keys_dir), ACTIVE_KID="test-1")
    config["WEB_SERVER_ADDRESS"] = f"127.0.0.1:{free_port()}"
    config.pop("LOGGING", None)
    yield config
    for name in mongo_client.list_database_names():
        if name.startswith(prefix):
            mongo_client.drop_database(name)


def _wait_for_token_state(container, timeout=15):
    """A service answers authenticated requests once it has heard from auth (until then
    503): wait for that, as a load balancer waits for readiness, so a test's first
    request is judged on its token and not on start-up order."""
    import eventlet
    from common.security import TokenAuth
    providers = [dep for dep in container.dependencies if isinstance(dep, TokenAuth)]
    with eventlet.Timeout(timeout, TimeoutError(f"{container.service_name} never synced with auth")):
        while not all(p.state.synced_at is not None for p in providers):
            eventlet.sleep(0.05)


@pytest.fixture
def registration_standin(config):
    """The registration system's stand-in (dev/registration_standin) for this test, in this
    process on a free port, with a database of its own under the test's prefix. Auth
    started with start_service signs candidates in through it; tests make candidates
    with support.create_candidates(registration_standin, records)."""
    from dev.registration_standin import Standin
    server = Standin(mongo_uri=MONGO_URI, database=f"{config['MONGO']['DB_PREFIX']}standin",
                     secret_key=uuid.uuid4().hex, client_id=config["FEDERATION"]["CLIENT_ID"],
                     client_secret=os.environ["FEDERATION_CLIENT_SECRET"],
                     registration_secret=os.environ["REGISTRATION_SYSTEM_SECRET"],
                     feed_poll_s=0).start()  # no notify at its origin here: the feed is e2e's
    yield server
    server.stop()


def federation_config(config, standin, auth_url):
    """auth's FEDERATION settings for the stand-in, its callback at `auth_url`."""
    callback = f"{auth_url}/auth/federation/callback"
    standin.connect(auth_url, redirect_uri=callback)
    return dict(config["FEDERATION"], ISSUER=standin.url, REDIRECT_URI=callback)


@pytest.fixture
def start_service(container_factory, config, request):
    """Start a service container on a port of its own; returns its base URL. Auth gets the
    `registration_standin` fixture as its OpenID Provider (and the stand-in feeds that auth)."""
    started = {}

    def start(service_cls):
        own = dict(config, WEB_SERVER_ADDRESS=f"127.0.0.1:{free_port()}")
        if service_cls.name == "auth":
            own["FEDERATION"] = federation_config(config, request.getfixturevalue("registration_standin"),
                                                  f"http://{own['WEB_SERVER_ADDRESS']}")
        container = container_factory(service_cls, own)
        container.start()
        started[service_cls.name] = container
        _wait_for_token_state(container)
        return f"http://{own['WEB_SERVER_ADDRESS']}"

    start.containers = started
    return start
