"""A private copy of the whole system for benchmarks that must not disturb the shared one.

The shared `make up` system is used by every engineer's tests at the same time, and
FerretDB serialises every write on the machine behind one lock (dev/ferretdb): a data
volume run or a prototype fix measured there would slow everyone down, or measure
code that is not what is running. This starts, from the source tree it lives in
(a scratch copy with a prototype fix, or this repository):

- its own FerretDB (any binary: `--ferretdb PATH`, default the project's build) on a
  free port with a data folder of its own;
- a vhost of its own on the shared RabbitMQ and a bucket of its own on the shared S3;
- the four services and nginx on free ports, demo data seeded (tests/e2e/system.py).

It writes what run.py and volume.py need (`--stack FILE`) and runs until interrupted,
then stops what it started and removes its vhost, bucket objects and data folder.

    .venv/bin/python -m tests.load.stack --out /tmp/loadstack.json [--ferretdb BIN]
    .venv/bin/python -m tests.load.run --stack /tmp/loadstack.json ...
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "tests", ROOT / "tests" / "e2e"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

RABBIT_API = "http://127.0.0.1:15672"
GUEST = ("guest", "guest")


def log(message):
    print(f"[stack] {message}", file=sys.stderr, flush=True)


PG_BIN = Path("/usr/lib/postgresql/15/bin")


def start_postgres(workdir):
    """A throwaway PostgreSQL cluster (Debian's postgresql, installed when missing) on a
    free port of 127.0.0.1, data under `workdir`; returns (stop, url)."""
    from dev.servers import apt_install
    from system import free_port
    if not (PG_BIN / "initdb").exists():
        apt_install("postgresql")
    data, sockets = workdir / "pgdata", workdir / "pgsock"
    for folder in (data, sockets):
        folder.mkdir(parents=True)
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:  # initdb refuses to run as root
        workdir.chmod(0o755)  # (mkdtemp makes it 0700: postgres could not reach its data)
        shutil.chown(data, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    subprocess.run(as_postgres + [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
                   check=True, stdout=subprocess.DEVNULL)
    # Durability off: a benchmark's scratch database, never data anyone keeps.
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off"
    subprocess.run(as_postgres + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options,
                                  "-l", str(sockets / "postgres.log"), "-w", "start"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(as_postgres + [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                                  "-U", "postgres", "ferretdb"], check=True)

    def stop():
        subprocess.run(as_postgres + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       stdout=subprocess.DEVNULL)
    return stop, f"postgres://postgres@127.0.0.1:{port}/ferretdb"


def start_ferretdb(binary, workdir, postgres_url=None):
    from dev.servers import mongo_ok
    from system import free_port
    port = free_port()
    data = workdir / "ferretdb"
    data.mkdir(parents=True)
    backend = ["-postgresql-url", postgres_url] if postgres_url else []
    proc = subprocess.Popen([str(binary), "-listen", f"127.0.0.1:{port}", "-sqlite-dir", str(data)] + backend,
                            stdout=open(workdir / "ferretdb.log", "ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    uri = f"mongodb://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while not mongo_ok(uri):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"FerretDB did not start; see {workdir / 'ferretdb.log'}")
        time.sleep(0.2)
    return proc, uri


def make_vhost():
    vhost = f"load_{uuid.uuid4().hex[:10]}"
    requests.put(f"{RABBIT_API}/api/vhosts/{vhost}", auth=GUEST, timeout=10).raise_for_status()
    requests.put(f"{RABBIT_API}/api/permissions/{vhost}/guest", auth=GUEST, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    return vhost, f"amqp://guest:guest@127.0.0.1:5672/{vhost}"


def s3_client(config):
    from common import s3
    return s3.make_client(config)


def empty_bucket(client, bucket):
    from minio.deleteobjects import DeleteObject
    if not client.bucket_exists(bucket):
        return
    names = [DeleteObject(o.object_name) for o in client.list_objects(bucket, recursive=True)]
    for i in range(0, len(names), 1000):
        for failure in client.remove_objects(bucket, names[i:i + 1000]):
            log(f"not removed: {failure}")
    client.remove_bucket(bucket)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where to write the stack description (JSON)")
    parser.add_argument("--ferretdb", default=str(ROOT / "var" / "bin" / "ferretdb"))
    parser.add_argument("--workdir", help="default: a new folder under /tmp")
    parser.add_argument("--postgres", action="store_true",
                        help="FerretDB on a throwaway PostgreSQL (filters pushed down) instead of SQLite")
    args = parser.parse_args()
    os.chdir(ROOT)

    from common.config import load_config
    from services.auth.keys import ensure_dev_key
    from system import System

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="loadstack-"))
    workdir.mkdir(parents=True, exist_ok=True)
    base_config = load_config(str(ROOT / "config.yaml"))
    keys_dir = workdir / "keys"
    ensure_dev_key(keys_dir, kid="test-1")
    bucket = f"loadstack-{uuid.uuid4().hex[:10]}"
    client = s3_client(base_config)
    client.make_bucket(bucket)
    vhost, amqp_uri = make_vhost()
    stop_postgres, postgres_url = start_postgres(workdir) if args.postgres else (lambda: None, None)
    ferret, mongo_uri = start_ferretdb(args.ferretdb, workdir, postgres_url)
    system = System(workdir / "system", base_config, amqp_uri, mongo_uri,
                    base_config["S3"]["ENDPOINT"], bucket, keys_dir)
    stopping = []

    def stop(*_):
        stopping.append(True)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        system.start()
        env = {"AMQP_URI": amqp_uri, "MONGO_URI": mongo_uri, "MONGO_DB_PREFIX": system.prefix,
               "S3_BUCKET": bucket, "JWT_KEYS_DIR": str(keys_dir), "JWT_ACTIVE_KID": "test-1",
               "PUBLIC_URL": system.url}
        description = {"url": system.url, "env": env, "source": str(ROOT),
                       "ferretdb": args.ferretdb + (" (PostgreSQL handler)" if args.postgres else " (SQLite handler)"),
                       "workdir": str(workdir),
                       "pids": {name: proc.pid for name, proc in system.procs.items()}
                       | {"ferretdb": ferret.pid}}
        Path(args.out).write_text(json.dumps(description, indent=1))
        log(f"ready at {system.url} (source {ROOT}); description in {args.out}; Ctrl-C stops it")
        while not stopping:
            time.sleep(0.5)
    finally:
        log("stopping")
        system.stop()
        os.killpg(ferret.pid, signal.SIGTERM)
        ferret.wait(timeout=20)
        stop_postgres()
        requests.delete(f"{RABBIT_API}/api/vhosts/{vhost}", auth=GUEST, timeout=10)
        empty_bucket(client, bucket)
        shutil.rmtree(workdir, ignore_errors=True)
        Path(args.out).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
