"""Our FerretDB build (dev/ferretdb) keeps each SQLite write-ahead log short.

SQLite's own checkpoint cannot finish while readers keep coming, and a running service
reads all the time; the log would grow without end and every read would search it
(a 16 MB log tripled the time of a bare `_id` lookup). The proxy truncates the logs
between commands instead."""
import os
import shutil
import subprocess
import threading

import pytest
from pymongo import MongoClient

from dev import servers
from support import free_port, wait_for

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("MONGO_URI") or shutil.which("mongod")),
    reason="a real MongoDB is in use here, not dev/ferretdb")


@pytest.fixture
def ferretdb(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [str(servers.ferretdb_binary()), "-listen", f"127.0.0.1:{port}", "-sqlite-dir", str(tmp_path),
         "-checkpoint-every", "1s"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"mongodb://127.0.0.1:{port}/"
    try:
        wait_for(lambda: servers.mongo_ok(uri), timeout=60, message="private FerretDB up")
        client = MongoClient(uri, serverSelectionTimeoutMS=5000)
        yield client, tmp_path
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_the_write_ahead_log_is_truncated_while_readers_keep_coming(ferretdb):
    client, data_dir = ferretdb
    docs = client.walcheck.docs
    stop = threading.Event()

    def read_all_the_time():
        while not stop.is_set():
            docs.find_one({"_id": 7})

    reader = threading.Thread(target=read_all_the_time)
    reader.start()
    try:
        for batch in range(20):
            docs.insert_many([{"_id": batch * 100 + n, "pad": "x" * 2000} for n in range(100)])
        wal = data_dir / "walcheck.sqlite-wal"
        wait_for(lambda: wal.exists() and wal.stat().st_size == 0, timeout=15, interval=0.2,
                 message=f"the log truncated (now {wal.stat().st_size if wal.exists() else None} bytes)")
    finally:
        stop.set()
        reader.join()
    # Folded into the database, not lost.
    assert docs.count_documents({}) == 2000
    assert docs.find_one({"_id": 1999})["pad"] == "x" * 2000
