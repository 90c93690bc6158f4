"""GET /api/v1/package for a full package: latency on this machine.

Needs the system running (`make up`); uses demo candidate 2026320400010 (its package
is filled on first run). Target: under 20 ms. Prints one JSON line.

    .venv/bin/python benchmarks/package_bench.py [--url http://127.0.0.1:8000] [-n 500]
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support import login  # noqa: E402
from unit.imagefactory import document_jpeg  # noqa: E402

FULL = {"id_card": 2, "degree_certificate": 3, "probation_certificate": 3, "registration_form": 4,
        "work_certificate": 2}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--candidate", default="2026320400010")
    parser.add_argument("-n", type=int, default=500)
    args = parser.parse_args()
    token = login(args.url, args.candidate, redirect=f"{args.url}/callback")["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    session = requests.Session()
    session.post(f"{args.url}/api/v1/package/consent", json={"notice_version": "2026-1"}, headers=headers)
    image = document_jpeg()
    for material_type, count in FULL.items():
        for _ in range(count):
            session.post(f"{args.url}/api/v1/package/items/{material_type}/images", headers=headers,
                         files={"file": ("a.jpg", image, "image/jpeg")})
    package = session.get(f"{args.url}/api/v1/package", headers=headers).json()
    images = sum(len(item["images"]) for item in package["items"])
    timings = []
    for _ in range(args.n):
        started = time.perf_counter()
        response = session.get(f"{args.url}/api/v1/package", headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    timings.sort()
    print(json.dumps({"endpoint": "GET /api/v1/package", "images": images, "requests": args.n,
                      "p50_ms": round(statistics.median(timings), 2),
                      "p95_ms": round(timings[int(len(timings) * 0.95)], 2),
                      "p99_ms": round(timings[int(len(timings) * 0.99)], 2)}))


if __name__ == "__main__":
    main()
