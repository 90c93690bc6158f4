"""The ID card reader's worker processes (the images come from dependencies.ReadOnlyImages).

OCR costs ~0.7 s of CPU per photo (benchmarks/README.md), far too long for review's
eventlet hub (heartbeats would be missed) and too much to let compete with reviewers'
requests. So it runs in `OCR.WORKERS` long-lived child processes
(idcheck/ocr_worker.py, one ONNX thread each, at nice `OCR.NICE`), started on
first use and kept: loading the models costs about as much as one read. Pipes are green
(eventlet.green.subprocess), so a waiting handler blocks nothing. A read may use
`OCR.CPU_LIMIT_S` of the worker's CPU (the worker stops itself past it, see
ocr_worker.py) and raises; the event handler retries later (common/messaging.py). The
limit is CPU time, not wall time: the workers run at the lowest priority, so on a
saturated machine a read waits for CPU for a long while, and a wall-clock limit there
killed reads that were only waiting (under `make bench`) and used up their attempts.
A worker that answers nothing for `hung_s` (wall time, generous) is killed.

Even at the lowest priority the reader slowed requests on a machine they saturate
(2 cores under `make bench`: upload p99 99 → 184 ms at 20 candidates, tests/load/README.md),
so a read first waits while the CPU is contended: while Linux's pressure stall figure
(`cpu_pressure`, the share of the last 10 s in which a runnable task waited for a CPU)
is above `OCR.DEFER_ABOVE_CPU_PRESSURE` percent, for at most `OCR.MAX_DEFER_S`, after
which it reads anyway (at the lowest priority) so that checks still come through on a
machine that is never quiet. At most WORKERS images are read at once per instance; 0 switches the reader off.

nameko's worker pool (`max_workers`) is shared by every entrypoint of review, so handlers
waiting for an OCR worker would take the slots reviewers' calls need. At most
`WAITING_PER_WORKER` handlers per OCR worker may wait, and the handler's prefetch
(`prefetch`) takes no more than that from the broker. Should one more arrive anyway, it
raises ReaderBusy, back-pressure to the event handler: the event comes back after the short retry delay
(5 s) without using up an attempt, and nothing is lost. (At the two-minute outage delay
a burst came back all at once and only a few got in each time: 40 images took longer
than the e2e suite's four-minute wait.)"""
import json
import logging
import os
import struct
import sys
from pathlib import Path

import eventlet
from eventlet.green import subprocess
from eventlet.queue import LightQueue

from common.errors import Unavailable
from common.settings import load
from services.review.settings import ReviewSettings

log = logging.getLogger(__name__)


WAITING_PER_WORKER = 2


class ReaderFailed(Exception):
    """The worker could not read this image now (crashed, timed out, or refused it)."""


class ReaderBusy(Unavailable):
    """Every OCR worker is busy and enough handlers wait already: try again soon (the
    event handler puts it back at the short retry delay, no attempt used up)."""
    message = "证件识别繁忙，稍后重试"
    busy = True


class Worker:
    def __init__(self, nice, cpu_limit_s):
        env = dict(os.environ, OMP_NUM_THREADS="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.review.idcheck.ocr_worker", str(nice), str(cpu_limit_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            start_new_session=True)  # its own scheduling group: ocr_worker.lower_priority
        try:
            self.engine = self._answer()["ready"]
        except BaseException:  # a timeout or a crash at start: leave no process behind
            self.stop()
            raise

    def read(self, data):
        self.process.stdin.write(struct.pack(">I", len(data)) + data)
        self.process.stdin.flush()
        return self._answer()

    def _answer(self):
        line = self.process.stdout.readline()
        if not line:
            raise ReaderFailed("OCR worker exited")
        return json.loads(line)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# the container's own cgroup (v2) first: in a pod, what its processes wait; else the machine's
PRESSURE_FILES = (Path("/sys/fs/cgroup/cpu.pressure"), Path("/proc/pressure/cpu"))


def cpu_pressure():
    """Percent of the last 10 s in which some runnable task waited for a CPU (PSI
    `some avg10`), or None where the kernel does not say."""
    for path in PRESSURE_FILES:
        try:
            first = path.read_text().splitlines()[0]
        except OSError:
            continue
        fields = dict(item.split("=", 1) for item in first.split()[1:])
        return float(fields["avg10"])
    return None


def prefetch(config):
    """ID card events review takes from the broker at once: as many as the pool admits.
    The rest wait in the broker, so the reader never has to refuse (see
    common/messaging.py)."""
    return capacity(load(ReviewSettings, config).ocr_workers)


def capacity(workers):
    """Reads admitted at once: one reading and WAITING_PER_WORKER waiting per worker."""
    return max(int(workers), 1) * (1 + WAITING_PER_WORKER)


class OcrPool:
    """The pool `settings` (ReviewSettings, its OCR keys) describe; no process is started
    before the first read. `ocr_workers=0` switches the reader off in this instance (an
    operator's lever): ID card images are then not read, and reviewers compare the card
    by eye as before."""

    def __init__(self, settings, hung_s=600.0, start_timeout_s=60.0, pressure=cpu_pressure, poll_s=1.0):
        self.on = settings.ocr_workers > 0
        self.size = max(settings.ocr_workers, 1)
        self.nice = settings.ocr_nice
        self.cpu_limit_s = settings.ocr_cpu_limit_s
        self.hung_s = float(hung_s)
        self.defer_above = settings.ocr_defer_above
        self.max_defer_s = settings.ocr_max_defer_s
        self.pressure = pressure
        self.poll_s = float(poll_s)
        self.start_timeout_s = float(start_timeout_s)
        self.idle = LightQueue()
        self.slots = eventlet.semaphore.Semaphore(self.size)
        self.live = set()
        self.admitted = 0  # reading or waiting

    @property
    def capacity(self):
        return capacity(self.size)

    def read(self, data):
        """{engine, fields} for one image; raises ReaderFailed or ReaderBusy."""
        if self.admitted >= self.capacity:
            raise ReaderBusy()
        self.admitted += 1
        try:
            return self._read(data)
        finally:
            self.admitted -= 1

    def wait_for_quiet(self):
        """Returns once the CPU is not contended, or after `max_defer_s`; the seconds waited."""
        waited = 0.0
        while waited < self.max_defer_s:
            pressure = self.pressure()
            if pressure is None or pressure <= self.defer_above:
                break
            eventlet.sleep(self.poll_s)
            waited += self.poll_s
        return waited

    def _read(self, data):
        with self.slots:
            self.wait_for_quiet()
            worker = self._take()
            try:
                with eventlet.Timeout(self.hung_s, ReaderFailed("OCR worker hung")):
                    answer = worker.read(data)
            except BaseException:
                self._discard(worker)  # its pipe may hold half an answer: never reuse it
                raise
            if answer.get("over_cpu_limit"):
                self._discard(worker)  # it exits after saying so
            else:
                self.idle.put(worker)
        if "error" in answer:
            raise ReaderFailed(f"OCR failed: {answer['error']}")
        return {"engine": worker.engine, "fields": answer["fields"]}

    def _take(self):
        while not self.idle.empty():
            worker = self.idle.get()
            if worker.process.poll() is None:
                return worker
            self._discard(worker)
        with eventlet.Timeout(self.start_timeout_s, ReaderFailed("OCR worker did not start")):
            worker = Worker(self.nice, self.cpu_limit_s)
        self.live.add(worker)
        return worker

    def _discard(self, worker):
        self.live.discard(worker)
        worker.stop()

    def stop(self):
        for worker in list(self.live):
            self._discard(worker)
