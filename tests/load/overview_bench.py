"""The administrators' overview at volume (issue 19 item 8): what review.overview reads,
timed against 200,000 cases, side by side with the reference it replaces.

    .venv/bin/python -m tests.load.overview_bench [--cases 200000 --force] [--samples 30]

Seeds, into a database of its own (`bench_overview_<random>review`, dropped at the end)
on the MongoDB-wire server at MONGO_URI (default the shared dev/mongo), one region of
ten sites: `--cases` review cases in a realistic mix of states, and the per-site daily
tallies those cases' submissions and decisions would have left over 60 days. Then times,
per call, for one region and for one site:

- `tallies`: the overview's own reads (Tallies.between over 14 days + overview.summarise);
- `status counts`: the per-site counts by status (Tallies.counts_by_site, an aggregate
  over the region's or site's cases: the one part that still groups cases, hence
  counted at most once a minute per scope, StatusCounts);
- `overview as served`: both, with the counts of the last minute;
- `reference`: the same daily figures computed from the cases themselves (every case of
  the region read with its decision), what the overview would cost without tallies.

Prints p50/p95 per part, the reference/tallies ratio, and CPU per call of this client and
of the database server. The shared dev/mongo is everyone's test database: without
--force this refuses more than 20,000 cases (200,000 cost it about a gigabyte of memory
until they are dropped); run the full size on a quiet machine or a private server.
"""
import argparse
import os
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pymongo import MongoClient  # noqa: E402

from common import clock  # noqa: E402
from services.review import domain  # noqa: E402
from services.review.admin import overview  # noqa: E402
from services.review.admin.tallies import StatusCounts, Tallies  # noqa: E402
from services.review.repository import CaseRepository  # noqa: E402
from services.review.settings import ReviewSettings  # noqa: E402
from tests.load.procstat import cpu_seconds, stack_processes  # noqa: E402
from tests.load.report import emit, percentiles  # noqa: E402

SITES = [f"32{n:02d}" for n in range(1, 11)]
STATES = ((domain.PENDING, 0.45), (domain.APPROVED, 0.35), (domain.RETURNED, 0.12),
          (domain.REJECTED, 0.03), (domain.WITHDRAWN, 0.05))
REASONS = list(domain.REASONS)
DAYS = 60


def seed(db, cases, rnd, batch=2000):
    today = clock.beijing_today()
    weights = [w for _, w in STATES]
    tallies = {}
    docs = []
    for n in range(cases):
        site = SITES[n % len(SITES)]
        status = rnd.choices([s for s, _ in STATES], weights)[0]
        day = (today - timedelta(days=rnd.randrange(DAYS))).isoformat()
        submitted_at = f"{day}T02:{n % 60:02d}:00.000Z"
        case = {"_id": f"bench{n:07d}-2026", "candidate_id": f"bench{n:07d}", "region": "32", "site": site,
                "status": status, "attempt": 1, "lease_until": 0, "submitted_at": submitted_at,
                "queue_key": f"{submitted_at}|{n:07d}", "quality_key": f"{submitted_at}|{n:07d}",
                "decision": None, "history": [{"action": "submitted", "attempt": 1, "at": submitted_at}]}
        tally = tallies.setdefault((site, day), {"_id": overview.tally_id(site, day), "region": "32", "site": site,
                                                 "day": day, "submitted": 0, "decisions": [], "seen": []})
        tally["submitted"] += 1
        tally["seen"].append(uuid.uuid4().hex)
        if status in (domain.APPROVED, domain.RETURNED, domain.REJECTED):
            kind = {domain.APPROVED: "approved", domain.RETURNED: "returned", domain.REJECTED: "rejected"}[status]
            reasons = [rnd.choice(REASONS)] if kind == "returned" else []
            case["decision"] = {"action": kind, "by": f"staff:r{n % 40}", "at": f"{day}T08:00:00.000Z", "attempt": 1,
                                "items": [{"reason_code": r} for r in reasons]}
            tally.setdefault(kind, 0)
            tally[kind] = tally.get(kind, 0) + 1
            tally["decisions"].append({"k": kind, "r": f"staff:r{n % 40}", "w": rnd.randrange(600, 86400), "rs": reasons})
            tally["seen"].append(uuid.uuid4().hex)
        docs.append(case)
        if len(docs) == batch:
            db.cases.insert_many(docs, ordered=False)
            docs = []
    if docs:
        db.cases.insert_many(docs, ordered=False)
    db.tallies.insert_many(list(tallies.values()), ordered=False)
    return len(tallies)


def reference(db, area, days):
    """The daily figures straight from the cases: what the tallies save."""
    per_day = {d: {"submitted": 0, "decided": 0} for d in days}
    for case in db.cases.find(area, {"submitted_at": 1, "decision": 1}):
        day = overview.day_of(case["submitted_at"])
        if day in per_day:
            per_day[day]["submitted"] += 1
        decision = case.get("decision") or {}
        if decision.get("at") and overview.day_of(decision["at"]) in per_day:
            per_day[overview.day_of(decision["at"])]["decided"] += 1
    return per_day


def timed(fn, samples, server):
    timings = []
    cpu0, server0 = time.process_time(), sum(cpu_seconds(server).values())
    for _ in range(samples):
        start = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - start) * 1000)
    cpu1, server1 = time.process_time(), sum(cpu_seconds(server).values())
    return dict(percentiles(timings), client_cpu_ms_per_call=round((cpu1 - cpu0) * 1000 / samples, 1),
                server_cpu_ms_per_call=round((server1 - server0) * 1000 / samples, 1) if server else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--uri", default=os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017/"))
    args = parser.parse_args()
    if args.cases > 20_000 and not args.force:
        raise SystemExit("more than 20,000 cases on the shared database needs --force (see the docstring)")
    client = MongoClient(args.uri)
    name = f"bench_overview_{uuid.uuid4().hex[:8]}review"
    db = client[name]
    server = {"mongodb": stack_processes(ROOT).get("mongodb", [])}
    try:
        CaseRepository.create_indexes(db)
        started = time.perf_counter()
        tally_docs = seed(db, args.cases, random.Random(19))
        seeded_s = time.perf_counter() - started
        print(f"seeded {args.cases} cases and {tally_docs} tallies in {seeded_s:.0f} s", file=sys.stderr, flush=True)
        tallies = Tallies(db)
        days = overview.days_back(clock.beijing_today().isoformat(), 14)
        results = {}
        for scope, area in (("region 32", {"region": "32"}), ("site 3201", {"region": "32", "site": "3201"})):
            cache = StatusCounts(ReviewSettings().counts_ttl_s)
            cache.get(tallies, area, time.time())  # counted once a minute; served from memory meanwhile
            results[scope] = {
                "overview as served (tallies + counts of the last minute)": timed(
                    lambda: overview.summarise(tallies.between(area, days[0], days[-1]),
                                               cache.get(tallies, area, time.time())[0], days),
                    args.samples, server),
                "tallies": timed(lambda: overview.summarise(tallies.between(area, days[0], days[-1]), {}, days),
                                 args.samples, server),
                "status counts": timed(lambda: tallies.counts_by_site(area, time.time()), max(3, args.samples // 5), server),
                "reference (from the cases)": timed(lambda: reference(db, area, days), max(3, args.samples // 10), server),
            }
            part = results[scope]
            part["reference / tallies p50"] = round(part["reference (from the cases)"]["p50_ms"]
                                                   / max(part["tallies"]["p50_ms"], 0.1), 1)
        emit({"benchmark": "review.overview reads", "cases": args.cases, "tally_documents": tally_docs,
              "sites": len(SITES), "days_shown": len(days), "seeded_s": round(seeded_s, 1),
              "database": args.uri.split("@")[-1], "results": results})
    finally:
        client.drop_database(name)
        client.close()


if __name__ == "__main__":
    main()
