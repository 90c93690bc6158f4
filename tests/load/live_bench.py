"""What an open page costs: many Server-Sent Events streams on one materials process,
side by side with a bare eventlet SSE server (the floor), by hand, never in CI.

    .venv/bin/python -m tests.load.live_bench --streams 3000 --idle 60 --signals 300

Starts `nameko run services.materials.service` on its own vhost and database prefix
(the shared RabbitMQ, MongoDB-wire and S3 servers), and the reference server; opens
`--streams` streams on each with tickets written straight into materials' database
(the ticket endpoint is an ordinary API call), holds them idle for `--idle` seconds
(heartbeats every LIVE.HEARTBEAT_S, 20 s as in production), then publishes
`PackageChanged` signals as materials' handlers do: `--signals` at `--rate`/s to random
packages (fan-out latency, publish to frame received), then one to every package at
once (a burst). Prints one JSON summary: memory and CPU per open stream, CPU per
connect, per idle stream-minute and per delivered signal, latencies, the ratios to the
reference, and the extrapolation to 50,000 open pages (tests/load/README.md).
"""
import eventlet
import eventlet.event
import eventlet.semaphore

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") / 1024
CHANGED = re.compile(r"id: (\d+)\nevent: changed")
TARGET_PAGES = 50_000
POD = {"memory_limit_mb": 1024, "cpu_limit": 2.0, "cpu_request": 1.0}  # deploy/k8s/materials.yaml


def log(message):
    print(f"[live_bench] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- process figures -----------------------------------------------------------------------
def cpu_s(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_mb(pid):
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB / 1024


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


# -- the reference: a bare eventlet SSE server ----------------------------------------------
def reference_server(port, heartbeat_s):
    """The least an eventlet stream can cost: eventlet.wsgi, one green thread and a
    LightQueue per connection, the same frames and heartbeat; no nameko, no database."""
    from eventlet import wsgi
    from eventlet.queue import Empty, LightQueue

    def app(environ, start_response):
        environ["eventlet.minimum_write_chunk_size"] = 0
        start_response("200 OK", [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")])

        def stream():
            queue = LightQueue(maxsize=4)
            yield "retry: 3000\n\n".encode()
            yield b'id: 1\nevent: ready\ndata: {"version":1,"status":"submitted"}\n\n'
            while True:
                try:
                    queue.get(timeout=heartbeat_s)
                except Empty:
                    yield b": keepalive\n\n"
        return stream()

    sock = eventlet.listen(("127.0.0.1", port), backlog=4096)
    wsgi.server(sock, app, log_output=False, max_size=100_000)


# -- the system under test -------------------------------------------------------------------
def make_vhost():
    import requests
    vhost = f"livebench_{uuid.uuid4().hex[:8]}"
    auth = ("guest", "guest")
    requests.put(f"http://127.0.0.1:15672/api/vhosts/{vhost}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"http://127.0.0.1:15672/api/permissions/{vhost}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    return vhost, f"amqp://guest:guest@127.0.0.1:5672/{vhost}"


def drop_vhost(vhost):
    import requests
    requests.delete(f"http://127.0.0.1:15672/api/vhosts/{vhost}", auth=("guest", "guest"), timeout=10)


def start_materials(workdir, amqp_uri, prefix, port, heartbeat_s):
    from dev.secrets import services_env
    env = dict(os.environ, **services_env(), AMQP_URI=amqp_uri, MONGO_DB_PREFIX=prefix,
               WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", LIVE_HEARTBEAT_S=str(heartbeat_s),
               LOG_LEVEL="WARNING")
    cmd = [sys.executable, "-m", "nameko", "run", "--config", str(ROOT / "config.yaml"),
           "services.materials.service"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(workdir / "materials.log", "ab"),
                            stderr=subprocess.STDOUT)


def wait_http(port, timeout=60):
    import requests
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/catalogue", timeout=2).status_code in (200, 404):
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"nothing answers on {port}")


def wait_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


# -- the clients ---------------------------------------------------------------------------------
class Client:
    """One page's stream over a raw socket (lighter than an HTTP library, so the client
    side does not limit what is measured)."""

    def __init__(self, port, ticket, package_id, received):
        self.port, self.ticket, self.package_id, self.received = port, ticket, package_id, received
        self.ready = eventlet.event.Event()
        self.sock = None
        self.thread = None

    def run(self):
        try:
            self.sock = eventlet.connect(("127.0.0.1", self.port))
            cookie = f"Cookie: live_ticket={self.ticket}\r\n" if self.ticket else ""
            self.sock.sendall((f"GET /api/v1/package/events HTTP/1.1\r\nHost: bench\r\n{cookie}"
                               "Accept: text/event-stream\r\n\r\n").encode())
            buffer = ""
            while True:
                data = self.sock.recv(8192)
                if not data:
                    break
                buffer += data.decode("utf-8", "replace")
                if not self.ready.ready() and "event: ready" in buffer:
                    self.ready.send(True)
                for match in CHANGED.finditer(buffer):
                    self.received.append((int(match.group(1)), time.monotonic()))
                buffer = buffer[-200:] if len(buffer) > 200 else buffer
                buffer = buffer[buffer.rfind("\n\n") + 2:] if "\n\n" in buffer else buffer
        except (OSError, EOFError):
            pass
        finally:
            if not self.ready.ready():
                self.ready.send(False)

    def close(self):
        if self.thread is not None:
            self.thread.kill()  # first: closing under a read in progress is an error
        if self.sock is not None:
            self.sock.close()


def open_streams(port, tickets, concurrency=100):
    received, clients = [], []
    pool = eventlet.GreenPool(len(tickets) + 10)
    gate = eventlet.semaphore.Semaphore(concurrency)

    def one(ticket, package_id):
        client = Client(port, ticket, package_id, received)
        clients.append(client)
        with gate:
            client.thread = pool.spawn(client.run)
            client.ready.wait()

    started = time.monotonic()
    list(eventlet.GreenPool(concurrency).starmap(one, tickets))
    opened = sum(1 for c in clients if c.ready.wait() is True)
    return clients, received, opened, time.monotonic() - started


def measure(pid, clients_fn, idle_s):
    """Idle without streams (the process's own background: timers, token sync, outbox
    poll), connect, then idle with them: memory and CPU the streams add."""
    baseline_s = min(idle_s, 30.0)
    start = cpu_s(pid)
    eventlet.sleep(baseline_s)
    background_cpu_per_s = (cpu_s(pid) - start) / baseline_s
    before_cpu, before_rss = cpu_s(pid), rss_mb(pid)
    clients, received, opened, connect_s = clients_fn()
    eventlet.sleep(2)  # let allocation settle
    after_cpu, after_rss = cpu_s(pid), rss_mb(pid)
    idle_start = cpu_s(pid)
    eventlet.sleep(idle_s)
    idle_cpu = max(cpu_s(pid) - idle_start - background_cpu_per_s * idle_s, 0.0)
    n = max(opened, 1)
    return clients, received, {
        "streams_open": opened, "connect_wall_s": round(connect_s, 2),
        "rss_before_mb": round(before_rss, 1), "rss_after_mb": round(rss_mb(pid), 1),
        "kb_per_stream": round((after_rss - before_rss) * 1024 / n, 1),
        "cpu_ms_per_connect": round((after_cpu - before_cpu) * 1000 / n, 3),
        "background_cpu_ms_per_s": round(background_cpu_per_s * 1000, 2),
        "idle_s": idle_s, "idle_cpu_s_beyond_background": round(idle_cpu, 3),
        "cpu_ms_per_stream_minute": round(idle_cpu * 1000 / n * 60 / idle_s, 4),
        "open_fds": fds(pid)}


def publish(amqp_uri, signals):
    """PackageChanged as materials' handlers announce it; returns {version: sent_at}."""
    from kombu import Connection, Exchange
    exchange = Exchange("materials.events", type="topic", durable=True)
    sent = {}
    with Connection(amqp_uri) as conn:
        producer = conn.Producer(serializer="json")
        for package_id, version, pause in signals:
            sent[version] = time.monotonic()
            producer.publish({"package_id": package_id, "version": version, "status": "returned"},
                             exchange=exchange, routing_key="PackageChanged", declare=[exchange])
            if pause:
                eventlet.sleep(pause)
    return sent


def latencies(sent, received, expected):
    got = {}
    for version, at in received:
        if version in sent and version not in got:
            got[version] = (at - sent[version]) * 1000
    values = sorted(got.values())
    if not values:
        return {"delivered": 0, "expected": expected}

    def pct(p):
        return round(values[min(len(values) - 1, int(p * len(values)))], 1)
    return {"delivered": len(values), "expected": expected, "p50_ms": pct(0.5), "p95_ms": pct(0.95),
            "p99_ms": pct(0.99), "max_ms": round(values[-1], 1),
            "mean_ms": round(statistics.fmean(values), 1)}


def extrapolate(sut, fanout_cpu_ms, burst_rate):
    """50,000 open pages: memory, idle CPU and pods (deploy/k8s/materials.yaml limits)."""
    base = sut["rss_before_mb"]
    mb = TARGET_PAGES * sut["kb_per_stream"] / 1024
    idle_cores = TARGET_PAGES * sut["cpu_ms_per_stream_minute"] / 60_000
    # A pod keeps half its memory limit and half its CPU request for everything else.
    per_pod_by_memory = int((POD["memory_limit_mb"] / 2 - base) * 1024 / max(sut["kb_per_stream"], 0.1))
    per_pod_by_cpu = int(POD["cpu_request"] / 2 * 60_000 / max(sut["cpu_ms_per_stream_minute"], 1e-6))
    per_pod = max(min(per_pod_by_memory, per_pod_by_cpu, 10_000), 1)
    return {"pages": TARGET_PAGES, "stream_memory_mb": round(mb), "idle_cpu_cores": round(idle_cores, 3),
            "streams_per_pod": per_pod, "per_pod_limited_by": (
                "memory" if per_pod == per_pod_by_memory else "cpu" if per_pod == per_pod_by_cpu
                else "a 10,000-connection cap (file descriptors, reconnect storm)"),
            "pods_for_streams": -(-TARGET_PAGES // per_pod),
            "reconnect_storm_cpu_s_all_pages": round(TARGET_PAGES * sut["cpu_ms_per_connect"] / 1000, 1),
            "cpu_ms_per_delivered_signal": fanout_cpu_ms, "burst_signals_per_s": burst_rate}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=3000)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--heartbeat", type=float, default=20.0)
    parser.add_argument("--signals", type=int, default=300)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--reference-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.reference_port:
        reference_server(args.reference_port, args.heartbeat)
        return
    os.chdir(ROOT)
    from common.config import load_config
    from dev.secrets import services_env
    from pymongo import MongoClient
    for name, value in services_env().items():
        os.environ.setdefault(name, value)
    config = load_config(str(ROOT / "config.yaml"))
    workdir = Path(tempfile.mkdtemp(prefix="livebench-"))
    vhost, amqp_uri = make_vhost()
    prefix = f"livebench_{uuid.uuid4().hex[:8]}_"
    mongo = MongoClient(config["MONGO"]["URI"])
    db = mongo[f"{prefix}materials"]
    sut_port, ref_port = free_port(), free_port()
    sut = start_materials(workdir, amqp_uri, prefix, sut_port, args.heartbeat)
    ref = subprocess.Popen([sys.executable, "-m", "tests.load.live_bench", "--reference-port",
                            str(ref_port), "--heartbeat", str(args.heartbeat)], cwd=ROOT)
    summary = {"streams": args.streams, "heartbeat_s": args.heartbeat}
    try:
        wait_http(sut_port)
        wait_port(ref_port)
        eventlet.sleep(3)  # indexes built, consumers bound
        log(f"seeding {args.streams} tickets")
        from services.materials.live import hashed
        now = time.time()
        plain = [(uuid.uuid4().hex, f"bench{n:06d}-2026") for n in range(args.streams)]
        db.live_tickets.insert_many([{"_id": hashed(t), "candidate_id": p[:11], "package_id": p,
                                      "expires_at": now + 3600, "until": now + 3600} for t, p in plain])
        db.packages.insert_many([{"_id": p, "candidate_id": p[:11], "exam_year": 2026, "version": 0,
                                  "status": "submitted"} for _, p in plain])

        log("reference: opening streams")
        ref_clients, _, summary["reference"] = measure(
            ref.pid, lambda: open_streams(ref_port, [(None, p) for _, p in plain]), args.idle)
        log(f"reference: {summary['reference']}")
        for client in ref_clients:
            client.close()

        log("materials: opening streams")
        clients, received, summary["materials"] = measure(
            sut.pid, lambda: open_streams(sut_port, plain), args.idle)
        log(f"materials: {summary['materials']}")

        log(f"fan-out: {args.signals} signals at {args.rate}/s")
        signals = [(random.choice(plain)[1], 1_000_000 + n, 1 / args.rate) for n in range(args.signals)]
        start_cpu = cpu_s(sut.pid)
        sent = publish(amqp_uri, signals)
        eventlet.sleep(3)
        summary["fanout_steady"] = latencies(sent, received, len(signals))
        steady_cpu = cpu_s(sut.pid) - start_cpu

        log("fan-out: one signal to every package at once")
        burst = [(p, 2_000_000 + n, 0) for n, (_, p) in enumerate(plain)]
        start_cpu, started = cpu_s(sut.pid), time.monotonic()
        sent = publish(amqp_uri, burst)
        deadline = time.monotonic() + 60
        while sum(1 for v, _ in received if v >= 2_000_000) < len(burst) and time.monotonic() < deadline:
            eventlet.sleep(0.2)
        burst_s = time.monotonic() - started
        burst_cpu = cpu_s(sut.pid) - start_cpu
        summary["fanout_burst"] = dict(latencies(sent, received, len(burst)), wall_s=round(burst_s, 2),
                                       cpu_s=round(burst_cpu, 2))
        per_signal = round(burst_cpu * 1000 / max(summary["fanout_burst"]["delivered"], 1), 3)
        summary["fanout_steady"]["cpu_ms_per_signal"] = round(
            steady_cpu * 1000 / max(summary["fanout_steady"]["delivered"], 1), 3)
        m, r = summary["materials"], summary["reference"]
        summary["ratios_materials_to_reference"] = {
            "memory_per_stream": round(m["kb_per_stream"] / max(r["kb_per_stream"], 0.1), 2),
            "cpu_per_connect": round(m["cpu_ms_per_connect"] / max(r["cpu_ms_per_connect"], 1e-6), 2),
            "cpu_per_idle_stream_minute": round(
                m["cpu_ms_per_stream_minute"] / max(r["cpu_ms_per_stream_minute"], 1e-6), 2)}
        summary["extrapolation"] = extrapolate(m, per_signal, round(len(burst) / burst_s))
        for client in clients:
            client.close()
    finally:
        for proc in (sut, ref):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        mongo.drop_database(f"{prefix}materials")
        drop_vhost(vhost)
    text = json.dumps(summary, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
