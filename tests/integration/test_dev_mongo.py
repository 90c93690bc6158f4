"""dev/mongo, the development MongoDB-wire server: what it acknowledged survives a SIGKILL,
and after a restart its indexes (kept in memory, rebuilt from the data) answer again."""
import os
import shutil
import signal
import subprocess
import threading

import pytest
from pymongo import ASCENDING, MongoClient
from pymongo.errors import DuplicateKeyError

from dev import servers
from support import free_port, wait_for

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("MONGO_URI") or shutil.which("mongod")),
    reason="a real MongoDB is in use here, not dev/mongo")


class DevMongo:
    def __init__(self, base):
        self.layout = servers.Layout(base=base, mongo_port=free_port())
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(servers.devmongo_command(self.layout), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: servers.mongo_ok(self.layout.mongo_uri), timeout=60, message="dev/mongo up")
        return MongoClient(self.layout.mongo_uri, serverSelectionTimeoutMS=5000)

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def devmongo(tmp_path):
    server = DevMongo(tmp_path)
    yield server
    if server.proc and server.proc.poll() is None:
        server.kill()


def test_acknowledged_writes_survive_a_sigkill_and_the_indexes_come_back(devmongo):
    client = devmongo.start()
    docs = client.durable.docs
    docs.create_index([("serial", ASCENDING)], unique=True)
    docs.create_index([("status", ASCENDING), ("key", ASCENDING)])

    def write(thread):
        for n in range(100):
            serial = thread * 100 + n
            docs.insert_one({"_id": f"d{serial}", "serial": serial, "status": "pending", "key": f"{serial:05d}"})
            if n % 2:  # a guarded state change, as the services make them
                assert docs.find_one_and_update({"_id": f"d{serial}", "status": "pending"},
                                                {"$set": {"status": "done"}})

    threads = [threading.Thread(target=write, args=(t,)) for t in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    devmongo.kill()  # at once after the last acknowledgement: no time for a background commit
    client.close()

    client = devmongo.start()
    docs = client.durable.docs
    assert docs.count_documents({}) == 1000
    assert docs.count_documents({"status": "done"}) == 500
    pending = [d["key"] for d in docs.find({"status": "pending", "key": {"$gt": "00500"}}).sort("key", ASCENDING)]
    assert pending == [f"{n:05d}" for n in range(502, 1000, 2)]
    with pytest.raises(DuplicateKeyError):
        docs.insert_one({"_id": "again", "serial": 7})
    client.close()
