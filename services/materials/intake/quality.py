"""How legible and which picture: the sharpness score (step 6 of the pipeline; the
threshold's corpus is benchmarks/intake_corpus.md), the 64-bit perceptual hash that
review compares to find the same document uploaded twice, and the 256-bit difference
hash that tells the same picture from another page of the same form (what each is for,
and what counts as a match: common/phash.py)."""
from __future__ import annotations

import array
import math
import operator

from PIL import Image, ImageChops

from common.phash import distance as phash_distance  # noqa: F401 (intake.phash_distance)

SHARPNESS_THRESHOLD = 10.0
# -- sharpness --------------------------------------------------------------------------
TILE = 32
TOP_FRACTION = 0.1
MIN_TOP_TILES = 3
MIN_CONTRAST = 64  # do not amplify a nearly blank image's noise more than 4x


def sharpness(grey):
    """Legibility score of a grey working image (see __init__'s docstring); higher is sharper."""
    if min(grey.size) < 3:
        return 0.0
    gain = 255 / max(MIN_CONTRAST, _contrast(grey))
    return gain * min(_edge_strength(grey, axis) for axis in (0, 1))


def _contrast(grey):
    """Ink-to-paper range: 99th minus 1st percentile of the grey levels."""
    histogram = grey.histogram()
    total = sum(histogram)
    return _percentile(histogram, total * 0.99) - _percentile(histogram, total * 0.01)


def _percentile(histogram, rank):
    seen = 0
    for level, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return level
    return 255


def _edge_strength(grey, axis):
    """Mean |second difference| along one axis over the sharpest tenth of the tiles."""
    w, h = grey.size
    if axis == 0:
        before, centre, after = (grey.crop((0, 0, w - 2, h)), grey.crop((1, 0, w - 1, h)),
                                 grey.crop((2, 0, w, h)))
    else:
        before, centre, after = (grey.crop((0, 0, w, h - 2)), grey.crop((0, 1, w, h - 1)),
                                 grey.crop((0, 2, w, h)))
    # |(before + after) / 2 - centre| in two 8-bit operations, no overflow or wrap.
    second = ImageChops.difference(ImageChops.add(before, after, 2.0), centre)
    tile = min(TILE, *second.size)
    tiles = sorted(array.array("f", second.convert("F").reduce(tile).tobytes()), reverse=True)
    top = max(MIN_TOP_TILES, int(len(tiles) * TOP_FRACTION))
    best = tiles[:top]
    return sum(best) / len(best)


# -- perceptual hash --------------------------------------------------------------------
_HASH_SIDE = 32
_HASH_BITS = 8
# DCT-II basis rows: only the 8 lowest frequencies are needed, so the 2-D transform
# costs 32*8 + 8*8 dot products instead of a full 32x32 DCT.
_COSINES = [[math.cos(math.pi * (2 * x + 1) * u / (2 * _HASH_SIDE)) for x in range(_HASH_SIDE)]
            for u in range(_HASH_BITS)]


def perceptual_hash(grey):
    """64-bit DCT pHash (32x32 grey, 8x8 lowest frequencies against their median), hex."""
    small = grey.resize((_HASH_SIDE, _HASH_SIDE), Image.Resampling.BOX).tobytes()
    rows = [small[y * _HASH_SIDE:(y + 1) * _HASH_SIDE] for y in range(_HASH_SIDE)]
    # Horizontal pass: the 8 low frequencies of every row.
    row_freqs = [[sum(map(operator.mul, basis, row)) for basis in _COSINES] for row in rows]
    columns = list(zip(*row_freqs))  # 8 columns of 32 values
    coefficients = [sum(map(operator.mul, basis, column))
                    for basis in _COSINES for column in columns]
    median = sorted(coefficients)[len(coefficients) // 2]
    bits = 0
    for value in coefficients:
        bits = (bits << 1) | (value > median)
    return f"{bits:016x}"


# -- difference hash --------------------------------------------------------------------
_DETAIL_SIDE = 16


def difference_hash(grey):
    """256-bit dHash: the working image reduced to 17x16 by area, one bit per horizontal
    neighbour pair (brighter to the right), row by row; 64 hex digits. The grid is fine
    enough to see a page's text blocks, coarse enough that saving the picture again
    (recompressed, resized, as PNG) moves few bits."""
    side = _DETAIL_SIDE
    small = grey.resize((side + 1, side), Image.Resampling.BOX).tobytes()
    bits = 0
    for y in range(side):
        row = small[y * (side + 1):(y + 1) * (side + 1)]
        for x in range(side):
            bits = (bits << 1) | (row[x + 1] > row[x])
    return f"{bits:064x}"
