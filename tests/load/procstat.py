"""CPU time per process of the running stack, to say where a benchmark's CPU went.

Reads /proc only. `stack_processes()` finds the servers `make up` started (the four
`nameko run` services by their WEB_SERVER_ADDRESS, review's OCR workers, nginx of var/nginx, the MongoDB-wire server (dev/mongo),
SeaweedFS, RabbitMQ); `cpu_seconds()` samples their user+system time, so the
difference of two samples is what each used meanwhile. Test suites that run their own
private services on the same machine are counted apart ("other nameko", "pytest").
"""
import os
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
SERVICE_PORTS = {"8001": "auth", "8002": "materials", "8003": "review", "8004": "notify"}
OCR_WORKERS = "review: OCR workers (nice 19)"
ON_DEMAND = {OCR_WORKERS}  # started at first use, often after a measurement began


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _environ(pid):
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _ppid(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def stack_processes(root):
    """{label: [pid, ...]} for the stack of the repository at `root`, plus other load."""
    found = {}
    root = str(root)
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    nginx_masters = set()
    for pid in pids:
        cmd = _cmdline(pid)
        if not cmd:
            continue
        label = None
        if "nameko run" in cmd:
            address = _environ(pid).get("WEB_SERVER_ADDRESS", "")
            port = address.rsplit(":", 1)[-1]
            if address.startswith("127.0.0.1:") and port in SERVICE_PORTS:
                label = SERVICE_PORTS[port]
            else:
                label = "other nameko (test suites)"
        elif "nginx: master" in cmd and f"{root}/var/nginx" in cmd:
            label = "nginx"
            nginx_masters.add(pid)
        elif "exam.devmongo.DevMongoServer" in cmd or cmd.startswith("mongod "):
            shared = "127.0.0.1:27017" in cmd or "--port 27017" in cmd
            label = "mongodb" if shared else "mongodb (private: test suites)"
        elif "weed server" in cmd or "weed mini" in cmd:
            label = "seaweedfs"
        elif "beam.smp" in cmd and "rabbit" in cmd:
            label = "rabbitmq"
        elif "services.review.idcheck.ocr_worker" in cmd:
            label = OCR_WORKERS  # the ID card reader's processes
        elif "pytest" in cmd:
            label = "pytest"
        elif "dev.registration_standin" in cmd:
            label = "registration stand-in (outside the system)"
        elif "locust" in cmd and "-f" in cmd:
            label = "locust (load generator)"
        if label:
            found.setdefault(label, []).append(pid)
    for pid in pids:  # nginx workers of our master
        if _ppid(pid) in nginx_masters:
            found.setdefault("nginx", []).append(pid)
    return found


def cpu_seconds(processes):
    """{(label, pid): user+system seconds so far} of the processes still alive."""
    totals = {}
    for label, pids in processes.items():
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                totals[(label, pid)] = (int(fields[11]) + int(fields[12])) / TICKS
            except (OSError, IndexError, ValueError):
                pass  # gone: counted by neither sample
    return totals


def machine_cpu():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class CpuMeter:
    """CPU used per process label (and by the whole machine) between start() and stop()."""

    def __init__(self, root, pids=None):
        self.root = root
        self.pids = pids  # {label: pid} of a private stack (tests/load/stack.py) instead
        self.processes = {}
        self.before = {}
        self.machine_before = (0, 0)

    def start(self, extra=None):
        self.processes = stack_processes(self.root)
        if self.pids:
            mine = set(self.pids.values())
            for label in list(self.processes):
                self.processes[label] = [p for p in self.processes[label] if p not in mine]
            for label in ("auth", "materials", "review", "notify", "mongodb", "nginx"):
                moved = self.processes.pop(label, [])
                if moved:
                    self.processes.setdefault(f"shared {label} (not under test)", []).extend(moved)
            for label, pid in self.pids.items():
                self.processes.setdefault(label, []).append(pid)
        for label, pids in (extra or {}).items():
            self.processes.setdefault(label, []).extend(pids)
        self.before = cpu_seconds(self.processes)
        self.machine_before = machine_cpu()

    def stop(self, seconds):
        started = self._started_meanwhile()
        after = cpu_seconds(self.processes)
        busy0, total0 = self.machine_before
        busy1, total1 = machine_cpu()
        used = dict.fromkeys(sorted(self.processes), 0.0)
        for (label, pid), seconds_after in after.items():
            if (label, pid) in self.before:  # alive throughout (short-lived test processes are not)
                used[label] += seconds_after - self.before[(label, pid)]
            elif (label, pid) in started:  # all of its CPU falls in the window
                used[label] += seconds_after
        used = {label: round(value, 2) for label, value in used.items()}
        return {
            "wall_s": round(seconds, 2),
            "machine_busy_pct": round(100.0 * (busy1 - busy0) / max(total1 - total0, 1), 1),
            "cpu_s": used,
            "cores_used": {k: round(v / seconds, 2) for k, v in used.items() if seconds > 0},
        }

    def _started_meanwhile(self):
        """Adds the on-demand processes that started since start(); returns them."""
        started = set()
        for label, pids in stack_processes(self.root).items():
            if label not in ON_DEMAND:
                continue
            for pid in pids:
                if pid not in self.processes.get(label, []):
                    self.processes.setdefault(label, []).append(pid)
                    started.add((label, pid))
        return started


def settle(meter, quiet_cores=0.1, quiet_s=3, limit_s=300):
    """Waits until the measured processes but the OCR workers use under `quiet_cores` for
    `quiet_s` seconds in a row (at most `limit_s`); returns the seconds waited. After the
    load stops the services still work off what it queued (review's intake, notify, the
    outbox); that work belongs to the journeys' cost, and a reference measured while it
    runs is measured on a busy machine. The reader's deferred reads run at SCHED_IDLE,
    yield to anything, and can take minutes: they are not waited for."""
    started = time.monotonic()
    quiet_since = None
    before = _busy(meter)
    while time.monotonic() - started < limit_s:
        time.sleep(1.0)
        now = _busy(meter)
        quiet_since = (quiet_since or time.monotonic()) if now - before < quiet_cores else None
        before = now
        if quiet_since and time.monotonic() - quiet_since >= quiet_s - 1:
            break
    return round(time.monotonic() - started, 1)


def _busy(meter):
    return sum(seconds for (label, _), seconds in cpu_seconds(meter.processes).items()
               if label not in ON_DEMAND)


def loadavg():
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
