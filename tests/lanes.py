"""`make test`: every suite, as lanes that run side by side (issue 26).

A lane is one pytest process over some folders, with its own log in
test-output/lanes/<lane>.log. The lanes run in SLOTS: the slots at once (three on two
cores: a slot is mostly waiting on servers, a browser or a whole system), each slot's
lanes one after another. pytest-xdist would be the library for this, but its
workers cannot run an eventlet-patched test process (execnet's own threads hang once
the conftest monkey-patches them), so the split is by folder, here.

tests/e2e runs as two lanes, each with a whole system of its own (the staff
workspace's tests, and the rest); with the fault suite they take longest, so each heads
a slot. The unit lane runs three times: on the real clock, and
with the clock moved to 23:30 UTC and to 00:30 Beijing time (tests/unit/conftest.py),
where the machine's date and the exam's differ.

    python -m tests.lanes                 # every lane (what `make test` runs)
    python -m tests.lanes unit e2e        # some of them
    python -m tests.lanes --list

Exit status 0 only when every lane passed. Afterwards each lane's time and summary line
are printed; a failed lane's failures are printed in full from its log."""
import argparse
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "test-output" / "lanes"


@dataclass(frozen=True)
class Lane:
    name: str
    paths: tuple
    env: dict = field(default_factory=dict)
    args: tuple = ()


LANES = {lane.name: lane for lane in (
    # two whole systems side by side: the staff workspace's tests, and the rest of tests/e2e
    Lane("e2e-staff", ("tests/e2e",), args=("-k", "test_staff_ or test_outcomes", )),
    Lane("e2e", ("tests/e2e",), args=("-k", "not test_staff_ and not test_outcomes")),
    Lane("integration", ("tests/integration",)),
    Lane("security", ("tests/security",)),
    Lane("faults", ("tests/faults",)),
    Lane("deploy", ("tests/deploy",)),
    Lane("unit", ("tests/unit",)),
    Lane("unit@utc-late", ("tests/unit",), {"EXAM_TEST_CLOCK": "utc-late"}),
    Lane("unit@beijing-early", ("tests/unit",), {"EXAM_TEST_CLOCK": "beijing-early"}),
)}
# Measured on this machine (tests/README.md): the two e2e lanes and faults start whole
# systems of their own and take longest; each slot's lanes add up to about as much.
SLOTS = (("e2e", "faults"),
         ("e2e-staff", "security", "unit@utc-late"),
         ("integration", "deploy", "unit", "unit@beijing-early"))


@dataclass
class Result:
    lane: Lane
    returncode: int = None
    seconds: float = 0.0
    summary: str = ""


def run_lane(lane, pytest_args, results, lock):
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{lane.name}.log"
    # the slowest tests of each lane at the end of its log: where time goes is seen every run
    # (and every test's time in <lane>.xml, for tests/README.md's table)
    command = [sys.executable, "-m", "pytest", *lane.paths, *lane.args, "--durations=15",
               f"--junitxml={LOGS / (lane.name + '.xml')}", *pytest_args]
    started = time.monotonic()
    with open(log_path, "w") as log:
        code = subprocess.call(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env=dict(os.environ, **lane.env, TEST_PORT_BLOCK=str(port_block(lane))))
    result = Result(lane, code, time.monotonic() - started, last_summary(log_path))
    with lock:
        results.append(result)
        mark = "passed" if code == 0 else f"FAILED (exit {code})"
        print(f"[lanes] {lane.name:20} {mark:16} {result.seconds:6.0f} s  {result.summary}", flush=True)


def port_block(lane):
    """Each lane its own block of ports for the servers it starts (tests/support.py)."""
    return list(LANES).index(lane.name)


def last_summary(log_path):
    """pytest's closing line (`== 3 failed, 120 passed in 61.2s ==`), without the rulers."""
    lines = [line.strip("= \n") for line in log_path.read_text(errors="replace").splitlines()
             if line.startswith("=") and (" passed" in line or " failed" in line or " error" in line
                                          or "no tests ran" in line)]
    return lines[-1] if lines else "(no summary: see its log)"


def failures(log_path):
    """From `= FAILURES =` (or the short summary) to the end of a failed lane's log."""
    text = log_path.read_text(errors="replace")
    for marker in ("= FAILURES =", "= ERRORS =", "short test summary info"):
        at = text.find(marker)
        if at >= 0:
            return text[text.rfind("\n", 0, at) + 1:]
    return text[-5000:]


def run(slots, pytest_args):
    results, lock = [], threading.Lock()
    slots = [names for names in slots if names]

    def slot(names):
        for name in names:
            run_lane(LANES[name], pytest_args, results, lock)

    started = time.monotonic()
    print(f"[lanes] {len(slots)} at once: " + " | ".join(" → ".join(s) for s in slots)
          + f"  (logs: {LOGS.relative_to(ROOT)}/)", flush=True)
    threads = [threading.Thread(target=slot, args=(names,)) for names in slots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failed = [r for r in results if r.returncode != 0]
    for result in failed:
        print(f"\n{'=' * 30} {result.lane.name}: failures {'=' * 30}\n"
              f"{failures(LOGS / (result.lane.name + '.log'))}", flush=True)
    print(f"\n[lanes] {'lane':20} {'seconds':>8}  result", flush=True)
    for result in sorted(results, key=lambda r: -r.seconds):
        print(f"[lanes] {result.lane.name:20} {result.seconds:8.0f}  {result.summary}", flush=True)
    print(f"[lanes] all lanes: {time.monotonic() - started:.0f} s wall, "
          f"{'every lane passed' if not failed else f'{len(failed)} lane(s) failed'}", flush=True)
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lanes", nargs="*", help=f"some of: {', '.join(LANES)} (default: all)")
    parser.add_argument("--list", action="store_true", help="name the lanes and slots")
    args, pytest_args = parser.parse_known_args(argv)
    if args.list:
        for names in SLOTS:
            print(" → ".join(f"{n} ({' '.join(LANES[n].paths)})" for n in names))
        return 0
    unknown = set(args.lanes) - set(LANES)
    if unknown:
        parser.error(f"no such lane: {', '.join(sorted(unknown))}")
    chosen = set(args.lanes or LANES)
    slots = [tuple(n for n in names if n in chosen) for names in SLOTS]
    return run(slots, pytest_args)


if __name__ == "__main__":
    sys.exit(main())
