"""A private set of servers (own ports, own data folder) and the whole system on it,
so these tests can stop and start servers without disturbing anything else."""
import os
import signal

import pytest
import requests

from dev import procs, servers
from e2e.system import System
from support import free_ports


class PrivateServers:
    def __init__(self, base):
        ports = free_ports(8)
        self.layout = servers.Layout(
            base=base, amqp_port=ports[0], rabbit_api_port=ports[1], rabbit_dist_port=ports[2],
            rabbit_node=f"faults{ports[0]}@localhost", mongo_port=ports[3], s3_port=ports[4],
            weed_ports=tuple(ports[5:8]))
        self.entries = {}

    def start(self, name):
        if name == "rabbitmq":
            self.entries[name] = servers.start_rabbitmq(self.layout)
        elif name == "mongo":
            self.entries[name] = servers.start_mongo(self.layout)[1]
        elif name == "s3":
            self.entries[name] = servers.start_seaweedfs(self.layout)

    def stop(self, name):
        entry = self.entries.pop(name, None)
        if entry is None:
            return
        if name == "rabbitmq":
            servers.stop_rabbitmq(dict(entry, epmd=False), self.layout)
        else:
            # SeaweedFS takes 15 s to give up on SIGTERM; an outage need not be graceful.
            procs.stop_pid(entry["pid"], timeout=2 if name == "s3" else 15)

    def kill(self, name):
        """SIGKILL, as a crash or the OOM killer would: no chance to flush anything."""
        entry = self.entries.pop(name)
        os.killpg(entry["pid"], signal.SIGKILL)
        procs.stop_pid(entry["pid"], timeout=5)  # reaps it

    def start_all(self):
        _together(self.start, ("rabbitmq", "mongo", "s3"))

    def stop_all(self):
        _together(self.stop, list(self.entries))


def _together(action, names):
    """Run `action(name)` for every name at once (green threads: the waits overlap)."""
    import eventlet
    pool = eventlet.GreenPool()
    threads = [pool.spawn(action, name) for name in names]
    for thread in threads:
        thread.wait()


@pytest.fixture(scope="session")
def private_servers(tmp_path_factory):
    private = PrivateServers(tmp_path_factory.mktemp("servers"))
    try:
        private.start_all()
        yield private
    finally:
        private.stop_all()


RETRY_DELAY_MS = 500


class FaultSystem(System):
    """The system as `make run` starts it, with a few environment overrides (config.yaml's
    `${VAR:default}`) that keep the suite short without changing what is tested."""

    ENV = {
        # notify asks auth for a contact again after min(30 s, RETRY_MAX_S) when auth was
        # unreachable; provider retries are capped by the same value.
        "NOTIFY_RETRY_MAX_S": "3",
    }

    def env(self, service=None):
        return dict(super().env(service), **self.ENV)

    def stop(self):
        """The processes only: the private broker goes with the suite's servers."""
        self.stop_processes()

    def freeze(self, name):
        """SIGSTOP a service (it holds its connections but does nothing)."""
        os.killpg(self.procs[name].pid, signal.SIGSTOP)

    def thaw(self, name):
        os.killpg(self.procs[name].pid, signal.SIGCONT)


def short_retry_delays(layout, ttl_ms=RETRY_DELAY_MS):
    """A broker policy on the private broker that shortens the reliable handlers' retry
    delays (1, 5, 30 and 120 s, the last also for every retry during an outage): RabbitMQ
    applies the lower of a policy's message-ttl and a queue's x-message-ttl. Attempts,
    headers and parking stay the handler's own; only the waiting shrinks. (The same
    policy operators would set; README, Operating notes.)"""
    url = f"{layout.rabbit_api}/api/policies/%2F/faults-short-retry-delays"
    requests.put(url, auth=("guest", "guest"), timeout=10, json={
        "pattern": r"\.retry\.\d+$", "apply-to": "queues", "priority": 0,
        "definition": {"message-ttl": ttl_ms}}).raise_for_status()


@pytest.fixture(scope="session")
def fault_system(tmp_path_factory, private_servers, base_config, keys_dir):
    from common import s3
    layout = private_servers.layout
    config = dict(base_config, S3=dict(base_config["S3"], ENDPOINT=layout.s3_endpoint))
    client = s3.make_client(config)
    if not client.bucket_exists("materials"):
        client.make_bucket("materials")
    sut = FaultSystem(tmp_path_factory.mktemp("fault-system"), base_config, layout.amqp_uri,
                      layout.mongo_uri, layout.s3_endpoint, "materials", keys_dir,
                      rabbit_api=layout.rabbit_api)
    short_retry_delays(layout)
    try:
        sut.start()
        yield sut
    finally:
        sut.stop()


@pytest.fixture
def mongo_for():
    from pymongo import MongoClient
    clients = []

    def make(uri):
        clients.append(MongoClient(uri, serverSelectionTimeoutMS=5000))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


# -- traffic, and the checker every fault test ends with --------------------------------------------
# Candidates imported for the fault tests, a block per test (each gets its own phone, so
# the hourly SMS limit never hides a notification).
BLOCKS = {
    "database": [f"20263204009{n:02d}" for n in range(11, 14)],
    "s3": [f"20263204009{n:02d}" for n in range(21, 24)],
    "broker": [f"20263204009{n:02d}" for n in range(31, 37)],
    "kill": [f"20263204009{n:02d}" for n in range(41, 45)],
    "database_kill": [f"20263204009{n:02d}" for n in range(71, 75)],
    "poison": [f"20263204009{n:02d}" for n in range(61, 64)],
}


@pytest.fixture(scope="session")
def fault_admin(fault_system):
    from support import staff_token
    return staff_token(fault_system.config, "admin", "Admin@2026")


@pytest.fixture(scope="session")
def people(fault_system, fault_admin):
    """Every block's candidates, made once at the registration system's stand-in, which
    feeds them to auth (support.create_candidates)."""
    from support import candidate, create_candidates
    numbers = [n for block in BLOCKS.values() for n in block]
    summary = create_candidates(fault_system.standin, [candidate(n, serial=int(n[-3:])) for n in numbers])
    assert not summary["errors"], summary
    return BLOCKS


@pytest.fixture(scope="session")
def fault_s3(fault_system):
    from common import s3
    return s3.make_client(fault_system.config)


@pytest.fixture(scope="session")
def fault_mongo(private_servers):
    from pymongo import MongoClient
    client = MongoClient(private_servers.layout.mongo_uri, serverSelectionTimeoutMS=5000)
    yield client
    client.close()


@pytest.fixture(scope="session")
def checker(fault_system, private_servers, fault_mongo, fault_s3):
    """Declared before any test traffic, so the tap sees every event of the session."""
    from checker import Checker, EventTap
    tap = EventTap(private_servers.layout.amqp_uri).declare()
    return Checker(fault_system, private_servers.layout, fault_mongo, fault_s3, tap)
