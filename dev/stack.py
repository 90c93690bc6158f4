"""The whole system on this machine: `python -m dev.stack servers|test-tools|up|run|down|status`.

- servers: RabbitMQ, the MongoDB-wire server and S3 (dev/servers.py), nothing else.
- test-tools: what the test suites need besides them (nginx, Chromium, a CJK font).
- up:      servers, then a supervisor (dev/supervise.py) that runs and restarts the SMS
           stand-in, the registration system's stand-in (:9030, the candidates' OpenID
           Provider), the four services (one `nameko run` each) and nginx on :8000 in
           front of them; demo data; returns once every /healthz answers 200.
- run:     `up`, print the URL and demo accounts, follow the logs, and on Ctrl-C stop
           what this run started.
- down:    stop everything recorded in var/run/started.json, services first.
"""
import argparse
import os
import pwd
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from dev import procs, secrets, servers, supervise

ROOT = procs.ROOT
VAR = ROOT / "var"
PUBLIC_URL = "http://127.0.0.1:8000"
SERVICE_PORTS = {"auth": 8001, "materials": 8002, "review": 8003, "notify": 8004}
SMS_PORT = 9020
STANDIN_PORT = 9030
STANDIN_URL = f"http://127.0.0.1:{STANDIN_PORT}"
APP_ORDER = ["supervisor", "nginx", "auth", "materials", "review", "notify", "sms-standin",
             "registration-standin"]
SERVER_ORDER = ["seaweedfs", "minio", "devmongo", "mongod", "rabbitmq"]

DEMO_ACCOUNTS = """\
Demo accounts (local-development defaults, see README):
  candidates  2026320400001 … 2026320400010 (site 3204), 2026320100001 … 2026320100003 (site 3201),
              2026110100001 (region 11, uploading disabled)     password Demo@2026
              (their registration-system accounts: sign in at http://127.0.0.1:9030/)
  reviewers   reviewer.3204, reviewer.3201, reviewer.32           password Review@2026
  admin       admin                                               password Admin@2026
              + a TOTP code: secret in var/secrets/admin.totp (any authenticator app)
  SMS stand-in: http://127.0.0.1:9020/_standin/messages"""


def log(message):
    print(f"[stack] {message}", flush=True)


def service_env(name):
    return {"WEB_SERVER_ADDRESS": f"127.0.0.1:{SERVICE_PORTS[name]}",
            "JWT_KEYS_DIR": str(VAR / "keys"), "SMS_ENDPOINT": f"127.0.0.1:{SMS_PORT}",
            "PYTHONUNBUFFERED": "1", "WEBHOOKS_LOCAL_DEVELOPMENT": "true", **secrets.services_env()}


def ensure_keys():
    """A local-development signing key, made once."""
    from services.auth.keys import ensure_dev_key
    ensure_dev_key(VAR / "keys", kid=os.environ.get("JWT_ACTIVE_KID", "dev-1"))


BROKER_VHOST, BROKER_PREFIX = "exam", "exam-"


def broker_env():
    """{service: environment} giving each service its own broker account on the vhost
    `exam` (dev/broker.py; passwords made at random into var/secrets/), unless AMQP_URI
    names another broker."""
    if os.environ.get("AMQP_URI"):
        return {name: {} for name in SERVICE_PORTS}
    import secrets as random
    from dev import broker
    passwords = {name: secrets.local_secret(f"rabbitmq.{name}", lambda: random.token_urlsafe(24))
                 for name in SERVICE_PORTS}
    users = broker.provision(servers.DEFAULT.rabbit_api, ("guest", "guest"), BROKER_VHOST, passwords, BROKER_PREFIX)
    return {name: {"AMQP_URI": f"amqp://{users[name]}:{passwords[name]}@127.0.0.1:{servers.DEFAULT.amqp_port}/{BROKER_VHOST}",
                   "BROKER_USER_PREFIX": BROKER_PREFIX} for name in SERVICE_PORTS}


def programs():
    """What the supervisor runs: the SMS and registration-system stand-ins, the four
    services, nginx."""
    Program = supervise.Program
    python = sys.executable
    accounts = broker_env()
    found = [Program("sms-standin", [python, "-m", "dev.sms_standin", "--port", str(SMS_PORT), "--config",
                                     str(ROOT / "config.yaml"), "--record", str(VAR / "sms-standin.jsonl")],
                     env=secrets.services_env()),
             Program("registration-standin", [python, "-m", "dev.registration_standin", "--port", str(STANDIN_PORT),
                                              "--api-url", PUBLIC_URL, "--upload-url", f"{PUBLIC_URL}/"],
                     env=dict(secrets.standin_env(), PUBLIC_URL=PUBLIC_URL))]
    found += [Program(name, [python, "-m", "nameko", "run", "--config", str(ROOT / "config.yaml"),
                             f"services.{name}.service"], env=dict(service_env(name), **accounts[name]))
              for name in SERVICE_PORTS]
    conf = write_nginx_conf(VAR / "nginx", SERVICE_PORTS, listen=8000)
    return found + [Program("nginx", nginx_command(conf))]


def start_apps(state):
    if not _running(state, "supervisor"):
        state["supervisor"] = procs.spawn("supervisor", [sys.executable, "-m", "dev.stack", "supervise"])
        procs.save_state(state)


NGINX = "/usr/sbin/nginx"


def ensure_nginx():
    """Debian's nginx (and openssl, which the deploy tests sign with), installed when missing."""
    missing = [package for package, path in (("nginx", NGINX), ("openssl", "/usr/bin/openssl"))
               if not Path(path).exists()]
    if missing:
        servers.apt_install(*missing)
    return NGINX


TEST_TOOLS = {"chromium": "/usr/bin/chromium", "fonts-wqy-microhei": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"}


def ensure_test_tools():
    """What the test suites use besides the servers (nginx for whole systems, Debian's
    Chromium for the pages, a CJK font for their screenshots), installed in one go before
    the lanes start rather than by two lanes at once."""
    ensure_nginx()
    missing = [package for package, path in TEST_TOOLS.items() if not Path(path).exists()]
    if missing:
        servers.apt_install(*missing)


def write_nginx_conf(base, ports, listen, s3_public=None):
    """Render dev/nginx.conf for these service ports into `base`/nginx.conf; `s3_public`
    is the origin of presigned image links (config S3.PUBLIC_ENDPOINT), which the staff
    pages may show."""
    ensure_nginx()
    (base / "logs").mkdir(parents=True, exist_ok=True)
    procs.LOG_DIR.mkdir(parents=True, exist_ok=True)
    conf = (ROOT / "dev" / "nginx.conf").read_text()
    conf = conf.replace("{{ROOT}}", str(ROOT)).replace("{{VAR}}", str(base))
    conf = conf.replace("{{LISTEN}}", str(listen))
    conf = conf.replace("{{USER}}", pwd.getpwuid(os.geteuid()).pw_name)
    conf = conf.replace("{{S3_PUBLIC}}", _origin(s3_public or os.environ.get(
        "S3_PUBLIC_ENDPOINT", "http://127.0.0.1:9000")))
    for name, port in ports.items():
        conf = conf.replace("{{%s}}" % name.upper(), str(port))
    path = base / "nginx.conf"
    path.write_text(conf)
    return path


def _origin(url):
    """scheme://host:port of a URL, for a Content-Security-Policy source."""
    from urllib.parse import urlsplit
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return f"{parts.scheme}://{parts.netloc}"


def nginx_command(conf):
    return [NGINX, "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"]


def _running(state, name):
    entry = state.get(name)
    return entry is not None and entry.get("kind") == "pid" and procs.alive(entry["pid"])


def unhealthy_after(base_url, names, timeout, check_alive, interval=0.2):
    """Which of the services `names` still do not answer `base_url`/healthz/{name} with 200
    after `timeout` seconds (an empty set once all do). `check_alive(name)` is called for
    each one still pending, every round, and raises when its program has died, so a crash
    at start-up is told at once rather than after the timeout. For `up` and the tests'
    whole systems (tests/e2e/system.py)."""
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            check_alive(name)
            try:
                if requests.get(f"{base_url}/healthz/{name}", timeout=2).status_code == 200:
                    pending.discard(name)
            except requests.RequestException:
                pass
        if pending:
            time.sleep(interval)
    return pending


def wait_healthy(state, timeout=90):
    def supervisor_alive(_name):
        if not _running(state, "supervisor"):
            tail = (procs.LOG_DIR / "supervisor.log").read_text(errors="replace")[-1500:]
            sys.exit(f"the supervisor exited during start-up; end of var/log/supervisor.log:\n{tail}")

    pending = unhealthy_after(PUBLIC_URL, SERVICE_PORTS, timeout, supervisor_alive, interval=0.5)
    if pending:
        tails = "\n".join(f"--- var/log/{name}.log\n" + (procs.LOG_DIR / f"{name}.log").read_text(
            errors="replace")[-800:] for name in sorted(pending) if (procs.LOG_DIR / f"{name}.log").exists())
        sys.exit(f"not healthy within {timeout}s: {', '.join(sorted(pending))}\n{tails}")
    log("all four services answer /healthz")


def up():
    state = servers.ensure_all()
    ensure_keys()
    start_apps(state)
    wait_healthy(state)
    subprocess.run([sys.executable, "-m", "dev.seed"], check=True, cwd=ROOT,
                   env=dict(os.environ, JWT_KEYS_DIR=str(VAR / "keys"), STANDIN_URL=STANDIN_URL,
                            **secrets.services_env()))
    log(f"ready: {PUBLIC_URL}/")


def down(only=None):
    """Stop what is recorded as started (or only the names in `only`)."""
    state = procs.load_state()
    for name in APP_ORDER + SERVER_ORDER:
        if only is not None and name not in only:
            continue
        entry = state.pop(name, None)
        if entry is None:
            continue
        procs.save_state(state)
        log(f"stopping {name}")
        if entry["kind"] == "pid":
            # The supervisor stops its programs first (up to 15 s each), then itself.
            procs.stop_pid(entry["pid"], timeout=90 if name == "supervisor" else 15)
        else:
            servers.STOPPERS[entry["kind"]](entry)
    for name in list(state):  # anything recorded by an older version of this script
        if only is not None and name not in only:
            continue
        entry = state.pop(name)
        if entry.get("kind") == "pid":
            procs.stop_pid(entry["pid"])
    procs.save_state(state)


def run():
    before = set(procs.load_state())
    up()
    started_here = set(procs.load_state()) - before
    print(f"\n  Open {STANDIN_URL}/  (the registration system: 报名信息 → 上传相关材料 → {PUBLIC_URL}/)"
          f"\n  or {PUBLIC_URL}/ directly  (Ctrl-C stops everything this run started)\n\n{DEMO_ACCOUNTS}\n",
          flush=True)
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    tail = subprocess.Popen(["tail", "-n", "0", "-F", *(str(procs.LOG_DIR / f"{n}.log")
                                                        for n in SERVICE_PORTS)],
                            start_new_session=True)
    while not stop:
        time.sleep(0.3)
    tail.terminate()
    print()
    down(only=started_here)


def status():
    state = procs.load_state()
    for name, entry in state.items():
        alive = procs.alive(entry["pid"]) if entry.get("kind") == "pid" else "?"
        print(f"{name:12} {entry.get('kind'):9} pid={entry.get('pid', '-')} alive={alive}")
    if _running(state, "supervisor"):
        for name, entry in supervise.load_state().items():
            if name.startswith("_"):
                continue
            alive = entry["pid"] is not None and procs.alive(entry["pid"])
            restarts = f" restarts={entry['restarts']} (last: {entry['last_exit']})" if entry["restarts"] else ""
            print(f"  {name:10} supervised pid={entry['pid'] or '-'} alive={alive}{restarts}")


def run_supervisor():
    """The supervisor process `up` starts (`python -m dev.stack supervise`): runs
    programs() and restarts what exits, until SIGTERM or SIGINT."""
    import logging
    procs.LOG_DIR.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(filename=procs.LOG_DIR / "supervisor.log", level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    supervisor = supervise.Supervisor(programs())
    signal.signal(signal.SIGTERM, lambda *_: setattr(supervisor, "stopping", True))
    signal.signal(signal.SIGINT, lambda *_: setattr(supervisor, "stopping", True))
    supervisor.start_all()
    supervise.log.info("supervising %s", ", ".join(supervisor.programs))
    supervisor.run()
    supervise.log.info("stopped")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["servers", "test-tools", "up", "run", "down", "status", "supervise"])
    args = parser.parse_args()
    os.chdir(ROOT)
    {"servers": servers.ensure_all, "test-tools": ensure_test_tools, "up": up, "run": run, "down": down,
     "status": status, "supervise": run_supervisor}[args.command]()


if __name__ == "__main__":
    main()
