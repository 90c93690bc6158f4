"""Load benchmark (tests/load/README.md): candidates' whole journey under Locust, against the raw S3 rate.

One command, run by hand against the running system (`make up`), never in CI:

    .venv/bin/python -m tests.load.run [--concurrency 50] [--duration 60 | --journeys N]

It
1. makes (once, cached in var/load/images) a pool of distinct 100–200 KB document JPEGs;
2. makes enough never-used candidates in region 32 (sites 3204/3201, registration
   numbers 20263204 50001+ / 20263201 50001+) at the registration system's stand-in
   (POST /_standin/candidates, password Load@2026 kept there), which feeds them to auth
   through `import_candidates`; auth keeps no password;
3. runs Locust headless (tests/load/locustfile.py, in its own virtualenv, default
   var/locustvenv; made with a pinned Locust if missing) at the given concurrency for
   a duration or a number of journeys, while recording the CPU each server process used;
4. puts the same pool bytes into the same S3 server at the same concurrency with
   minio-py threads (urllib3 pool sized to the concurrency), into a scratch bucket that
   is emptied and removed afterwards;
5. prints ONE JSON summary: uploads/s, p50/p95/p99 per endpoint, errors, the raw S3
   put rate, their ratio, whether each target is met, and the run's conditions.

`--cleanup` instead removes every load candidate and what their journeys left behind
(packages, objects, review cases and image records, messages, tokens) and resets the
numbering. Targets (tests/load/README.md, 2-core machine, 50 concurrent candidates): zero
errors, upload p99 under 500 ms, upload rate at least 0.3 x the raw S3 put rate (issue 14);
the whole sign-in's p50 under 1 s and the rate at least 0.1 x raw S3 (issue 27).
"""
import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import clock  # noqa: E402
from tests.load import images as image_pool  # noqa: E402
from tests.load.procstat import CpuMeter, loadavg, settle  # noqa: E402
from tests.load.report import emit, percentiles  # noqa: E402

LOAD_DIR = ROOT / "var" / "load"
STATE_FILE = LOAD_DIR / "state.json"  # per target: a private stack gets its own (use_stack)
LOCUST_VENV = Path(os.environ.get("LOCUST_VENV", ROOT / "var" / "locustvenv"))
LOCUST_PIN = "locust==2.47.0"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PASSWORD = "Load@2026"
SITES = ("3204", "3201")
FIRST_SERIAL, LAST_SERIAL = 50001, 99999
CATEGORY = "integrated_practitioner"
RAW_BUCKET = "load-raw-s3"
UPLOAD = "POST /api/v1/package/items/{material_type}/images"
TARGETS = {"errors": 0, "upload_p99_ms": 500.0, "ratio": 0.3,  # issue 14
           "sign_in_p50_ms": 1000.0, "ratio_issue_27": 0.1}  # issue 27, at 50 candidates
SIGN_IN = "sign-in: the whole federated flow"  # as locustfile.py names it


def log(message):
    print(f"[load] {message}", file=sys.stderr, flush=True)


# -- candidates ---------------------------------------------------------------------------
def registration_number(serial):
    """2026 + site + 5-digit serial; serials from 50001 never meet the demo numbers."""
    return f"2026{SITES[serial % 2]}{serial:05d}"


def candidate_record(serial):
    from common.idnumber import check_character as id_check_char
    site = SITES[serial % 2]
    # A checksum-valid fictitious ID number, unique per serial: born 1980 onwards
    # (the demo candidates are born 1995-01-01), one of 900 sequence numbers a day.
    born = date(1980, 1, 1) + timedelta(days=serial // 900)
    first17 = f"{site}00{born:%Y%m%d}{100 + serial % 900:03d}"
    return {"registration_number": registration_number(serial), "name": f"压测考生{serial}",
            "id_number": first17 + id_check_char(first17), "phone": f"139{serial:08d}",
            "region": "32", "site": site, "category": CATEGORY, "exam_year": 2026}


def use_stack(path):
    """Point this run at a private stack (tests/load/stack.py); returns its description."""
    global STATE_FILE
    description = json.loads(Path(path).read_text())
    os.environ.update(description["env"])
    STATE_FILE = LOAD_DIR / f"state-{description['env']['MONGO_DB_PREFIX'].rstrip('_')}.json"
    return description


def read_state():
    if STATE_FILE.exists():
        return json.loads(STATE_FILE.read_text())
    return {"next_serial": FIRST_SERIAL, "imported_up_to": FIRST_SERIAL - 1}


def write_state(state):
    LOAD_DIR.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=1))


def prepare_candidates(standin_url, count, batch=500):
    """`count` never-used candidates (made now if needed); returns their numbers."""
    state = read_state()
    first = state["next_serial"]
    last = first + count - 1
    if last > LAST_SERIAL:
        sys.exit(f"only {LAST_SERIAL - first + 1} unused load candidates left: "
                 f"run `python -m tests.load.run --cleanup` to start the numbering again")
    todo = range(max(first, state["imported_up_to"] + 1), last + 1)
    if todo:
        from dev.seed import feed_candidates
        started = time.monotonic()
        records = [candidate_record(serial) for serial in todo]
        for i in range(0, len(records), batch):
            summary = feed_candidates(standin_url, records[i:i + batch], password=PASSWORD)
            if summary["errors"]:
                sys.exit(f"candidates refused: {summary['errors'][:3]}")
        state["imported_up_to"] = last
        log(f"imported {len(records)} candidates in {time.monotonic() - started:.1f} s")
    state["next_serial"] = last + 1  # used from now on, whatever the run's outcome
    write_state(state)
    return [registration_number(serial) for serial in range(first, last + 1)]


# -- Locust ---------------------------------------------------------------------------------
def locust_bin():
    binary = LOCUST_VENV / "bin" / "locust"
    if not binary.exists():
        log(f"making {LOCUST_VENV} with {LOCUST_PIN} (kept apart from the services' venv)")
        python = shutil.which("python3.11") or shutil.which("python3")
        subprocess.run([python, "-m", "venv", str(LOCUST_VENV)], check=True)
        subprocess.run([str(LOCUST_VENV / "bin" / "pip"), "install", "-q", LOCUST_PIN], check=True)
    return binary


def run_locust(args, candidates_file, results_file, meter):
    env = dict(os.environ, LOAD_CANDIDATES=str(candidates_file), LOAD_IMAGES=str(args.images),
               LOAD_PASSWORD=PASSWORD, LOAD_RESULTS=str(results_file),
               LOAD_JOURNEYS=str(args.journeys or 0))
    command = [str(locust_bin()), "-f", str(LOCUSTFILE), "--headless", "--host", args.url,
               "-u", str(args.concurrency), "-r", str(args.spawn_rate or args.concurrency), "--only-summary",
               "--loglevel", "WARNING", "--exit-code-on-error", "0",
               "-t", f"{args.duration if not args.journeys else args.max_duration}s"]
    log(f"locust: {args.concurrency} simulated candidates, "
        + (f"{args.journeys} journeys" if args.journeys else f"{args.duration} s"))
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    meter.start()
    output = LOAD_DIR / "locust-output.txt"
    with open(output, "w") as sink:
        process = subprocess.run(command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    # what the journeys queued is worked off before the meter stops (their cost) and
    # before the raw S3 reference runs (on a machine as quiet as before the load)
    settle_s = settle(meter)
    log(f"the services worked off the load's backlog in {settle_s} s")
    elapsed = time.monotonic() - started
    cpu = meter.stop(elapsed)
    cpu["settle_s"] = settle_s
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu["cpu_s"]["locust (load generator)"] = round(
        (children_after.ru_utime + children_after.ru_stime)
        - (children_before.ru_utime + children_before.ru_stime), 2)
    cpu["cores_used"]["locust (load generator)"] = round(
        cpu["cpu_s"]["locust (load generator)"] / elapsed, 2)
    if process.returncode != 0 or not results_file.exists():
        sys.exit(f"locust failed (exit {process.returncode}); see {output}")
    return json.loads(results_file.read_text()), cpu


# -- raw S3 put rate ---------------------------------------------------------------------------
def raw_s3_rate(config, payloads, concurrency, seconds, meter):
    """Puts/s of the pool bytes into a scratch bucket, `concurrency` minio-py threads;
    returns (result, CPU per process during the puts)."""
    import urllib3
    from minio import Minio
    from minio.deleteobjects import DeleteObject

    s3 = config["S3"]
    client = Minio(os.environ.get("S3_ENDPOINT", s3["ENDPOINT"]), access_key=s3["ACCESS_KEY"],
                   secret_key=s3["SECRET_KEY"], secure=False, region=s3.get("REGION", "us-east-1"),
                   http_client=urllib3.PoolManager(maxsize=concurrency,
                                                   timeout=urllib3.Timeout(connect=2, read=30)))
    if not client.bucket_exists(RAW_BUCKET):
        client.make_bucket(RAW_BUCKET)
    run = uuid.uuid4().hex[:8]
    timings, errors, keys = [], [], []
    lock = threading.Lock()
    go = threading.Event()
    deadline = [0.0]

    def worker(n):
        mine, put_keys, failed = [], [], []
        i = 0
        go.wait()
        while time.monotonic() < deadline[0]:
            data = payloads[(n * 7 + i) % len(payloads)]
            key = f"raw/{run}/{n:03d}/{i:06d}.jpg"
            started = time.perf_counter()
            try:
                client.put_object(RAW_BUCKET, key, io.BytesIO(data), len(data),
                                  content_type="image/jpeg")
                mine.append((time.perf_counter() - started) * 1000)
                put_keys.append(key)
            except Exception as exc:  # counted, reported, never fatal
                failed.append(type(exc).__name__)
            i += 1
        with lock:
            timings.extend(mine)
            keys.extend(put_keys)
            errors.extend(failed)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    meter.start(extra={"run.py (minio-py threads)": [os.getpid()]})
    started = time.monotonic()
    deadline[0] = started + seconds
    go.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cpu = meter.stop(elapsed)
    # Leave nothing behind: empty the scratch bucket and remove it.
    for i in range(0, len(keys), 1000):
        for failure in client.remove_objects(RAW_BUCKET, [DeleteObject(k) for k in keys[i:i + 1000]]):
            log(f"raw S3 cleanup: {failure}")
    try:
        client.remove_bucket(RAW_BUCKET)
    except Exception as exc:
        log(f"raw S3 bucket not removed ({type(exc).__name__}); it is a scratch bucket")
    return {"puts": len(timings), "errors": len(errors), "seconds": round(elapsed, 2),
            "puts_per_s": round(len(timings) / elapsed, 1), **percentiles(timings)}, cpu


# -- summary ---------------------------------------------------------------------------------
def summarise(results, raw, args, cpu_load, cpu_raw, conditions):
    elapsed = max(results["ended_at"] - results["started_at"], 1e-6)
    endpoints = {}
    for name, rows in sorted(results["timings"].items()):
        ok = [ms for _, ms, good in rows if good]
        endpoints[name] = {"requests": len(rows), "errors": len(rows) - len(ok),
                           "per_s": round(len(rows) / elapsed, 1), **percentiles([ms for _, ms, _ in rows])}
    upload_rows = results["timings"].get(UPLOAD, [])
    uploads_ok = sum(1 for _, _, good in upload_rows if good)
    uploads_per_s = uploads_ok / elapsed
    errors = sum(results["errors"].values())
    ratio = uploads_per_s / raw["puts_per_s"] if raw and raw["puts_per_s"] else None
    upload_p99 = endpoints.get(UPLOAD, {}).get("p99_ms")
    sign_in_p50 = endpoints.get(SIGN_IN, {}).get("p50_ms")
    completed = results["journeys"].get("completed", 0)
    return {
        "benchmark": "candidate journey under Locust vs raw S3 puts (tests/load/run.py)",
        "concurrency": args.concurrency,
        "seconds": round(elapsed, 1),
        "journeys": results["journeys"],
        "uploads": uploads_ok,
        "uploads_per_s": round(uploads_per_s, 1),
        "journeys_per_s": round(results["journeys"].get("completed", 0) / elapsed, 2),
        "endpoints": endpoints,
        "errors": {"total": errors, "by_kind": results["errors"]},
        "raw_s3_put": raw,
        "ratio_uploads_to_raw_s3": round(ratio, 3) if ratio is not None else None,
        # What each step costs: CPU of each process over the Locust phase divided by the
        # uploads made (sign-in, consent, reads and submits included: six uploads a
        # journey), beside the CPU of one raw put of the same bytes.
        "cpu_ms_per_upload": per_operation(cpu_load, uploads_ok),
        "cpu_ms_per_journey": per_operation(cpu_load, completed),
        "cpu_ms_per_raw_s3_put": per_operation(cpu_raw, raw["puts"] if raw else 0),
        "targets": {
            "zero_errors": errors == TARGETS["errors"],
            "upload_p99_under_500_ms": upload_p99 is not None and upload_p99 < TARGETS["upload_p99_ms"],
            "upload_rate_at_least_0.3_raw_s3": ratio is not None and ratio >= TARGETS["ratio"],
            "sign_in_p50_under_1_s": sign_in_p50 is not None and sign_in_p50 < TARGETS["sign_in_p50_ms"],
            "upload_rate_at_least_0.1_raw_s3": ratio is not None and ratio >= TARGETS["ratio_issue_27"],
        },
        "conditions": dict(conditions, cpu_during_locust=cpu_load, cpu_during_raw_s3=cpu_raw),
    }


def per_operation(cpu, count):
    """{process: CPU milliseconds per operation} (busiest first), and their total."""
    if not cpu or not count:
        return None
    costs = {label: round(1000 * seconds / count, 2) for label, seconds in cpu["cpu_s"].items() if seconds}
    costs = dict(sorted(costs.items(), key=lambda kv: -kv[1]))
    costs["total"] = round(sum(costs.values()), 2)
    return costs


# -- cleanup -------------------------------------------------------------------------------------
def cleanup(config):
    """Remove every load candidate and what their journeys left, in every service's store."""
    import re
    from minio.deleteobjects import DeleteObject
    from pymongo import MongoClient
    from common import s3
    from common.config import db_name

    pattern = re.compile(r"^2026(3204|3201)(5\d{4}|[6-9]\d{4})$")
    regex = {"$regex": "^2026320[14][5-9][0-9]{4}$"}
    mongo = MongoClient(os.environ.get("MONGO_URI", config["MONGO"]["URI"]))
    db = {name: mongo[db_name(config, name)] for name in ("auth", "materials", "review", "notify")}
    removed = {}
    packages = [doc["_id"] for doc in db["materials"].packages.find({"candidate_id": regex}, {"_id": 1})]
    removed["materials.packages"] = db["materials"].packages.delete_many({"candidate_id": regex}).deleted_count
    removed["materials.profiles"] = db["materials"].profiles.delete_many({"_id": regex}).deleted_count
    # the upload limit's keys are the candidates (common/ratelimit.py)
    removed["materials.upload_counters"] = db["materials"].upload_counters.delete_many(
        {"_id": regex}).deleted_count
    removed["review.cases"] = db["review"].cases.delete_many({"candidate_id": regex}).deleted_count
    removed["review.images"] = db["review"].images.delete_many({"candidate_id": regex}).deleted_count
    audit = 0
    for i in range(0, len(packages), 500):
        audit += db["review"].audit.delete_many({"package_id": {"$in": packages[i:i + 500]}}).deleted_count
    removed["review.audit"] = audit
    removed["notify.messages"] = db["notify"].messages.delete_many({"candidate_id": regex}).deleted_count
    removed["auth.refresh_tokens"] = db["auth"].refresh_tokens.delete_many({"sub": regex}).deleted_count
    removed["auth.auth_codes"] = db["auth"].auth_codes.delete_many({"sub": regex}).deleted_count
    removed["auth.candidates"] = db["auth"].candidates.delete_many({"_id": regex}).deleted_count
    client = s3.make_client(config)
    bucket = config["S3"]["BUCKET"]
    objects = 0
    for site in SITES:
        batch = []
        for obj in client.list_objects(bucket, prefix=f"32/{site}/", recursive=True):
            candidate = obj.object_name.split("/")[2]
            if pattern.match(candidate):
                batch.append(DeleteObject(obj.object_name))
        for i in range(0, len(batch), 1000):
            for failure in client.remove_objects(bucket, batch[i:i + 1000]):
                log(f"object not removed: {failure}")
        objects += len(batch)
    removed["s3 objects"] = objects
    write_state({"next_serial": FIRST_SERIAL, "imported_up_to": FIRST_SERIAL - 1})
    return removed


# -- main --------------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--standin-url", default="http://127.0.0.1:9030",
                        help="the registration system's stand-in, where load candidates are made")
    parser.add_argument("--concurrency", "-c", type=int, default=50)
    parser.add_argument("--duration", "-t", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--journeys", "-n", type=int, default=0,
                        help="stop after this many journeys instead of after --duration")
    parser.add_argument("--max-duration", type=int, default=1800, help=argparse.SUPPRESS)
    parser.add_argument("--candidates", type=int, default=0,
                        help="candidates to prepare for a --duration run (default: enough "
                             "for 40 journeys/s)")
    parser.add_argument("--s3-seconds", type=int, default=20, help="length of the raw S3 run")
    parser.add_argument("--no-s3", action="store_true", help="skip the raw S3 comparison")
    parser.add_argument("--images", default=str(image_pool.DEFAULT_DIR))
    parser.add_argument("--pool", type=int, default=240, help="distinct images in the pool")
    parser.add_argument("--out", help="also write the summary JSON to this file")
    parser.add_argument("--stack", help="run against a private stack (tests/load/stack.py) "
                        "described in this file instead of the shared one")
    parser.add_argument("--spawn-rate", type=float, default=0,
                        help="simulated candidates started per second (default: all at once)")
    parser.add_argument("--cleanup", action="store_true",
                        help="remove all load candidates and their data, then exit")
    args = parser.parse_args()
    os.chdir(ROOT)
    stack = None
    if args.stack:
        stack = use_stack(args.stack)
        args.url = stack["url"]

    from common.config import load_config
    from dev.secrets import services_env
    for name, value in services_env().items():  # config.yaml holds no usable secret
        os.environ.setdefault(name, value)
    config = load_config(str(ROOT / "config.yaml"))
    if args.cleanup:
        print(json.dumps({"cleanup": cleanup(config)}, ensure_ascii=False))
        return

    import requests
    health = requests.get(f"{args.url}/healthz/materials", timeout=5)
    if health.status_code != 200:
        sys.exit(f"{args.url}/healthz/materials answered {health.status_code}: run `make up` first")

    LOAD_DIR.mkdir(parents=True, exist_ok=True)
    paths = image_pool.ensure_pool(args.images, args.pool, log=log)
    payloads = [p.read_bytes() for p in paths]
    wanted = args.journeys or args.candidates or args.concurrency + args.duration * 40
    standin_url = (stack or {}).get("env", {}).get("STANDIN_URL") or args.standin_url
    candidates = prepare_candidates(standin_url, wanted)
    candidates_file = LOAD_DIR / "candidates.txt"
    candidates_file.write_text("\n".join(candidates) + "\n")

    conditions = {"cores": os.cpu_count(), "loadavg_before": loadavg(),
                  "image_pool": {"files": len(payloads), "min_bytes": min(map(len, payloads)),
                                 "max_bytes": max(map(len, payloads)),
                                 "mean_bytes": sum(map(len, payloads)) // len(payloads)},
                  "started": clock.utcnow_iso()}
    meter = CpuMeter(ROOT, pids=stack["pids"] if stack else None)
    if stack:
        conditions["target"] = {"private stack": stack["url"], "source": stack["source"],
                                "database": stack["database"]}
    else:
        conditions["target"] = {"shared stack": args.url, "source": str(ROOT)}
    results_file = LOAD_DIR / "locust-results.json"
    results_file.unlink(missing_ok=True)
    results, cpu_load = run_locust(args, candidates_file, results_file, meter)
    conditions["loadavg_after_locust"] = loadavg()

    raw, cpu_raw = None, None
    if not args.no_s3:
        log(f"raw S3: {args.concurrency} minio-py threads for {args.s3_seconds} s")
        raw, cpu_raw = raw_s3_rate(config, payloads, args.concurrency, args.s3_seconds, meter)
        conditions["loadavg_after_raw_s3"] = loadavg()

    emit(summarise(results, raw, args, cpu_load, cpu_raw, conditions), args.out)


if __name__ == "__main__":
    main()
