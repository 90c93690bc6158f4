"""Decoding the stored bytes to the grey working image, under Pillow's guard rails, and
the EXIF orientation check (step 5 of the pipeline in __init__).

JPEG speed. Huffman decoding of the whole entropy stream dominates (about 3 ms for a
200 KB file), and libjpeg does it in full even in draft mode: DCT scaling only skips
IDCT and colour work. So ``draft("L", ...)`` decodes grey at the largest 1/2, 1/4 or
1/8 scale that keeps the working size, and still consumes every scan; a stream that
ends early makes Pillow raise "image file is truncated". Known gap: a stream cut short
*and* re-terminated with EOI is decoded by libjpeg with grey fill and only a warning
that Pillow does not surface; we accept it (the grey area is visible to the reviewer),
because catching it would need a Huffman decoder of our own. Measurements:
benchmarks/intake_corpus.md."""
from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass

from PIL import Image, ImageFile

from services.materials.intake.refusals import (
    IMAGE_ROTATED, MSG_BOMB, MSG_ROTATED, IntakeRefused, corrupt, pixel_count_text)

# Pillow's guard rails, set explicitly: never accept a truncated stream, and refuse
# decompression bombs far below Pillow's default (~89 Mpx); our own header check
# refuses earlier still, so this is the backstop if a caller passes higher limits.
ImageFile.LOAD_TRUNCATED_IMAGES = False
PILLOW_MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = PILLOW_MAX_PIXELS

JPEG, PNG = "jpeg", "png"
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG"}


@dataclass(frozen=True)
class Header:
    width: int
    height: int
    decode_bytes: int  # estimated full-size buffers that decoding this image allocates



# -- decoding ---------------------------------------------------------------------------
WORK_SHORT_SIDE = 300


def decode_grey(stored, kind, size):
    """Decode the stored bytes fully; return the grey working image for steps 6 and phash."""
    try:
        # Not a `with` block: closing would discard the pixels _working_grey may return.
        image = Image.open(io.BytesIO(stored), formats=[PILLOW_FORMATS[kind]])
        if image.size != size or getattr(image, "n_frames", 1) != 1:
            raise corrupt()
        if kind == JPEG:
            image.draft("L", draft_size(size))
        image.load()
        return _working_grey(image)
    except IntakeRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise corrupt(MSG_BOMB.format(limit=pixel_count_text(PILLOW_MAX_PIXELS))) from exc
    except Exception as exc:  # Pillow reports bad data with a zoo of exception types
        raise corrupt() from exc


def draft_size(size):
    # draft() picks the largest DCT scale (1/2, 1/4, 1/8) that is still at least this big.
    factor = WORK_SHORT_SIDE / min(size)
    return max(1, math.ceil(size[0] * factor)), max(1, math.ceil(size[1] * factor))


def draft_scale(size):
    """The DCT scale draft() will choose for draft_size (as Pillow computes it)."""
    wanted = draft_size(size)
    fits = min(size[0] // wanted[0], size[1] // wanted[1])
    return next(scale for scale in (8, 4, 2, 1) if scale <= max(fits, 1))


def _working_grey(image):
    """Grey image with the shorter side at WORK_SHORT_SIDE (or smaller if the image is)."""
    image = _reducible(image)
    factor = min(image.size) // WORK_SHORT_SIDE
    if factor >= 2:
        image = image.reduce(factor)  # box-average first, so conversions run small
    grey = _to_grey(image)
    scale = min(grey.size) / WORK_SHORT_SIDE
    if scale > 1:
        target = (max(1, round(grey.width / scale)), max(1, round(grey.height / scale)))
        grey = grey.resize(target, Image.Resampling.BOX)
    return grey


def _reducible(image):
    """Convert the modes Image.reduce cannot handle (1-bit, palette, 16-bit grey)."""
    if image.mode == "1":
        return image.convert("L")
    if image.mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "L")
    if image.mode.startswith("I;16"):
        return image.convert("I")
    return image


def _to_grey(image):
    if image.mode == "I":  # from 16-bit grey: 0..65535 onto 0..255
        return image.point(lambda v: v / 257).convert("L")
    if "A" in image.mode:
        # Judge transparent areas as the white page they are shown on.
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("L")
    return image if image.mode == "L" else image.convert("L")


# -- orientation ------------------------------------------------------------------------
ORIENTATION_TAG = 0x0112


def check_orientation(exif_blocks):
    for tiff in exif_blocks:
        if exif_orientation(tiff) in range(2, 9):
            raise IntakeRefused(IMAGE_ROTATED, MSG_ROTATED)


def exif_orientation(tiff):
    """The IFD0 orientation value of a TIFF/EXIF block, or None if absent or unreadable."""
    if len(tiff) < 8 or tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    if ifd + 2 > len(tiff):
        return None
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for entry in range(ifd + 2, min(ifd + 2 + 12 * count, len(tiff) - 11), 12):
        tag, kind, number = struct.unpack_from(order + "HHI", tiff, entry)
        if tag == ORIENTATION_TAG and kind == 3 and number >= 1:  # SHORT, value inline
            return struct.unpack_from(order + "H", tiff, entry + 8)[0]
    return None

