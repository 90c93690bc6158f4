"""The staff workspace's two screens at data volume (issue 19): the queue page and the
case screen with 200,000 packages seeded, each timed over HTTPS at the one origin as
web/staff/ calls it, side by side with the same query run raw (pymongo, the same
database, the same data), with the ratio and the review service's CPU per call.

    .venv/bin/python -m tests.load.stack --out /tmp/stack.json &      # a private stack
    .venv/bin/python -m tests.load.staff_screens --stack /tmp/stack.json [--count 200000]

Seeds with tests/load/volume.py (packages and their review cases, the services' own
code), then times:
- queue page: `review.list_queue` (limit 50) for a site reviewer: first page, a later
  page, filtered by attempt and by flag; and `review.stats` (the counts above it);
  raw: `cases.find(<the same filter>).sort(queue_key).limit(51)`, and the same count
  per status (and of expired claims) on the (region, site, status) index prefix.
- case screen: `review.get_case` of a random waiting package of site 3204 (the scope
  check, the snapshot, the image metadata and presigned links, the audit entry);
  raw: `cases.find_one({_id})` + `images.find({_id: {$in: ...}})`.
- search (issue 28): `review.search_cases` by a 报名号 (the candidate_id index), by a full
  name and by the start of a name (a range on the candidate.name index), and by a full ID
  number (auth's keyed-hash look-up over RPC, then the candidate_id index; the number is a
  demo candidate's, who has no case here, so auth answers and review finds nothing); each
  writes an audit entry. raw: the same `cases.find(...).limit(20)`.
- my claims (issue 28): `review.my_claims` after the reviewer claimed a few packages;
  raw: `cases.find({claimed_by, status, lease_until > now}).sort(lease_until).limit(50)`
  (the seeded volume gives reviewer.3204 thousands of live claims: a worst case).
Prints one JSON summary: p50/p95 per call, p95 ratio to raw, review CPU ms per call.
A benchmark, not a test: the target (p95 under 100 ms) is reported, never asserted.
"""
import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from tests.load.procstat import cpu_seconds, loadavg  # noqa: E402
from tests.load.report import emit, percentiles  # noqa: E402
from tests.load.volume import seed  # noqa: E402
from services.review.domain import STATUSES  # noqa: E402
from dev.seed import demo_id_number  # noqa: E402

TARGET_P95_MS = 100


def log(message):
    print(f"[staff-screens] {message}", file=sys.stderr, flush=True)


def timed(call, samples, warmup=3):
    timings = []
    for i in range(samples + warmup):
        started = time.perf_counter()
        call(i)
        if i >= warmup:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def review_cpu_ms(pid, calls, run):
    """Run `run()`; the review service's CPU milliseconds per call meanwhile."""
    before = cpu_seconds({"review": [pid]}).get(("review", pid), 0.0)
    run()
    after = cpu_seconds({"review": [pid]}).get(("review", pid), 0.0)
    return round((after - before) * 1000 / max(calls, 1), 2)


def queue_filters(now):
    """(label, list_queue kwargs, raw filter) for a reviewer of site 3204."""
    from services.review import domain, scope
    pending = scope.by_status(domain.PENDING, now)
    base = dict({"region": "32", "site": {"$in": ["3204"]}}, **pending)
    return [("first page", {}, base),
            ("filter attempt=first", {"attempt": "first"}, dict(base, resubmission=False)),
            ("filter flag=unclear", {"flag": "unclear"}, dict(base, unclear=True))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="a private stack (tests/load/stack.py)")
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    os.chdir(ROOT)
    stack = json.loads(Path(args.stack).read_text())
    os.environ.update(stack["env"])
    from common.config import db_name, load_config
    from common.rpc_client import RpcClient
    from dev.secrets import services_env
    from pymongo import ASCENDING, MongoClient
    for name, value in services_env().items():
        os.environ.setdefault(name, value)
    config = load_config(str(ROOT / "config.yaml"))
    seeded = None if args.no_seed else seed(config, args.count)
    log(f"seeded {seeded}")
    db = MongoClient(os.environ["MONGO_URI"])[db_name(config, "review")]
    client = RpcClient(stack["url"], timeout=120)
    client.staff_login("reviewer.3204", "Review@2026")
    pid = stack["pids"]["review"]
    now = time.time()
    results = {}

    def record(label, screen_call, raw_call):
        from common.rpc_client import RpcRefused
        cpu = {}
        screen = []
        try:
            cpu["ms"] = review_cpu_ms(pid, args.samples + 3, lambda: screen.extend(timed(screen_call, args.samples)))
        except RpcRefused as exc:  # a refusal (a deadline passed) is a result too
            results[label] = {"refused": f"{exc.code}: {exc.message}", "after_calls": len(screen), "met": False}
            log(f"{label}: {results[label]}")
            return
        raw = timed(raw_call, args.samples)
        s, r = percentiles(screen), percentiles(raw)
        results[label] = {"screen": s, "raw": r, "p95_ratio": round(s["p95_ms"] / max(r["p95_ms"], 0.01), 1),
                          "review_cpu_ms_per_call": cpu["ms"], "met": s["p95_ms"] < TARGET_P95_MS}
        log(f"{label}: {results[label]}")

    # -- the queue page ---------------------------------------------------------------------
    for label, kwargs, raw_filter in queue_filters(now):
        record(f"queue: {label}",
               lambda i, kw=kwargs: client.call("review", "list_queue", site="3204", limit=50, **kw),
               lambda i, f=raw_filter: list(db.cases.find(f).sort("queue_key", ASCENDING).limit(51)))
    first = client.call("review", "list_queue", site="3204", limit=50)
    third = client.call("review", "list_queue", site="3204", limit=50,
                        after=client.call("review", "list_queue", site="3204", limit=50, after=first["next"])["next"])
    cursor = third["next"]
    record("queue: fourth page (after)",
           lambda i: client.call("review", "list_queue", site="3204", limit=50, after=cursor),
           lambda i: list(db.cases.find(dict(queue_filters(now)[0][2], queue_key={"$gt": cursor[2:]}))
                          .sort("queue_key", ASCENDING).limit(51)))
    # -- the case screen --------------------------------------------------------------------
    waiting = [c["_id"] for c in db.cases.find(queue_filters(now)[0][2], {"_id": 1}).limit(2000)]
    rnd = random.Random(5)
    picks = [rnd.choice(waiting) for _ in range(args.samples + 3)]

    def raw_case(i):
        case = db.cases.find_one({"_id": picks[i]})
        ids = [x for ids in case["items"].values() for x in ids]
        return list(db.images.find({"_id": {"$in": ids}}))
    record("case screen: get_case", lambda i: client.call("review", "get_case", package_id=picks[i]), raw_case)

    area = {"region": "32", "site": "3204"}

    def raw_counts(i):
        # what stats does: one count per status on the (region, site, status) index prefix
        count = lambda query: db.command("count", "cases", query=query)["n"]  # noqa: E731
        return ([count(dict(area, status=status)) for status in STATUSES],
                count(dict(area, status="claimed", lease_until={"$lt": now})))
    record("queue: counts per status (stats)", lambda i: client.call("review", "stats", site="3204"), raw_counts)

    # -- search and my claims (issue 28) ------------------------------------------------------
    scoped = {"region": "32", "site": {"$in": ["3204"]}}
    someone = next(c for c in db.cases.find(scoped, {"candidate_id": 1, "candidate": 1}).limit(500)
                   if len((c.get("candidate") or {}).get("name") or "") >= 10)  # 容量考生 + 6 digits
    number, name = someone["candidate_id"], someone["candidate"]["name"]
    prefix = name[:-3]  # e.g. 容量考生123: every name that starts so (many), the first 20 in scope
    by_name = lambda text: dict(scoped, **{"candidate.name": {"$gte": text, "$lt": text + "\uffff"}})  # noqa: E731
    for label, query, raw in (
            ("search: 报名号", number, lambda: db.cases.find({"candidate_id": number}).limit(20)),
            ("search: full name", name, lambda: db.cases.find(by_name(name)).sort("candidate.name", ASCENDING).limit(20)),
            ("search: start of a name", prefix,
             lambda: db.cases.find(by_name(prefix)).sort("candidate.name", ASCENDING).limit(20)),
            ("search: full ID number (auth's keyed hash)", demo_id_number("320400", 1),
             lambda: db.cases.find({"candidate_id": "2026320400001"}).limit(20))):
        record(label, lambda i, q=query: client.call("review", "search_cases", query=q),
               lambda i, r=raw: list(r()))
    for package_id in waiting[:5]:
        client.call("review", "claim", package_id=package_id)
    mine = {"claimed_by": "staff:reviewer.3204", "status": "claimed"}  # the seeded ones too: thousands
    record("my claims (my_claims)", lambda i: client.call("review", "my_claims"),
           lambda i: list(db.cases.find(dict(mine, lease_until={"$gt": time.time()}))
                          .sort("lease_until", ASCENDING).limit(50)))
    for package_id in waiting[:5]:
        client.call("review", "release", package_id=package_id)

    summary = {"benchmark": "staff screens at data volume (tests/load/staff_screens.py)",
               "packages": args.count, "seeded": seeded, "target_p95_ms": TARGET_P95_MS,
               "samples": args.samples, "results": results,
               "met": all(r["met"] for r in results.values()),
               "conditions": {"loadavg": loadavg(), "target": stack["url"], "database": stack.get("database")}}
    emit(summary, args.out)


if __name__ == "__main__":
    main()
