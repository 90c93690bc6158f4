"""The outcome feed's own costs against the MongoDB-wire server (DESIGN §4a): recording
outcomes, numbering them with one sequencer (and fanning them out to a subscriber),
and reading them back page by page as the registration system does. Uses a database of
its own on MONGO_URI (default: the local dev/mongo) and drops it afterwards. Prints one
JSON line.

    .venv/bin/python benchmarks/outcome_feed_bench.py [-n 10000] [--subscribers 1]
"""
import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo import MongoClient  # noqa: E402

from common import events  # noqa: E402
from common.tokens import Principal  # noqa: E402
from services.notify import hooks  # noqa: E402
from services.notify.feed import Feed, Sequencer  # noqa: E402
from services.notify.feed_repository import FeedRepository  # noqa: E402
from services.notify.hooks_repository import HooksRepository  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--subscribers", type=int, default=1)
    parser.add_argument("--page", type=int, default=500)
    args = parser.parse_args()
    client = MongoClient(os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017/"), tz_aware=True)
    db = client[f"bench{uuid.uuid4().hex[:8]}_notify"]
    try:
        FeedRepository.create_indexes(db)
        HooksRepository.create_indexes(db)
        repo, hooks_repo = FeedRepository(db), HooksRepository(db)
        for n in range(args.subscribers):
            hooks_repo.add_subscriber({"_id": hooks.new_subscriber_id(), "url": f"https://hooks{n}.example/",
                                       "regions": None, "secret": hooks.new_secret(), "status": "active",
                                       "created_at": time.time()})
        feed = Feed(repo, hooks_repo, ["bench-key"])
        started = time.perf_counter()
        for i in range(args.n):
            feed.record("approved", events.PackageApproved(
                package_id=f"2026320{i:06d}-2026", candidate_id=f"2026320{i:06d}", region="32", site="3204",
                attempt=1, reviewer_id="staff:r").to_payload())
        recorded_s = time.perf_counter() - started

        sequencer = Sequencer(repo, hooks_repo, 259200, lease_s=60)
        started = time.perf_counter()
        while db.outcomes.count_documents({"unnumbered": True}) or db.outcomes.count_documents({"fanout_pending": True}):
            sequencer.run()
        numbered_s = time.perf_counter() - started

        reader = Principal(sub="registration-system", role="registration", jti="j", exp=0, iat=0)
        latencies, cursor, read = [], None, 0
        started = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            body = feed.page(reader, cursor, args.page)
            latencies.append((time.perf_counter() - t0) * 1000)
            read += len(body["items"])
            cursor = body["next"]
            if not body["items"]:
                break
        read_s = time.perf_counter() - started
        latencies.sort()
        print(json.dumps({
            "outcomes": args.n, "subscribers": args.subscribers,
            "record_per_s": round(args.n / recorded_s), "number_and_fan_out_per_s": round(args.n / numbered_s),
            "deliveries_made": db.webhook_deliveries.count_documents({}),
            "read": read, "read_per_s": round(read / read_s), "page": args.page,
            "page_ms_p50": round(statistics.median(latencies), 1),
            "page_ms_p95": round(latencies[int(len(latencies) * 0.95) - 1], 1)}))
    finally:
        client.drop_database(db.name)
        client.close()


if __name__ == "__main__":
    main()
