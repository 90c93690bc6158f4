"""Data-volume run (tests/load/README.md): GET /api/v1/package and review.list_queue with 200,000
packages (1,000,000 with --million) in the databases.

    .venv/bin/python -m tests.load.volume [--count 200000 | --million] [--stack FILE]
    .venv/bin/python -m tests.load.volume --cleanup [--stack FILE]

1. Seeds packages straight into the materials database (`<prefix>materials.packages`)
   and, for every package that was submitted, its review case (`<prefix>review.cases`),
   built with the services' own code: `services.materials.domain.new_package` with
   region rules from the database, images attached the way `Packages.store_upload`
   records them (six per package: both sides of the ID card, degree, probation,
   registration form, work certificate), the history and version a real journey
   leaves; cases from `services.review.domain.submission` with `NEW_CASE`. A realistic
   mix of states: about 30 % draft, the rest submitted, in review, returned, approved
   or rejected. Candidates `20263299` + 7 digits (never a demo or load candidate),
   spread over the demo regions: 45 % site 3204, 45 % site 3201, 10 % site 1101.
   No objects are written to S3 (neither timed call reads one).
2. Times GET /api/v1/package through nginx for a random sample of seeded candidates,
   with access tokens signed locally by the development key (the claims auth would put
   in them: `services.auth.domain.candidate_claims`).
3. Times review.list_queue over HTTPS (POST /rpc/review/list_queue at the one origin)
   as a site reviewer (reviewer.3204) and a region reviewer (reviewer.32): first page, a
   later page (`after`), and `sort="quality"`.
4. Prints one JSON summary (p50/p95/p99 per call, the counts, the conditions), then,
   with --cleanup-after, one line with what the cleanup removed.

Seeded documents stay until `--cleanup` (which removes exactly them) unless --cleanup-after.

The shared `make up` database is every engineer's test database too: 200,000 packages
there cost about a gigabyte of dev/mongo's memory (its indexes are in memory) and time
at every restart (they are rebuilt from the data). Without --stack this script
therefore refuses more than --shared-limit packages (default 1,000) unless --force
(with --cleanup-after, they are gone again at the end). See tests/load/README.md.
"""
import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.load.procstat import loadavg  # noqa: E402
from tests.load.report import emit, percentiles  # noqa: E402

PREFIX = "20263299"
REGEX = {"$regex": f"^{PREFIX}[0-9]{{7}}$"}
SPREAD = (("32", "3204", 0.45), ("32", "3201", 0.45), ("11", "1101", 0.10))
CATEGORY = "integrated_practitioner"
UPLOADS = ("id_card", "id_card", "degree_certificate", "probation_certificate",
           "registration_form", "work_certificate")
# materials status -> share of packages; cases exist for every status but draft.
STATES = (("draft", 0.30), ("submitted", 0.35), ("in_review", 0.08), ("returned", 0.05),
          ("approved", 0.19), ("rejected", 0.03))
CASE_STATUS = {"submitted": "pending", "in_review": "claimed", "returned": "returned",
               "approved": "approved", "rejected": "rejected"}
STAFF_PASSWORD = "Review@2026"


def log(message):
    print(f"[volume] {message}", file=sys.stderr, flush=True)


def candidate_id(n):
    return f"{PREFIX}{n:07d}"


def iso(moment):
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- building documents with the services' own code ---------------------------------------------
class Builder:
    def __init__(self, materials_db, seed=9):
        from services.materials.domain import Catalogue
        from services.materials.regions import rules_from_doc
        self.catalogue = Catalogue.load()
        self.rules = {region: rules_from_doc(region, materials_db.regions.find_one({"_id": region}))
                      for region in {r for r, _, _ in SPREAD}}
        self.seed = seed
        self.now = datetime.now(timezone.utc)

    def place(self, rnd):
        pick = rnd.random()
        for region, site, share in SPREAD:
            if pick < share:
                return region, site
            pick -= share
        return SPREAD[-1][:2]

    def state(self, rnd):
        pick = rnd.random()
        for state, share in STATES:
            if pick < share:
                return state
            pick -= share
        return STATES[-1][0]

    def build(self, n):
        """(package, case or None) for seeded candidate number n."""
        from services.materials import domain
        rnd = random.Random(self.seed * 10_000_019 + n)
        region, site = self.place(rnd)
        state = self.state(rnd)
        started = self.now - timedelta(days=rnd.uniform(0.5, 25), seconds=n % 997)
        profile = {"candidate_id": candidate_id(n), "exam_year": 2026, "name": f"容量考生{n}",
                   "region": region, "site": site, "category": CATEGORY}
        package = domain.new_package(profile, self.rules[region], self.catalogue, started)
        at = started + timedelta(minutes=1)
        package["consent"] = {"notice_version": self.catalogue.consent_notice_version, "at": iso(at)}
        history = [{"at": iso(at), "action": "consent",
                    "notice_version": self.catalogue.consent_notice_version}]
        uploads = UPLOADS if state != "draft" else UPLOADS[:rnd.randint(0, len(UPLOADS))]
        for material_type in uploads:
            at += timedelta(seconds=rnd.randint(20, 300))
            image_id = uuid.UUID(int=rnd.getrandbits(128)).hex
            image = {"image_id": image_id, "key": domain.object_key(package, material_type, image_id, "jpg"),
                     "format": "jpeg", "content_type": "image/jpeg",
                     "bytes": rnd.randint(100_000, 200_000), "width": 1200, "height": 900,
                     "sha256": hashlib.sha256(image_id.encode()).hexdigest(),
                     "sharpness": round(rnd.uniform(12, 28), 2),
                     "phash": f"{rnd.getrandbits(64):016x}", "uploaded_at": iso(at)}
            item = package["items"][material_type]
            item["images"][image_id] = image
            item["count"] += 1
            history.append({"at": iso(at), "action": "upload", "event_id": uuid.UUID(int=rnd.getrandbits(128)).hex,
                            "event_type": "MaterialUploaded", "material_type": material_type,
                            "image_id": image_id})
        package["status"] = state
        package["history"] = history
        package["version"] = len(history)
        package["updated_at"] = iso(at)
        case = None
        if state != "draft":
            submitted_at = at + timedelta(minutes=2)
            package["submitted_at"] = iso(submitted_at)
            package["updated_at"] = iso(submitted_at)
            package["history"].append({"at": iso(submitted_at), "action": "submit",
                                       "event_id": uuid.UUID(int=rnd.getrandbits(128)).hex,
                                       "event_type": "PackageSubmitted", "attempt": 1,
                                       "from_status": "draft"})
            package["version"] += 1
            for code, item in package["items"].items():
                item["locked"] = state != "returned" or code != "degree_certificate"
            if state == "returned":
                package["items"]["degree_certificate"]["reason"] = "图片不清晰"
                package["feedback"] = {"decision": "returned", "items": [
                    {"material_type": "degree_certificate", "reason": "图片不清晰"}],
                    "respond_by": None, "at": iso(submitted_at + timedelta(hours=20))}
            case = self.case(package, submitted_at, state, rnd)
        return package, case

    def case(self, package, submitted_at, state, rnd):
        from services.review import domain as review
        event = {"package_id": package["_id"], "candidate_id": package["candidate_id"],
                 "region": package["region"], "site": package["site"], "category": package["category"],
                 "attempt": 1, "occurred_at": iso(submitted_at),
                 "items": [{"material_type": code, "image_ids": sorted(item["images"])}
                           for code, item in sorted(package["items"].items()) if item["images"]]}
        quality = min(i["sharpness"] for item in package["items"].values() for i in item["images"].values())
        case = dict(review.NEW_CASE)
        case.update(review.submission(event, quality))
        case["_id"] = package["_id"]
        case["lifecycle_key"] = review.lifecycle_key(1, event["occurred_at"])
        case["candidate"] = {"name": package["name"], "id_number_masked": f"{package['site']}**********{rnd.randint(0, 9999):04d}",
                             "phone_masked": f"139****{rnd.randint(0, 9999):04d}", "region": package["region"],
                             "site": package["site"], "category": package["category"], "exam_year": 2026}
        case["history"] = [{"at": event["occurred_at"], "action": "submitted", "attempt": 1,
                            "event_id": uuid.UUID(int=rnd.getrandbits(128)).hex}]
        case["status"] = CASE_STATUS[state]
        reviewer = f"staff:reviewer.{package['site']}"
        if state == "in_review":  # claimed; half of the leases have run out (pending again)
            case["claimed_by"] = reviewer
            case["started_attempt"] = 1
            case["lease_until"] = time.time() + (600 if rnd.random() < 0.5 else -600)
        elif state in ("approved", "rejected", "returned"):
            case["started_attempt"] = 1
            case["decision"] = {"action": {"approved": "approve", "rejected": "reject",
                                           "returned": "return"}[state],
                                "by": reviewer, "at": iso(submitted_at + timedelta(hours=20)), "attempt": 1}
        return case


def seed(config, count, batch=1000):
    from pymongo import MongoClient
    from common.config import db_name
    client = MongoClient(os.environ.get("MONGO_URI", config["MONGO"]["URI"]))
    materials = client[db_name(config, "materials")]
    review = client[db_name(config, "review")]
    builder = Builder(materials)
    started = time.monotonic()
    packages, cases, made = [], [], {"packages": 0, "cases": 0}

    def flush():
        if packages:
            materials.packages.insert_many(packages, ordered=False)
            made["packages"] += len(packages)
        if cases:
            review.cases.insert_many(cases, ordered=False)
            made["cases"] += len(cases)
        packages.clear()
        cases.clear()

    for n in range(count):
        package, case = builder.build(n)
        packages.append(package)
        if case is not None:
            cases.append(case)
        if len(packages) >= batch:
            flush()
            if made["packages"] % 20_000 == 0:
                rate = made["packages"] / (time.monotonic() - started)
                log(f"{made['packages']}/{count} packages ({rate:.0f}/s)")
    flush()
    made["seconds"] = round(time.monotonic() - started, 1)
    return made


def cleanup(config):
    from pymongo import MongoClient
    from common.config import db_name
    client = MongoClient(os.environ.get("MONGO_URI", config["MONGO"]["URI"]))
    removed = {
        "materials.packages": client[db_name(config, "materials")].packages.delete_many(
            {"candidate_id": REGEX}).deleted_count,
        "review.cases": client[db_name(config, "review")].cases.delete_many(
            {"candidate_id": REGEX}).deleted_count,
    }
    return removed


# -- timing ----------------------------------------------------------------------------------
def timings_summary(timings):
    return dict(percentiles(timings), n=len(timings), mean_ms=round(statistics.fmean(timings), 1))


def time_get_package(config, url, count, samples):
    import requests
    from services.auth.domain import candidate_claims
    from services.auth.keys import KeyRing
    tokens = config["TOKENS"]
    keyring = KeyRing(tokens["KEYS_DIR"], tokens["ACTIVE_KID"])
    builder_rnd = random.Random(7)
    session = requests.Session()
    timings, statuses = [], {}
    for i in range(samples + 5):
        n = builder_rnd.randrange(count)
        place = Builder.place(None, random.Random(9 * 10_000_019 + n))
        candidate = {"_id": candidate_id(n), "region": place[0], "site": place[1],
                     "name": f"容量考生{n}", "category": CATEGORY, "exam_year": 2026}
        token = keyring.sign(candidate_claims(
            candidate, sid=uuid.uuid4().hex, issuer=tokens["ISSUER"], audience=tokens["AUDIENCE"],
            now=time.time(), ttl=int(tokens.get("ACCESS_TTL", 900))))
        started = time.perf_counter()
        response = session.get(f"{url}/api/v1/package", headers={"Authorization": f"Bearer {token}"},
                               timeout=120)
        elapsed = (time.perf_counter() - started) * 1000
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code == 200 and response.json()["package_id"] != f"{candidate_id(n)}-2026":
            raise SystemExit("GET /api/v1/package answered another package")
        if i >= 5:  # the first few warm connections and caches
            timings.append(elapsed)
    return dict(timings_summary(timings), statuses=statuses)


def time_list_queue(config, samples, max_calls=4):
    """{call: percentiles}: review.list_queue over HTTPS at the one origin (DESIGN §5), as
    the staff pages and the CLI call it, signed in as a site and a region reviewer."""
    from common.rpc_client import RpcClient, RpcRefused
    url = config.get("PUBLIC_URL", "http://127.0.0.1:8000")
    calls = {"site reviewer, site 3204, first page": ("reviewer.3204", {"site": "3204"}),
             "site reviewer, site 3204, sort=quality": ("reviewer.3204", {"site": "3204", "sort": "quality"}),
             "region reviewer, region 32, first page": ("reviewer.32", {}),
             "region reviewer, region 32, third page": ("reviewer.32", {"pages": 3})}
    results = {}
    warmup = 2 if samples >= 3 else 0
    for label, (username, kwargs) in list(calls.items())[:max_calls]:
        client = RpcClient(url, timeout=120)
        client.staff_login(username, STAFF_PASSWORD)
        pages = kwargs.pop("pages", 1)
        timings, items, failures = [], 0, {}
        for i in range(samples + warmup):
            after = None
            started = time.perf_counter()
            try:
                for _ in range(pages - 1):  # walk to the page we time
                    after = client.call("review", "list_queue", limit=50, after=after, **kwargs)["next"]
                started = time.perf_counter()
                page = client.call("review", "list_queue", limit=50, after=after, **kwargs)
                items = len(page["items"])
            except RpcRefused as exc:  # a refusal after a timeout is a result too
                failures[f"{exc.code}: {exc.message}"[:120]] = failures.get(f"{exc.code}: {exc.message}"[:120], 0) + 1
            elapsed = (time.perf_counter() - started) * 1000
            if i >= warmup:
                timings.append(elapsed)
            log(f"list_queue {label}: {elapsed:.0f} ms")
        results[label] = dict(timings_summary(timings), items_per_page=items, failures=failures)
    return results, "https"


# -- main --------------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--million", action="store_true", help="seed 1,000,000 packages")
    parser.add_argument("--stack", help="a private stack (tests/load/stack.py) instead of the shared one")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--samples", type=int, default=200, help="timed GET /api/v1/package calls")
    parser.add_argument("--queue-samples", type=int, default=30, help="timed list_queue calls each")
    parser.add_argument("--queue-calls", type=int, default=4,
                        help="how many of the four list_queue variants to time (1 = site reviewer's first page)")
    parser.add_argument("--no-seed", action="store_true", help="time what is already seeded")
    parser.add_argument("--cleanup", action="store_true", help="remove the seeded documents and exit")
    parser.add_argument("--cleanup-after", action="store_true", help="remove them after timing")
    parser.add_argument("--shared-limit", type=int, default=1_000)
    parser.add_argument("--force", action="store_true", help="seed the shared database beyond --shared-limit")
    parser.add_argument("--out", help="also write the summary JSON here")
    args = parser.parse_args()
    os.chdir(ROOT)
    count = 1_000_000 if args.million else args.count
    stack = None
    if args.stack:
        stack = json.loads(Path(args.stack).read_text())
        os.environ.update(stack["env"])
        args.url = stack["url"]
    from common.config import load_config
    from dev.secrets import services_env
    for name, value in services_env().items():  # config.yaml holds no usable secret
        os.environ.setdefault(name, value)
    config = load_config(str(ROOT / "config.yaml"))
    if args.cleanup:
        print(json.dumps({"cleanup": cleanup(config)}))
        return
    if stack is None and count > args.shared_limit and not args.force and not args.no_seed:
        sys.exit(f"refusing to seed {count} packages into the shared database (see the module "
                 f"docstring): use --stack, --count {args.shared_limit} or less, or --force")
    conditions = {"loadavg_before": loadavg(), "target": stack["url"] if stack else args.url,
                  "database": (stack or {}).get("database", "shared (make up)"),
                  "source": (stack or {}).get("source", str(ROOT))}
    seeded = None
    if not args.no_seed:
        log(f"seeding {count} packages and their review cases")
        seeded = seed(config, count)
        log(f"seeded {seeded}")
    package = time_get_package(config, args.url, count, args.samples)
    log(f"GET /api/v1/package: {package}")
    queue, how = time_list_queue(config, args.queue_samples, args.queue_calls)
    summary = {"benchmark": "data volume (tests/load/volume.py)", "packages": count, "seeded": seeded,
               "GET /api/v1/package": package, "review.list_queue": queue, "list_queue_timed": how,
               "target_p99_ms": 50,
               "met": {"GET /api/v1/package": package["p99_ms"] < 50,
                       "review.list_queue": all(r["p99_ms"] < 50 for r in queue.values())},
               "conditions": dict(conditions, loadavg_after=loadavg())}
    # The figures first: a cleanup of 200,000 packages can lose its connection, and the
    # run's figures went with it once. `--cleanup` removes what is left (only the seeded).
    emit(summary, args.out)
    if args.cleanup_after:
        log("removing the seeded documents (if this fails, run --cleanup)")
        print(json.dumps({"cleanup": cleanup(config)}))


if __name__ == "__main__":
    main()
