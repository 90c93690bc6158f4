"""The local stack's supervisor (dev/supervise.py) with real processes: a program that
exits unexpectedly is running again within 5 seconds, one that keeps failing backs off
(never beyond 5 s), every restart is logged and counted, and a stop leaves nothing."""
import logging
import os
import signal
import sys
import threading
import time

import pytest

from dev import procs
from dev.supervise import Program, Supervisor, load_state
from support import wait_for

STEADY = [sys.executable, "-c", "import time; time.sleep(120)"]
FAILING = [sys.executable, "-c", "import sys; sys.exit(3)"]


@pytest.fixture
def supervised(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="supervisor")
    supervisor = Supervisor([Program("steady", STEADY), Program("failing", FAILING)],
                            state_file=tmp_path / "supervisor.json", log_dir=tmp_path)
    supervisor.start_all()
    thread = threading.Thread(target=supervisor.run, kwargs={"interval": 0.05}, daemon=True)
    thread.start()
    yield supervisor, tmp_path
    supervisor.stopping = True
    thread.join(timeout=30)


def test_a_killed_program_runs_again_within_five_seconds_and_the_restart_shows(supervised, caplog):
    supervisor, folder = supervised
    first = supervisor.programs["steady"].pid
    os.kill(first, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_for(lambda: supervisor.programs["steady"].pid not in (None, first)
             and procs.alive(supervisor.programs["steady"].pid), timeout=5, message="restarted")
    assert time.monotonic() - killed_at < 5
    state = wait_for(lambda: (lambda s: s if s.get("steady", {}).get("restarts") == 1 else None)(
        load_state(folder / "supervisor.json")), timeout=5, message="the restart in the state file")
    assert "-9" in state["steady"]["last_exit"] and state["steady"]["pid"] == supervisor.programs["steady"].pid
    assert any("restarted steady" in r.getMessage() for r in caplog.records)


def test_a_program_that_keeps_failing_backs_off_but_never_beyond_five_seconds(supervised, caplog):
    supervisor, _ = supervised
    wait_for(lambda: supervisor.programs["failing"].restarts >= 5, timeout=20, message="five restarts")
    delays = [float(r.getMessage().rsplit("again in ", 1)[1].split(" s")[0]) for r in caplog.records
              if r.getMessage().startswith("failing exited")]
    assert delays[:5] == sorted(delays[:5]) and delays[0] < 1 and max(delays) <= 5.0, delays
    assert all("exited (3)" in r.getMessage() for r in caplog.records if r.getMessage().startswith("failing"))


def test_a_stop_ends_every_program_and_restarts_none(supervised):
    supervisor, _ = supervised
    pids = [p.pid for p in supervisor.programs.values() if p.pid]
    supervisor.stopping = True
    wait_for(lambda: not any(procs.alive(pid) for pid in pids), timeout=30, message="all stopped")
    time.sleep(1)
    assert all(p.pid is None for p in supervisor.programs.values())
