"""What counts as "the same picture" for returned_unchanged (common/phash.py), measured.

Prints, for the 64-bit phash and the 256-bit dhash that intake computes, the distances
between pages that are different documents of one printed form (the test pages share a
layout, as real forms do), between a page and copies of it saved again, and between a
page and new photos of the same paper, then how `same_picture` judges each group.

    .venv/bin/python benchmarks/same_picture.py
"""
import itertools
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from PIL import ImageDraw, ImageEnhance, ImageFilter  # noqa: E402

from common.phash import distance, same_picture  # noqa: E402
from services.materials.intake import (  # noqa: E402
    IntakeLimits, difference_hash, inspect_image, perceptual_hash)
from services.materials.intake.decode import decode_grey  # noqa: E402
from unit import imagefactory as f  # noqa: E402

LIMITS = IntakeLimits(max_bytes=10_000_000, min_short_side=300, min_sharpness=0)


def facts(data):
    accepted = inspect_image(data, LIMITS)
    return {"sha256": accepted.sha256, "phash": accepted.phash, "dhash": accepted.dhash}


def edited(page, lines, seed=99):
    """The page with `lines` text lines written anew (a document differing in a date or a
    number: the hardest case for any perceptual comparison)."""
    page = page.copy()
    draw, rnd = ImageDraw.Draw(page), random.Random(seed)
    for i in range(lines):
        y = 200 + i * 42
        draw.rectangle((60, y - 4, 700, y + 26), fill=f.PAPER)
        f._draw_text_line(draw, rnd, 64, y, 690, 21, f.INK)
    return page


def report(name, pairs):
    rows = [(distance(a["phash"], b["phash"]), distance(a["dhash"], b["dhash"]), same_picture(a, b))
            for a, b in pairs]
    p = sorted(r[0] for r in rows)
    d = sorted(r[1] for r in rows)
    same = sum(r[2] for r in rows)
    print(f"| {name} | {len(rows)} | {p[0]}–{p[-1]} | {d[0]}–{d[-1]} | {same}/{len(rows)} |")


def main():
    print("| group | pairs | phash bits | dhash bits | same_picture |")
    print("| --- | --- | --- | --- | --- |")
    for label, size in (("landscape", (1000, 700)), ("portrait", (1240, 1754))):
        pages = [facts(f.document_jpeg(*size, seed=seed)) for seed in range(1, 13)]
        report(f"other pages of one form, {label} JPEG", itertools.combinations(pages, 2))
    pngs = [facts(f.document_png(seed=seed)) for seed in range(1, 7)]
    report("other pages of one form, PNG", itertools.combinations(pngs, 2))

    page = f.document_image(1000, 700, seed=3)
    base = facts(f.jpeg_bytes(page, quality=85))
    copies = {
        "quality 95 / 50 / 30": [f.jpeg_bytes(page, quality=q) for q in (95, 50, 30)],
        "resized to 90 / 80 / 70 / 160 %": [f.jpeg_bytes(page.resize((w, round(w * 0.7))))
                                            for w in (900, 800, 700, 1600)],
        "PNG, grey": [f.png_bytes(page), f.jpeg_bytes(page.convert("L").convert("RGB"))],
        "blurred 1.5 / 3 px, sharpened": [f.jpeg_bytes(page.filter(ImageFilter.GaussianBlur(r)))
                                          for r in (1.5, 3)] + [f.jpeg_bytes(page.filter(ImageFilter.SHARPEN))],
        "brighter, more contrast, noise": [f.jpeg_bytes(ImageEnhance.Brightness(page).enhance(1.2)),
                                           f.jpeg_bytes(ImageEnhance.Contrast(page).enhance(1.3)),
                                           f.jpeg_bytes(f.add_noise(page, 9.0, seed=1))],
    }
    for name, datas in copies.items():
        report(f"the page saved again: {name}", [(base, facts(d)) for d in datas])
    report("cropped 0.5 % / 1 % / 2 %", [(base, facts(f.jpeg_bytes(page.crop(box).resize((1000, 700)))))
                                         for box in ((5, 3, 995, 697), (10, 7, 990, 693), (20, 14, 980, 686))])
    for lines in (1, 2, 4):
        report(f"{lines} text line(s) written anew", [(base, facts(f.jpeg_bytes(edited(page, lines))))])
    report("new phone photos of the paper", [(base, facts(f.jpeg_bytes(
        f.phone_photo(page, seed=seed).resize((1000, 700)), quality=80))) for seed in (1, 2, 3)])

    grey = decode_grey(f.jpeg_bytes(page, quality=85), "jpeg", (1000, 700))
    for name, fn in (("phash", perceptual_hash), ("dhash", difference_hash)):
        start = time.perf_counter()
        for _ in range(200):
            fn(grey)
        print(f"\n{name}: {(time.perf_counter() - start) / 200 * 1000:.2f} ms per image", end="")
    print()


if __name__ == "__main__":
    main()
