"""A private set of servers (own ports, own data folder) and the whole system on it,
so these tests can stop and start servers without disturbing anything else."""
import socket

import pytest
import requests

from dev import procs, servers
from e2e.system import System


def _free_ports(count):
    found = []
    while len(found) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        # Also keep port+10000 free: servers derive their gRPC ports from it.
        if port < 55000 and port not in found and not procs.port_open(port + 10000):
            found.append(port)
    return found


class PrivateServers:
    def __init__(self, base):
        ports = _free_ports(8)
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
            procs.stop_pid(entry["pid"])

    def start_all(self):
        for name in ("rabbitmq", "mongo", "s3"):
            self.start(name)

    def stop_all(self):
        for name in list(self.entries):
            self.stop(name)


@pytest.fixture(scope="session")
def private_servers(tmp_path_factory):
    private = PrivateServers(tmp_path_factory.mktemp("servers"))
    try:
        private.start_all()
        yield private
    finally:
        private.stop_all()


@pytest.fixture(scope="session")
def fault_system(tmp_path_factory, private_servers, base_config, keys_dir):
    from common import s3
    layout = private_servers.layout
    config = dict(base_config, S3=dict(base_config["S3"], ENDPOINT=layout.s3_endpoint))
    client = s3.make_client(config)
    if not client.bucket_exists("materials"):
        client.make_bucket("materials")
    sut = System(tmp_path_factory.mktemp("fault-system"), base_config, layout.amqp_uri,
                 layout.mongo_uri, layout.s3_endpoint, "materials", keys_dir)
    try:
        sut.start()
        yield sut
    finally:
        sut.stop()


def health(system, name):
    try:
        response = requests.get(f"{system.url}/healthz/{name}", timeout=10)
    except requests.RequestException:
        return None, {}
    return response.status_code, (response.json() if response.headers.get(
        "Content-Type", "").startswith("application/json") else {})


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
