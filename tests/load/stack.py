"""A private copy of the whole system for benchmarks that must not disturb the shared one.

The shared `make up` system is used by every engineer's tests at the same time: a data
volume run or a prototype fix measured there would slow everyone down, or measure code
that is not what is running. This starts, from the source tree it lives in (a scratch
copy with a prototype fix, or this repository):

- its own MongoDB-wire server (dev/mongo, or `--mongo-uri` for one already running) on a
  free port with a data folder of its own;
- a vhost of its own on the shared RabbitMQ and a bucket of its own on the shared S3;
- the four services and nginx on free ports, demo data seeded (tests/e2e/system.py).

It writes what run.py and volume.py need (`--stack FILE`) and runs until interrupted,
then stops what it started and removes its vhost, bucket objects and data folder.

    .venv/bin/python -m tests.load.stack --out /tmp/loadstack.json
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


def start_devmongo(workdir):
    """dev/mongo on a free port, data under `workdir`; returns (process, uri)."""
    from dev import servers
    from system import free_port
    layout = servers.Layout(base=workdir, mongo_port=free_port())
    proc = subprocess.Popen(servers.devmongo_command(layout), stdout=open(workdir / "devmongo.log", "ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while not servers.mongo_ok(layout.mongo_uri):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"dev/mongo did not start; see {workdir / 'devmongo.log'}")
        time.sleep(0.2)
    return proc, layout.mongo_uri


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
    parser.add_argument("--mongo-uri", help="a MongoDB-wire server already running (default: a new dev/mongo)")
    parser.add_argument("--workdir", help="default: a new folder under /tmp")
    args = parser.parse_args()
    os.chdir(ROOT)

    from common.config import load_config
    from dev.secrets import services_env
    for name, value in services_env().items():  # config.yaml holds no usable secret
        os.environ.setdefault(name, value)
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
    database, mongo_uri = (None, args.mongo_uri) if args.mongo_uri else start_devmongo(workdir)
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
               "PUBLIC_URL": system.url, "STANDIN_URL": system.standin.url}
        description = {"url": system.url, "env": env, "source": str(ROOT),
                       "database": args.mongo_uri or "dev/mongo (private)", "workdir": str(workdir),
                       "pids": {name: proc.pid for name, proc in system.procs.items()}
                       | ({"mongodb": database.pid} if database else {})}
        Path(args.out).write_text(json.dumps(description, indent=1))
        log(f"ready at {system.url} (source {ROOT}); description in {args.out}; Ctrl-C stops it")
        while not stopping:
            time.sleep(0.5)
    finally:
        log("stopping")
        system.stop()
        if database:
            os.killpg(database.pid, signal.SIGTERM)
            database.wait(timeout=20)
        requests.delete(f"{RABBIT_API}/api/vhosts/{vhost}", auth=GUEST, timeout=10)
        empty_bucket(client, bucket)
        shutil.rmtree(workdir, ignore_errors=True)
        Path(args.out).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
