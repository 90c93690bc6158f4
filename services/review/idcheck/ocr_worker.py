"""One OCR worker process, started by reader.py:
`python -m services.review.idcheck.ocr_worker NICE CPU_LIMIT_S`.

Reads images from stdin (4-byte big-endian length, then the bytes), answers each with
one JSON line on stdout: the fields idcard.read found, never the text. The engine is
RapidOCR on ONNX Runtime with the PP-OCRv4 models inside its wheel (nothing is fetched
at run time), one thread, no angle classifier (intake refuses rotated photos). A
process of its own keeps the CPU-bound work off review's event loop and at a lower
priority (`lower_priority`; the parent says how low)."""
import json
import logging
import os
import signal
import struct
import sys
import time
from importlib.metadata import version
from pathlib import Path

from services.review.idcheck import idcard

ENGINE = "rapidocr-onnxruntime"
AUTOGROUP = Path("/proc/self/autogroup")


def load():
    from rapidocr_onnxruntime import RapidOCR
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    return RapidOCR(use_cls=False, intra_op_num_threads=1, inter_op_num_threads=1)


def read_image(engine, data):
    boxes, _ = engine(data)
    return idcard.read(boxes or [])


def engine_name():
    return f"{ENGINE} {version(ENGINE)}"


def lower_priority(nice):
    """Below every process serving requests. A task's nice counts only within its
    scheduling group, and where the kernel groups processes by session (autogroup, on a
    machine's root cgroup) review's group got its full share however nice the reader
    was: under `make bench` the reader took 0.6 of 2 cores and uploads/s fell by a
    quarter. So the worker runs in a session of its own (the parent starts it so) and
    gives that group the same nice: when the machine is saturated the reader gets a small
    share and still progresses (a starved read would time out and use up attempts).
    In a pod's cgroup there is no autogroup; the task's nice applies there.

    And SCHED_IDLE: the kernel preempts an idle-policy task at once when any other task
    wakes, so a request never waits for the reader's time slice to end.

    `nice` 0 leaves the worker at requests' priority (a node of its own, or a test of
    what the reader reads rather than when: on a saturated machine an idle-policy task
    may wait minutes)."""
    if nice <= 0:
        return
    os.nice(nice)
    if AUTOGROUP.exists():
        AUTOGROUP.write_text(str(nice))
    if hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


class OverCpuLimit(Exception):
    pass


def _over_cpu_limit(signum, frame):
    raise OverCpuLimit()


def serve(stdin, stdout, cpu_limit_s):
    """Answers reads until stdin closes, or until a read uses more than `cpu_limit_s` of
    this process's CPU (ITIMER_PROF counts CPU, not waiting): that one is answered with
    an error and the worker exits, since the engine was stopped mid-call."""
    engine = load()
    signal.signal(signal.SIGPROF, _over_cpu_limit)
    stdout.write(json.dumps({"ready": engine_name()}).encode() + b"\n")
    stdout.flush()
    while True:
        header = stdin.read(4)
        if len(header) < 4:
            return
        (size,) = struct.unpack(">I", header)
        data = stdin.read(size)
        started = time.process_time()
        signal.setitimer(signal.ITIMER_PROF, cpu_limit_s)
        try:
            answer = {"fields": read_image(engine, data)}
        except Exception as exc:  # noqa: BLE001 - an undecodable image is an answer, not a crash
            answer = {"error": type(exc).__name__}
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        # OverCpuLimit itself, or whatever ONNX Runtime made of the interrupted call
        if time.process_time() - started >= cpu_limit_s:
            answer = {"error": "OverCpuLimit", "over_cpu_limit": True}
        stdout.write(json.dumps(answer).encode() + b"\n")
        stdout.flush()
        if answer.get("over_cpu_limit"):
            return


if __name__ == "__main__":
    # NICE CPU_LIMIT_S, from the review service's settings (reader.Worker passes both).
    nice, cpu_limit_s = sys.argv[1:3]
    lower_priority(int(nice))
    serve(sys.stdin.buffer, sys.stdout.buffer, float(cpu_limit_s))
