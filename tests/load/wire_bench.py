"""MongoDB-wire servers side by side (tests/load/README.md): the operations the services rest on, the
same data, one run, so the ratios hold on a busy machine. By hand, never in CI.

    .venv/bin/python -m tests.load.wire_bench URI [URI ...] [--docs 10000] [--seconds 3]

For each server (a label may precede the URI: `devmongo=mongodb://127.0.0.1:27017/`):
`--docs` documents of about 4 KB (the size of a package), then for `--seconds` each:
insert_one; find_one by `_id`; find_one by a unique indexed field; the guarded
`find_one_and_update({_id, status})` every state change is; a page of the reviewers'
queue (equality and `$in` on indexed fields, a range and sort on the next key, limit
50); and 20 threads `$inc`-ing one document, with the increments lost counted. Prints
one JSON summary: operations per second (or ms per queue page) per server.
"""
import argparse
import json
import random
import statistics
import sys
import threading
import time
import uuid

from pymongo import ASCENDING, MongoClient

PAD = "x" * 3800
SITES = ["3204", "3201", "1101", "3202"]
STATUSES = ["pending", "claimed", "approved", "rejected", "returned"]


def document(n):
    return {"_id": f"p{n:07d}", "serial": n, "region": "32" if n % 4 else "11", "site": SITES[n % 4],
            "status": STATUSES[n % 5], "key": f"2026-11-{1 + n % 28:02d}T00:00:{n % 60:02d}|p{n:07d}",
            "attempt": 1, "pad": PAD}


def rate(seconds, operation):
    """Calls of `operation(i)` per second over `seconds`."""
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        operation(done)
        done += 1
    return round(done / (time.perf_counter() - started), 1)


def bench(uri, docs, seconds):
    client = MongoClient(uri, serverSelectionTimeoutMS=5000)
    db = client[f"wirebench_{uuid.uuid4().hex[:8]}"]
    try:
        coll = db.packages
        coll.create_index([("serial", ASCENDING)], unique=True)
        coll.create_index([("region", ASCENDING), ("site", ASCENDING), ("status", ASCENDING), ("key", ASCENDING)])
        started = time.perf_counter()
        for i in range(0, docs, 500):
            coll.insert_many([document(n) for n in range(i, min(i + 500, docs))])
        result = {"load_docs_per_s": round(docs / (time.perf_counter() - started), 1)}
        rnd = random.Random(1)
        extra = db.inserts
        result["insert_one_per_s"] = rate(seconds, lambda i: extra.insert_one(dict(document(i), _id=f"i{i}")))
        result["find_one_by_id_per_s"] = rate(seconds, lambda i: coll.find_one({"_id": f"p{rnd.randrange(docs):07d}"}))
        result["find_one_by_unique_field_per_s"] = rate(
            seconds, lambda i: coll.find_one({"serial": rnd.randrange(docs)}))

        def guarded(i):
            n = rnd.randrange(docs)
            coll.find_one_and_update({"_id": f"p{n:07d}", "status": {"$in": STATUSES}},
                                     {"$inc": {"attempt": 1}, "$set": {"touched": i}})
        result["guarded_find_one_and_update_per_s"] = rate(seconds, guarded)

        pages = []

        def queue_page(i):
            after = f"2026-11-{1 + i % 20:02d}"
            t0 = time.perf_counter()
            found = list(coll.find({"region": "32", "site": {"$in": ["3204", "3201"]},
                                    "status": {"$in": ["pending", "claimed"]}, "key": {"$gt": after}},
                                   {"pad": 0}).sort("key", ASCENDING).limit(50))
            pages.append((time.perf_counter() - t0) * 1000)
            assert len(found) == 50, len(found)
        rate(seconds, queue_page)
        result["queue_page_ms"] = {"p50": round(statistics.median(pages), 2),
                                   "p99": round(sorted(pages)[int(len(pages) * 0.99) - 1], 2), "n": len(pages)}

        coll.insert_one({"_id": "counter", "n": 0})

        def increments(_):
            for _ in range(100):
                coll.update_one({"_id": "counter"}, {"$inc": {"n": 1}})
        threads = [threading.Thread(target=increments, args=(t,)) for t in range(20)]
        t0 = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - t0
        result["inc_20_threads_per_s"] = round(2000 / elapsed, 1)
        result["inc_20_threads_lost"] = 2000 - coll.find_one({"_id": "counter"})["n"]
        return result
    finally:
        client.drop_database(db.name)
        client.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("servers", nargs="+", help="URI or label=URI")
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    summary = {"benchmark": "MongoDB-wire servers side by side (tests/load/wire_bench.py)",
               "docs": args.docs, "doc_bytes": len(json.dumps(document(0))), "servers": {}}
    for spec in args.servers:
        label, uri = spec.split("=", 1) if "://" not in spec.split("=", 1)[0] else (spec, spec)
        print(f"[wire] {label}", file=sys.stderr, flush=True)
        summary["servers"][label] = bench(uri, args.docs, args.seconds)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
