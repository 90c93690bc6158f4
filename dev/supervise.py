"""Keeps the local stack's programs running (`make run` / `make up`): a program that exits
unexpectedly is started again within 5 seconds, with backoff if it keeps failing, and
every restart is logged (var/log/supervisor.log) and shown by `make status`.

    python -m dev.stack supervise    (started by `up`; SIGTERM stops it and its programs)

A library: dev/stack.py says what it runs (programs()) and starts it, so the two
modules do not import each other.

Production has its orchestrator for this (Kubernetes restarts a container, compose's
`restart: unless-stopped`); this is only the local equivalent.

What it runs and their pids, restarts and last exit are in var/run/supervisor.json, a
file of its own (dev/stack.py keeps the servers in var/run/started.json).
"""
import json
import logging
import os
import time
from dataclasses import dataclass, field

from dev import procs

STATE_FILE = procs.ROOT / "var" / "run" / "supervisor.json"
FIRST_DELAY_S = 0.5
MAX_DELAY_S = 5.0
STEADY_AFTER_S = 60.0  # a program that ran this long starts its backoff afresh

log = logging.getLogger("supervisor")


@dataclass
class Program:
    name: str
    command: list
    env: dict = field(default_factory=dict)
    pid: int = None
    process: object = None     # the Popen: its poll() reaps the program and keeps the code
    started_at: float = 0.0
    restarts: int = 0
    failures: int = 0          # in a row, for the backoff
    due_at: float = None       # when a stopped program is started again
    last_exit: str = None


class Supervisor:
    def __init__(self, programs, state_file=STATE_FILE, log_dir=None, clock=time.monotonic):
        self.programs = {p.name: p for p in programs}
        self.state_file = state_file
        self.log_dir = log_dir
        self.clock = clock
        self.stopping = False

    def start_all(self):
        for program in self.programs.values():
            self._start(program)
        self._save()

    def tick(self):
        """Notice programs that exited and start those whose wait is over."""
        now = self.clock()
        changed = False
        for program in self.programs.values():
            if program.pid is not None and program.process.poll() is not None:
                self._exited(program, now)
                changed = True
            if program.pid is None and program.due_at is not None and now >= program.due_at:
                program.restarts += 1
                self._start(program)
                log.warning("restarted %s (restart %d; it had %s)", program.name, program.restarts,
                            program.last_exit)
                changed = True
        if changed:
            self._save()

    def run(self, interval=0.2):
        while not self.stopping:
            self.tick()
            time.sleep(interval)
        self.stop_all()

    def stop_all(self):
        self.stopping = True
        for program in self.programs.values():
            if program.pid is not None:
                procs.stop_pid(program.pid)
                program.process.poll()
                program.pid = None
        self._save()

    # -- one program ---------------------------------------------------------------------------
    def _start(self, program):
        program.process = procs.start(program.name, program.command, env=program.env, log_dir=self.log_dir)
        program.pid = program.process.pid
        program.started_at = self.clock()
        program.due_at = None

    def _exited(self, program, now):
        program.last_exit = f"exited ({program.process.returncode})"
        ran = now - program.started_at
        program.failures = 1 if ran >= STEADY_AFTER_S else program.failures + 1
        delay = min(FIRST_DELAY_S * 2 ** (program.failures - 1), MAX_DELAY_S)
        program.pid = None
        program.due_at = now + delay
        log.error("%s %s after %.1f s; starting it again in %.1f s", program.name, program.last_exit, ran, delay)

    def _save(self):
        state = {name: {"pid": p.pid, "restarts": p.restarts, "last_exit": p.last_exit,
                        "command": p.command[0]} for name, p in self.programs.items()}
        state["_supervisor"] = {"pid": os.getpid()}
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.state_file)  # readers never see half a file



def load_state(state_file=STATE_FILE):
    try:
        return json.loads(state_file.read_text())
    except (FileNotFoundError, ValueError):
        return {}
