"""Fuzzing image intake: no bytes make it raise anything but IntakeRefused.

Hypothesis mutates small valid JPEGs and PNGs (flipped and overwritten bytes, inserted,
deleted and duplicated runs, truncation, appended data, length and marker words set to
edge values, PNG CRCs repaired so that mutations get past the CRC check). The CI run is
short; for a longer one:

    INTAKE_FUZZ_EXAMPLES=20000 python -m pytest tests/unit/test_intake_fuzz.py -q

Another test runs crafted decompression bombs in a fresh interpreter and checks its
peak resident memory (VmHWM) stays under 100 MB.
"""

import functools
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from services.materials.intake import AcceptedImage, IntakeLimits, IntakeRefused, inspect_image
from tests.unit import imagefactory as f

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("INTAKE_FUZZ_EXAMPLES", "200"))
CODES = {"file_too_large", "unsupported_format", "image_corrupt", "image_rotated",
         "image_too_small", "image_unclear"}
# Small seeds keep each example fast; so the mutated files reach the decoder and the
# sharpness check, the limits here accept small and soft images.
FUZZ_LIMITS = IntakeLimits(max_bytes=1_000_000, min_short_side=8, min_sharpness=0.0)
ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def seeds():
    page = f.document_image(96, 72, seed=3, text_px=8)
    grey = page.convert("L")
    jpegs = [
        f.jpeg_bytes(page, quality=80),
        f.jpeg_bytes(page, quality=80, progressive=True),
        f.jpeg_bytes(page, quality=80, restart_marker_blocks=2),
        f.jpeg_bytes(grey, quality=80),
        f.jpeg_bytes(page.convert("CMYK"), quality=80),
        f.with_jpeg_segment(f.with_exif_orientation(f.jpeg_bytes(page, quality=60), 1),
                            0xFE, b"a comment"),
        f.with_jpeg_segment(f.jpeg_bytes(page, quality=60), 0xE2,
                            b"ICC_PROFILE\x00\x01\x01" + bytes(64)),
    ]
    pngs = [
        f.png_bytes(page),
        f.png_bytes(page.convert("P")),
        f.png_bytes(page.convert("P"), transparency=0),
        f.png_bytes(page.convert("RGBA")),
        f.png_bytes(grey.convert("I").point(lambda v: v * 257).convert("I;16")),
        f.png_bytes(grey.convert("1")),
        f.interlaced_png(grey),
        f.with_png_chunk(f.png_bytes(grey), b"tEXt", b"Comment\x00hello"),
        f.with_png_chunk(f.png_bytes(grey), b"eXIf", f.exif_block(1)[6:]),
    ]
    return jpegs + pngs


positions = st.one_of(st.integers(0, 400), st.integers(0, 1 << 20))
mutations = st.one_of(
    st.tuples(st.just("xor"), positions, st.integers(1, 255)),
    st.tuples(st.just("set"), positions, st.sampled_from([0x00, 0xFF, 0xD9, 0xDA, 0xC0, 0x01])),
    st.tuples(st.just("insert"), positions, st.binary(min_size=1, max_size=24)),
    st.tuples(st.just("delete"), positions, st.integers(1, 300)),
    st.tuples(st.just("duplicate"), positions, st.integers(1, 600)),
    st.tuples(st.just("word"), positions,
              st.sampled_from([0, 1, 2, 0x7FFF, 0xFFFF, 0xFFD8, 0xFFD9, 0xFFDA, 0xFFC2])),
    st.tuples(st.just("long"), positions,
              st.sampled_from([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 100_000])),
    st.tuples(st.just("truncate"), positions),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=64)),
)


def mutate(data, operations):
    data = bytearray(data)
    for operation in operations:
        kind, *args = operation
        where = args[0] % (len(data) + 1) if args and isinstance(args[0], int) and data else 0
        if kind == "xor" and where < len(data):
            data[where] ^= args[1]
        elif kind == "set" and where < len(data):
            data[where] = args[1]
        elif kind == "insert":
            data[where:where] = args[1]
        elif kind == "delete":
            del data[where:where + args[1]]
        elif kind == "duplicate":
            data[where:where] = data[where:where + args[1]]
        elif kind == "word":
            data[where:where + 2] = struct.pack(">H", args[1])
        elif kind == "long":
            data[where:where + 4] = struct.pack(">I", args[1])
        elif kind == "truncate":
            del data[where:]
        elif kind == "append":
            data += args[0]
    return bytes(data)


def repair_png_crcs(data):
    """Recompute every chunk CRC, so mutations inside chunks reach the parser and Pillow."""
    if not data.startswith(f.PNG_SIGNATURE):
        return data
    out, pos = bytearray(data[:8]), 8
    while pos + 12 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        end = pos + 12 + length
        if end > len(data):
            break
        body = data[pos + 4:end - 4]
        out += data[pos:end - 4] + struct.pack(">I", zlib.crc32(body))
        pos = end
    return bytes(out + data[pos:])


def check(data, limits):
    """The property: a refusal with a known code, or an image that stores as a fixed point."""
    try:
        accepted = inspect_image(data, limits)
    except IntakeRefused as refusal:
        assert refusal.code in CODES
        assert refusal.message
        # --hypothesis-show-statistics then shows how far the inputs got.
        event(refusal.code + (" (from the decoder)" if refusal.__cause__ else ""))
        return
    event("accepted")
    assert isinstance(accepted, AcceptedImage)
    again = inspect_image(accepted.data, limits)
    assert (again.data, again.sharpness, again.phash) == (
        accepted.data, accepted.sharpness, accepted.phash)
    original = _pixels_or_none(data)
    if original is not None:  # where Pillow reads the upload itself, the pixels agree
        assert f.pixels(accepted.data) == original


def _pixels_or_none(data):
    try:
        return f.pixels(data)
    except Exception:  # Pillow may choke on a mutated upload's metadata; intake never reads it
        return None


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 1000), operations=st.lists(mutations, min_size=1, max_size=6),
       fix_crcs=st.booleans())
def test_mutated_jpegs_and_pngs_only_ever_raise_intake_refused(seed, operations, fix_crcs):
    data = mutate(seeds()[seed % len(seeds())], operations)
    if fix_crcs:
        data = repair_png_crcs(data)
    check(data, FUZZ_LIMITS)



def damage_pixel_data(data, hits):
    """Flip bytes inside the image data only, keeping the container valid around them.

    JPEG: bytes of the entropy-coded data (never turned into 0xFF, which would read as
    a marker). PNG: bytes of the inflated scanlines (filter types included), deflated
    again into one IDAT with a good CRC. So the damage reaches Pillow's decoders.
    """
    if data.startswith(f.PNG_SIGNATURE):
        return _damage_png_rows(data, hits)
    start = data.index(b"\xff\xda")
    start += 2 + struct.unpack(">H", data[start + 2:start + 4])[0]
    body = bytearray(data)
    for where, mask in hits:
        pos = start + where % max(1, len(data) - 2 - start)
        if body[pos] ^ mask != 0xFF:
            body[pos] ^= mask
    return bytes(body)


def _damage_png_rows(data, hits):
    chunks, pos = [], 8
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        chunks.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    rows = bytearray(zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT")))
    for where, mask in hits:
        rows[where % len(rows)] ^= mask
    out, done = [f.PNG_SIGNATURE], False
    for kind, body in chunks:
        if kind != b"IDAT":
            out.append(f.png_chunk(kind, body))
        elif not done:
            out.append(f.png_chunk(b"IDAT", zlib.compress(bytes(rows))))
            done = True
    return b"".join(out)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 1000),
       hits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(1, 255)), min_size=1,
                     max_size=8))
def test_damaged_pixel_data_only_ever_raises_intake_refused(seed, hits):
    check(damage_pixel_data(seeds()[seed % len(seeds())], hits), FUZZ_LIMITS)

@settings(max_examples=max(20, EXAMPLES // 10), deadline=None)
@given(data=st.binary(max_size=2048),
       prefix=st.sampled_from([b"", b"\xff\xd8\xff", f.PNG_SIGNATURE]))
def test_random_bytes_behind_an_image_signature_only_ever_raise_intake_refused(data, prefix):
    check(prefix + data, FUZZ_LIMITS)


def test_the_seeds_themselves_are_accepted():
    for data in seeds():
        assert inspect_image(data, FUZZ_LIMITS).width == 96


# -- memory ---------------------------------------------------------------------------
BOMB_SCRIPT = textwrap.dedent("""
    import io, resource, struct, sys, zlib
    sys.path.insert(0, sys.argv[1])

    def peak_kb():
        # VmHWM is this process's own peak. ru_maxrss is not: on Linux, exec keeps the
        # high-water mark of the forking parent (here pytest, after the fuzz tests).
        try:
            with open("/proc/self/status") as status:
                return int(next(l for l in status if l.startswith("VmHWM:")).split()[1])
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from PIL import Image
    from services.materials.intake import IntakeRefused, inspect_image
    from tests.unit import imagefactory as f

    def sized_jpeg(width, height, progressive=False):
        data = f.jpeg_bytes(Image.new("RGB", (64, 48), "white"), progressive=progressive)
        sof = data.index(b"\\xff\\xc2" if progressive else b"\\xff\\xc0")
        return data[:sof + 5] + struct.pack(">HH", height, width) + data[sof + 9:]

    def sized_png(width, height, colour=2, idat=b""):
        header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
        return (f.PNG_SIGNATURE + f.png_chunk(b"IHDR", header) + f.png_chunk(b"IDAT", idat)
                + f.png_chunk(b"IEND", b""))

    def compressed_zeros(megabytes):
        # Built a megabyte at a time: this process must not hold the bomb's payload.
        packer, block = zlib.compressobj(9), bytes(1 << 20)
        return b"".join(packer.compress(block) for _ in range(megabytes)) + packer.flush()

    stream = compressed_zeros(6000 * (1 + 3 * 6000) >> 20)  # ~ the rows of 6000x6000 RGB
    text_bomb = compressed_zeros(150)
    cases = {
        "jpeg 65535x65535 header": sized_jpeg(65535, 65535),
        "progressive jpeg 6000x6000 header": sized_jpeg(6000, 6000, progressive=True),
        "png 100000x100000 header": sized_png(100_000, 100_000, idat=zlib.compress(b"")),
        "png 6000x6000 rgb, 100 KB of rows": sized_png(6000, 6000, idat=stream),
        "png with a 150 MB zTXt": f.with_png_chunk(
            f.document_png(800, 600, mode="L"), b"zTXt", b"Comment\\x00\\x00" + text_bomb),
        "png with a 150 MB iCCP": f.with_png_chunk(
            f.document_png(800, 600, mode="L"), b"iCCP", b"icc\\x00\\x00" + text_bomb),
    }
    del stream, text_bomb
    for name, data in cases.items():
        try:
            stored = inspect_image(data).data
            print(name, len(data), "accepted" if len(stored) < 100_000 else "stored-the-bomb")
        except IntakeRefused as refusal:
            print(name, len(data), refusal.code)
    print("PEAK_KB", peak_kb())
""")


def test_crafted_bomb_headers_are_refused_within_100_mb_of_memory():
    result = subprocess.run([sys.executable, "-c", BOMB_SCRIPT, str(ROOT)], capture_output=True,
                            text=True, timeout=120, check=True)
    lines = result.stdout.strip().splitlines()
    verdicts = dict(line.rsplit(" ", 2)[0::2] for line in lines[:-1])
    # A text chunk is cut out without ever being inflated, so that upload is fine.
    assert verdicts.pop("png with a 150 MB zTXt") == "accepted"
    assert set(verdicts.values()) == {"image_corrupt"}, result.stdout
    peak_mb = int(lines[-1].split()[1]) / 1024
    assert peak_mb < 100, result.stdout

