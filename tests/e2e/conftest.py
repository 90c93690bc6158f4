"""The whole system, started once per test session (tests/e2e/system.py)."""
from pathlib import Path

import pytest

from system import own_vhost, running_system

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


@pytest.fixture(scope="session")
def rabbit_vhost(request):
    with own_vhost(request, "e2e") as amqp_uri:
        yield amqp_uri


@pytest.fixture(scope="session")
def system(tmp_path_factory, base_config, rabbit_vhost, s3_bucket, keys_dir):
    with running_system(tmp_path_factory.mktemp("system"), base_config, rabbit_vhost,
                        s3_bucket, keys_dir) as sut:
        yield sut


@pytest.fixture
def output_dir(request):
    """Where a test leaves screenshots and other artefacts (git-ignored)."""
    path = OUTPUT / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def admin(system):
    """The seeded admin, signed in over HTTPS with the second factor (once a session: a
    TOTP code is good for one sign-in)."""
    from dev.seed import admin_client
    return admin_client(system.url)
