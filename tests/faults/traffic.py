"""A steady trickle of candidate traffic for the fault tests.

Candidates go one after another through the whole journey, one request every
`interval` seconds: the five required uploads, an optional image uploaded and deleted
again, then "提交审核". A request that fails (503 while a server is away, a timeout)
is tried again at the next tick, or after the Retry-After the server named, as a
well-behaved client does, so every candidate ends submitted once the system is back.
Tokens are taken before the fault: sign-in itself needs auth and its database.
"""
import threading
import time

import requests

from support import REQUIRED, Candidate, rpc, wait_for
from unit.imagefactory import document_jpeg

UPLOADS = [material_type for material_type, count in REQUIRED for _ in range(count)]
IMAGES = [document_jpeg(seed=600 + n) for n in range(6)]


class Person:
    def __init__(self, system, number):
        self.number = number
        self.client = Candidate(system, number)  # signed in and consented
        self.steps = [("upload", t) for t in UPLOADS] + [("upload", "other"), ("delete", "other"),
                                                        ("submit", None)]
        self.done = []          # (step, result) of every step that succeeded
        self.uploaded = []      # image ids
        self.package_id = None
        self.submitted_at = None

    @property
    def finished(self):
        return not self.steps


class Trickle:
    def __init__(self, system, numbers, interval=0.4, timeout=15):
        self.system = system
        self.interval = interval
        self.timeout = timeout
        self.people = [Person(system, number) for number in numbers]
        self.log = []           # (monotonic time, number, step, status)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=60)

    def _call(self, method, person, path, **kwargs):
        return person.client.call(method, path, timeout=self.timeout, **kwargs)

    def _run(self):
        for person in self.people:
            while not person.finished and not self._stop.is_set():
                self._stop.wait(max(self.interval, self._step(person)))
            if self._stop.is_set():
                return

    def _step(self, person):
        """Try the person's next step; the seconds to wait before the next request."""
        step, material_type = person.steps[0]
        response = None
        try:
            if step == "upload":
                image = IMAGES[len(person.uploaded) % len(IMAGES)]
                response = self._call("POST", person, f"/package/items/{material_type}/images",
                                      files={"file": ("scan.jpg", image, "image/jpeg")})
                ok = response.status_code == 201
                if ok:
                    person.uploaded.append((material_type, response.json()["image_id"]))
                elif response.status_code == 409 and response.json()["error"]["code"] == "slot_full":
                    ok = True  # an earlier try was stored though its answer was lost
            elif step == "delete":
                response = self._call("GET", person, "/package")
                ok = response.status_code == 200
                if ok:
                    item = next(i for i in response.json()["items"] if i["material_type"] == material_type)
                    for image in item["images"]:
                        response = self._call(
                            "DELETE", person, f"/package/items/{material_type}/images/{image['image_id']}")
                        ok = ok and response.status_code in (204, 404)  # 404: done by an earlier try
            else:
                response = self._call("POST", person, "/package/submit")
                ok = response.status_code == 200
                if ok:
                    person.package_id = response.json()["package_id"]
                    person.submitted_at = time.monotonic()
            status = response.status_code
        except requests.RequestException as exc:
            ok, status = False, type(exc).__name__
        self.log.append((time.monotonic(), person.number, step, status))
        if ok:
            person.done.append(person.steps.pop(0))
            return 0
        return _retry_after(response)

    # -- what happened ---------------------------------------------------------------------------
    def made_between(self, start, end, step=None):
        """Successful requests in [start, end) (monotonic times)."""
        return [entry for entry in self.log if start <= entry[0] < end
                and entry[3] in (200, 201, 204) and (step is None or entry[2] == step)]

    def failures(self):
        return [entry for entry in self.log if entry[3] not in (200, 201, 204)]

    def wait_finished(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(person.finished for person in self.people):
                return True
            time.sleep(0.2)
        unfinished = {p.number: p.steps[:1] for p in self.people if not p.finished}
        raise AssertionError(f"the trickle did not finish: {unfinished}; last: {self.log[-5:]}")

    def submitted(self):
        return [person for person in self.people if person.package_id]


def _retry_after(response, cap=60):
    if response is None or response.status_code not in (429, 503):
        return 0
    try:
        return min(cap, float(response.headers.get("Retry-After", 0)))
    except ValueError:
        return 0


def clean_failures(trickle):
    """Requests that failed during a fault failed cleanly, never with a 500: 503 or the
    connection, or 429 when a candidate's retries during the fault used up their minute."""
    bad = [entry for entry in trickle.failures()
           if entry[3] not in (503, 429, "ReadTimeout", "ConnectionError")]
    assert not bad, f"requests failed uncleanly during the fault: {bad[:5]}"


def in_queue(system, token, package_ids, timeout=60):
    """Every package is a case in the reviewers' queue (site 3204)."""
    wanted = set(package_ids)
    with rpc(system.config, token) as proxy:
        def listed():
            found, after = set(), None
            while True:
                page = proxy.review.list_queue(site="3204", limit=200, after=after)
                found |= {item["package_id"] for item in page["items"]}
                after = page["next"]
                if after is None:
                    return wanted <= found
        wait_for(listed, timeout=timeout, interval=0.5, message=f"{len(wanted)} cases queued")


def health(system, name):
    try:
        response = requests.get(f"{system.url}/healthz/{name}", timeout=10)
    except requests.RequestException:
        return None, {}
    return response.status_code, (response.json() if response.headers.get(
        "Content-Type", "").startswith("application/json") else {})
