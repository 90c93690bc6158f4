"""Time the whole image-intake check per upload (services/materials/intake/).

Builds upload-sized images with the test factories — a ~200 KB phone photo JPEG
(baseline and progressive), a ~200 KB flat-scan JPEG, ~200 KB grey and palette PNG
scans, and the worst PNG case (a flat page that compresses to 200 KB at 4000x3000) —
and runs ``inspect_image`` on each repeatedly in one thread, printing the
median and 95th-percentile milliseconds per file. It also splits a JPEG's time into
its stages so a regression can be traced. Target: under 10 ms per 200 KB JPEG on the
2-core development machine.

    python benchmarks/intake_bench.py [--rounds 200]
"""

import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from services.materials import intake  # noqa: E402
from services.materials.intake import decode, jpeg  # noqa: E402
from tests.unit import imagefactory as f  # noqa: E402

TARGET = 200 * 1024


def uploads():
    """(label, bytes) of upload-sized files, each close to (and under) 200 KB."""
    photo = f.phone_photo(f.document_image(1600, 1200, seed=1), seed=1, blur=1.0, noise=8)
    scan = f.document_image(1400, 1000, seed=2)
    return [
        ("JPEG phone photo 1600x1200", _near(lambda q: f.jpeg_bytes(photo, quality=q))),
        ("JPEG phone photo 1600x1200, progressive",
         _near(lambda q: f.jpeg_bytes(photo, quality=q, progressive=True))),
        ("JPEG flat scan 1400x1000", _near(lambda q: f.jpeg_bytes(scan, quality=q))),
        ("PNG grey scan with scanner noise", _png_near(lambda side: _noisy(side).convert("L"))),
        ("PNG palette scan with scanner noise", _png_near(lambda side: _noisy(side).convert("P"))),
        # Flat synthetic colour compresses so well that 200 KB holds ~12 Mpx: worst case.
        ("PNG flat colour page (worst case)", _png_near(
            lambda side: f.document_image(side, side * 3 // 4, seed=4), step=200)),
    ]


def _near(encode):
    """The highest-quality encoding that stays under TARGET (no padding: real image data)."""
    best = None
    for quality in range(40, 96):
        data = encode(quality)
        if len(data) > TARGET:
            break
        best = data
    return best


def _noisy(side):
    return f.add_noise(f.document_image(side, side * 3 // 4, seed=3), 0.6, seed=3)


def _png_near(draw, step=40):
    """The largest PNG page (width in ``step`` px, 4:3) that stays under TARGET."""
    best = None
    for side in range(800, 6000, step):
        data = f.png_bytes(draw(side))
        if len(data) > TARGET:
            break
        best = data
    return best


def time_per_call(data, rounds):
    intake.inspect_image(data)  # warm up caches and lazy imports
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        intake.inspect_image(data)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def stages(data, rounds):
    """Median ms of each stage of the pipeline for one JPEG."""
    header = jpeg.header(data)
    size = (header.width, header.height)
    stored, _ = jpeg.walk(data)
    grey = decode.decode_grey(stored, "jpeg", size)
    steps = {
        "walk + strip (pure Python)": lambda: jpeg.walk(data),
        "decode (draft, grey)": lambda: decode.decode_grey(stored, "jpeg", size),
        "sharpness": lambda: intake.sharpness(grey),
        "perceptual hash": lambda: intake.perceptual_hash(grey),
        "difference hash": lambda: intake.difference_hash(grey),
        "sha256": lambda: hashlib.sha256(stored).hexdigest(),
    }
    result = {}
    for name, step in steps.items():
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            step()
            samples.append((time.perf_counter() - start) * 1000)
        result[name] = statistics.median(samples)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    files = uploads()
    print(f"inspect_image, {rounds} rounds each, one thread")
    for label, data in files:
        accepted = intake.inspect_image(data)
        median, p95 = time_per_call(data, rounds)
        print(f"  {label:42s} {len(data) / 1024:6.1f} KB {accepted.width}x{accepted.height}"
              f"  median {median:5.2f} ms  p95 {p95:5.2f} ms  (sharpness {accepted.sharpness})")
    print("stages of the first JPEG (median ms)")
    for name, ms in stages(files[0][1], rounds).items():
        print(f"  {name:42s} {ms:5.2f}")


if __name__ == "__main__":
    main()
