"""The whole system as `make run` starts it, isolated for one test session.

Four `nameko run` processes and nginx on free ports, a RabbitMQ vhost, database names
and a bucket of their own, the SMS stand-in and the registration system's stand-in (the
candidates' OpenID Provider, database `<prefix>standin`) in this process, demo data
seeded by dev/seed.py (candidates through the registration stand-in). Used by the e2e,
browser, fault and security suites."""
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

from dev.registration_standin import Standin
from dev.secrets import services_env, standin_env
from dev.sms_standin import SmsStandin, templates_for
from dev.stack import nginx_command, unhealthy_after, write_nginx_conf
from support import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("auth", "materials", "review", "notify")


class System:
    def __init__(self, workdir, base_config, amqp_uri, mongo_uri, s3_endpoint, bucket, keys_dir,
                 rabbit_api="http://127.0.0.1:15672"):
        self.workdir = Path(workdir)
        self.base_config = base_config
        self.prefix = f"e{uuid.uuid4().hex[:10]}_"
        self.rabbit_api = rabbit_api
        # Each service connects with a broker account of its own, as with `make run`
        # (dev/broker.py); `amqp_uri` (guest) stays the tests' own way in.
        self.broker_prefix = f"{self.prefix}"
        self.broker_passwords = {name: uuid.uuid4().hex for name in SERVICES}
        self.ports = {name: free_port() for name in SERVICES}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.amqp_uri = amqp_uri
        self.mongo_uri = mongo_uri
        self.s3_endpoint = s3_endpoint
        self.bucket = bucket
        self.keys_dir = keys_dir
        self.procs = {}
        sms = base_config["SMS"]
        self.sms = SmsStandin("127.0.0.1", free_port(), sms["SECRET_ID"], sms["SECRET_KEY"],
                              templates=templates_for(sms["TEMPLATES"]), app_id=sms["APP_ID"],
                              sign_name=sms["SIGN_NAME"])
        secrets = standin_env()
        self.standin = Standin(
            mongo_uri=mongo_uri, database=f"{self.prefix}standin", secret_key=secrets["STANDIN_SECRET_KEY"],
            client_id=base_config["FEDERATION"]["CLIENT_ID"], client_secret=secrets["FEDERATION_CLIENT_SECRET"],
            redirect_uris=[f"{self.url}/auth/federation/callback"], api_url=self.url,
            upload_url=f"{self.url}/", registration_secret=secrets["REGISTRATION_SYSTEM_SECRET"])

    # -- configuration -------------------------------------------------------------------------
    def env(self, service=None):
        env = dict(os.environ, AMQP_URI=self.amqp_uri, MONGO_URI=self.mongo_uri,
                   MONGO_DB_PREFIX=self.prefix, S3_ENDPOINT=self.s3_endpoint,
                   S3_BUCKET=self.bucket, S3_PUBLIC_ENDPOINT=f"http://{self.s3_endpoint}",
                   JWT_KEYS_DIR=str(self.keys_dir), JWT_ACTIVE_KID="test-1",
                   PUBLIC_URL=self.url, SMS_ENDPOINT=f"127.0.0.1:{self.sms.port}",
                   FEDERATION_ISSUER=self.standin.issuer, STANDIN_URL=self.standin.url,
                   PYTHONUNBUFFERED="1", PYTHONWARNINGS="ignore", WEBHOOKS_LOCAL_DEVELOPMENT="true",
                   **services_env())
        if service:
            env["WEB_SERVER_ADDRESS"] = f"127.0.0.1:{self.ports[service]}"
            env["AMQP_URI"] = self.amqp_uri_of(service)
            env["BROKER_USER_PREFIX"] = self.broker_prefix
        return env

    def amqp_uri_of(self, service):
        """The broker URI with `service`'s own account (to act as that service in a test)."""
        from kombu.utils.url import url_to_parts
        scheme, host, port, _, _, vhost, _ = url_to_parts(self.amqp_uri)
        return (f"amqp://{self.broker_prefix}{service}:{self.broker_passwords[service]}@{host}:{port}/"
                f"{requests.utils.quote(vhost or '/', safe='')}")

    @property
    def config(self):
        """The config a test uses for RPC and direct database reads."""
        config = dict(self.base_config, AMQP_URI=self.amqp_uri)
        config["MONGO"] = {"URI": self.mongo_uri, "DB_PREFIX": self.prefix}
        config["S3"] = dict(self.base_config["S3"], ENDPOINT=self.s3_endpoint, BUCKET=self.bucket,
                            PUBLIC_ENDPOINT=f"http://{self.s3_endpoint}")
        config["TOKENS"] = dict(self.base_config["TOKENS"], KEYS_DIR=str(self.keys_dir),
                                ACTIVE_KID="test-1")
        config["PUBLIC_URL"] = self.url
        config["FEDERATION"] = dict(self.base_config["FEDERATION"], ISSUER=self.standin.issuer)
        return config

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self):
        from dev import broker
        from kombu.utils.url import url_to_parts
        self.workdir.mkdir(parents=True, exist_ok=True)
        broker.provision(self.rabbit_api, ("guest", "guest"), url_to_parts(self.amqp_uri)[5] or "/",
                         self.broker_passwords, self.broker_prefix, keep_admin=True)
        self.sms.start()
        self.standin.start()
        for name in SERVICES:
            self.start_service(name)
        conf = write_nginx_conf(self.workdir / "nginx", self.ports, listen=self.port,
                                s3_public=f"http://{self.s3_endpoint}")
        self._spawn("nginx", nginx_command(conf), os.environ)
        self.wait_healthy()
        seed = subprocess.run([sys.executable, "-m", "dev.seed"], cwd=ROOT, env=self.env(),
                              capture_output=True, text=True, timeout=180)
        if seed.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{seed.stdout}\n{seed.stderr}")
        return self

    def start_service(self, name, **overrides):
        """Start `name`; `overrides` are environment variables config.yaml reads, for a test
        that needs another setting (REVIEW_LEASE_S=...) until it starts the service again."""
        cmd = [sys.executable, "-m", "nameko", "run", "--config", str(ROOT / "config.yaml"),
               f"services.{name}.service"]
        self._spawn(name, cmd, dict(self.env(name), **overrides))

    def _spawn(self, name, cmd, env):
        log = open(self.workdir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def restart(self, name, **overrides):
        """`name` stopped and started again with `overrides` (none: its usual settings)."""
        self.stop_service(name)
        self.start_service(name, **overrides)
        self.wait_healthy([name])

    @contextlib.contextmanager
    def restarted(self, name, **overrides):
        """`name` with other settings for the block, and with its usual ones after."""
        self.restart(name, **overrides)
        try:
            yield
        finally:
            self.restart(name)

    def stop_service(self, name, sig=15):
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=5)

    def wait_healthy(self, names=SERVICES, timeout=60):
        def alive(name):
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log(name)[-3000:]}")

        pending = unhealthy_after(self.url, names, timeout, alive)
        if pending:
            raise RuntimeError(f"not healthy: {sorted(pending)}")

    def login(self, username, password="Demo@2026"):
        """A candidate's token response, through the real code flow at this origin (signing
        in at the registration system's stand-in)."""
        from support import login
        return login(self.url, username, password, redirect=f"{self.url}/callback")

    def log(self, name):
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop_processes(self):
        """Stop every process at once (SIGTERM to all, then wait): one after another took
        seconds each, at the end of every suite."""
        running = list(self.procs.values())
        self.procs.clear()
        for proc in running:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        for proc in running:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.sms.stop()
        self.standin.stop()

    def stop(self):
        from dev import broker
        self.stop_processes()
        broker.remove_users(self.rabbit_api, ("guest", "guest"), [self.broker_prefix + s for s in SERVICES])

    def drop_databases(self, mongo_client):
        for name in mongo_client.list_database_names():
            if name.startswith(self.prefix):
                mongo_client.drop_database(name)

    def db(self, mongo_client, service):
        return mongo_client[f"{self.prefix}{service}"]


def ensure_chromium():
    """Debian's Chromium for browser tests (installed when missing; never downloaded by
    Playwright)."""
    if shutil.which("chromium") is None:
        from dev.servers import apt_install
        apt_install("chromium")
    return shutil.which("chromium")


# -- what the suites that run the whole system share (tests/e2e, tests/security) ------------------
@contextlib.contextmanager
def own_vhost(request, prefix):
    """A vhost of the session's own on the local broker (management API); yields its AMQP URI."""
    api = request.config.getoption("RABBIT_API_URI").rstrip("/")
    amqp = request.config.getoption("RABBIT_AMQP_URI").rstrip("/")
    vhost = f"{prefix}_{uuid.uuid4().hex[:10]}"
    auth = ("guest", "guest")
    base = "http://" + api.split("@")[-1]
    requests.put(f"{base}/api/vhosts/{vhost}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{base}/api/permissions/{vhost}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    try:
        yield "amqp://" + amqp.split("://", 1)[1].rsplit("/", 1)[0] + f"/{vhost}"
    finally:
        requests.delete(f"{base}/api/vhosts/{vhost}", auth=auth, timeout=10)


@contextlib.contextmanager
def running_system(workdir, base_config, amqp_uri, bucket, keys_dir):
    """The whole system on the shared servers; stopped and its databases dropped after."""
    from pymongo import MongoClient
    from support import MONGO_URI, S3_ENDPOINT
    sut = System(workdir, base_config, amqp_uri, MONGO_URI, S3_ENDPOINT, bucket, keys_dir)
    try:
        sut.start()
        yield sut
    finally:
        sut.stop()
        client = MongoClient(MONGO_URI)
        sut.drop_databases(client)
        client.close()
