"""Small process bookkeeping for the local stack: start detached, remember, stop."""
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE_FILE = ROOT / "var" / "run" / "started.json"
LOG_DIR = ROOT / "var" / "log"


def load_state():
    try:
        return json.loads(STATE_FILE.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def save_state(state):
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2))


def start(name, cmd, env=None, cwd=None, log_dir=None):
    """Start `cmd` in its own session (Ctrl-C reaches only us), logging to var/log; the
    Popen. Keep it to learn the exit code: a dropped Popen still running is reaped by the
    next Popen's clean-up in this process, and its code is lost."""
    log_dir = Path(log_dir or LOG_DIR)
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"{name}.log", "ab") as log_file:
        return subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=cwd or ROOT,
                                env=dict(os.environ, **(env or {})), start_new_session=True)


def spawn(name, cmd, env=None, cwd=None, log_dir=None):
    """start(), for a process this one does not wait for (its pid goes to the state file)."""
    proc = start(name, cmd, env=env, cwd=cwd, log_dir=log_dir)
    return {"kind": "pid", "pid": proc.pid, "cmd": cmd[0]}


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; treat it as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def stop_pid(pid, timeout=15):
    """SIGTERM the process group, then SIGKILL what is left after `timeout`."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if not alive(pid):
                return
            time.sleep(0.1)


def pgrep(name):
    result = subprocess.run(["pgrep", "-x", name], stdout=subprocess.DEVNULL)
    return result.returncode == 0


def port_open(port, host="127.0.0.1"):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
