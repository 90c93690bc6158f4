"""A pool of distinct, realistic 100–200 KB document JPEGs for the load benchmark.

Made once with the test factories (tests/unit/imagefactory.py) and cached on disk, so
no Pillow work happens in the load generator's loop. Two kinds, like real uploads:
phone photos of a page (perspective, uneven light, softness, sensor noise) and flat
scans. Every file is real image data sized by its JPEG quality (no padding), checked
with the service's own intake so that every one of them is accepted.

    .venv/bin/python -m tests.load.images [--count 240] [--dir var/load/images]
"""
import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DIR = ROOT / "var" / "load" / "images"
MIN_BYTES, MAX_BYTES = 100_000, 200_000


def _largest_under(encode, target, low=25, high=95):
    """The highest JPEG quality whose encoding is at most `target` bytes (binary search)."""
    best = None
    while low <= high:
        quality = (low + high) // 2
        data = encode(quality)
        if len(data) <= target:
            best, low = data, quality + 1
        else:
            high = quality - 1
    return best


def make_image(seed):
    """One document JPEG between MIN_BYTES and MAX_BYTES, or None if this seed misses."""
    from services.materials import intake
    from tests.unit import imagefactory as f

    rnd = random.Random(seed)
    target = rnd.randint(MIN_BYTES + 10_000, MAX_BYTES)
    if rnd.random() < 0.67:  # a phone photo of the page
        width = rnd.choice([1000, 1100, 1200, 1300, 1400])
        page = f.document_image(width, width * 3 // 4, seed=seed)
        image = f.phone_photo(page, seed=seed, blur=rnd.uniform(0.6, 1.2), noise=rnd.uniform(5, 9))
    else:  # a flat scan, portrait or landscape
        width = rnd.choice([1400, 1600, 1800, 2000])
        height = width * 3 // 4 if rnd.random() < 0.5 else width * 4 // 3
        image = f.add_noise(f.document_image(width, height, seed=seed), rnd.uniform(2, 5), seed=seed)
    data = _largest_under(lambda q: f.jpeg_bytes(image, quality=q), target)
    if data is None or len(data) < MIN_BYTES:
        return None
    intake.inspect_image(data)  # raises if the service would refuse it
    return data


def ensure_pool(directory=DEFAULT_DIR, count=240, log=print):
    """Make sure `directory` holds at least `count` pool images; returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    have = sorted(directory.glob("doc-*.jpg"))
    seed = len(have) * 3
    made = 0
    while len(have) + made < count:
        seed += 1
        path = directory / f"doc-{seed:05d}.jpg"
        if path.exists():
            continue
        data = make_image(seed)
        if data is None:
            continue
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.rename(path)
        made += 1
        if made % 40 == 0:
            log(f"[images] {len(have) + made}/{count} pool images made")
    return sorted(directory.glob("doc-*.jpg"))[:max(count, 1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=240)
    parser.add_argument("--dir", default=str(DEFAULT_DIR))
    args = parser.parse_args()
    paths = ensure_pool(args.dir, args.count)
    sizes = sorted(p.stat().st_size for p in paths)
    print(f"{len(paths)} images in {args.dir}: {sizes[0]}–{sizes[-1]} bytes, "
          f"median {sizes[len(sizes) // 2]}")


if __name__ == "__main__":
    main()
