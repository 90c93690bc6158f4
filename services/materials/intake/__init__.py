"""Image intake: decide whether uploaded bytes may be stored as a material image.

Pure functions, no I/O: ``inspect_image(data, limits)`` returns an ``AcceptedImage``
(the bytes to store, with their facts) or raises ``IntakeRefused`` whose ``code`` is one
of DESIGN §4 and whose ``message`` tells the candidate, in Chinese, how to fix it.
CPU-bound (Pillow decoding): the service should run it in ``eventlet.tpool``.

Pipeline, cheapest check first, stopping at the first failure
----------------------------------------------------------------
1. Size: ``len(data) > max_bytes`` -> ``file_too_large`` (the HTTP layer also stops
   reading a stream past the limit).
2. Format from the content, never the name or Content-Type: the JPEG (FF D8 FF) or
   PNG signature, which is exactly Pillow's own acceptance test for those plugins.
   GIF, WebP, BMP, TIFF, PSD, SVG, HTML and empty files -> ``unsupported_format``;
   so are JPEGs that browsers (and so reviewers) cannot show: 12-bit, lossless,
   hierarchical or arithmetic-coded.
3. Header: our own walk of the JPEG markers up to SOF, or of the PNG IHDR chunk, gives
   the declared size before anything is decoded. More pixels than ``max_pixels`` (a
   decompression bomb: a small file declaring a huge image) -> ``image_corrupt``
   without allocating it. So is an image whose full-size decoder buffers would pass
   ``max_decode_bytes`` (64 MiB): Pillow decodes a PNG whole, 4 bytes per pixel for
   colour, and libjpeg keeps every coefficient of a progressive JPEG, so a 120 KB
   6000x6000 PNG, under the pixel limit, would otherwise cost ~190 MB per upload.
   A shorter side under ``min_short_side`` -> ``image_too_small``.
4. Structure and decode. The walk continues to the image's end: for JPEG every
   segment, scanning the entropy-coded data after each SOS for the next real marker
   (0xFF not followed by 0x00 stuffing, RST0-7 or a fill byte) up to EOI; for PNG every
   chunk with its CRC up to IEND, plus one bounded inflate of the IDAT stream to check
   it holds exactly the rows IHDR declares and nothing after them. Missing end, bad CRC,
   data after EOI/IEND (a ZIP or script appended), an APNG (acTL/fcTL/fdAT) ->
   ``image_corrupt``. The same walk cuts the metadata out (step 7), and Pillow then
   decodes *those* bytes, restricted to the one format found, with
   ``ImageFile.LOAD_TRUNCATED_IMAGES = False``: the file we store is the file we proved
   decodable, and Pillow never parses the metadata at all (EXIF, XMP, MPF, text chunks
   are its least tested code). Any Pillow failure, DecompressionBombError/Warning
   included, is ``image_corrupt``.
5. Orientation: an EXIF orientation other than 1 (in a JPEG APP1 or a PNG eXIf chunk)
   means the pixels are not upright as stored -> ``image_rotated``. Unreadable EXIF is
   ignored: it is deleted anyway and browsers ignore it too, so what is stored shows
   exactly as its pixels lie.
6. Legibility: ``sharpness`` below ``min_sharpness`` -> ``image_unclear``.
7. Metadata removal, without re-encoding (the stored file decodes to exactly the upload's
   pixels; the unit tests compare them). JPEG keeps SOI, DQT, DHT, DRI, SOF, SOS and
   entropy data, EOI, plus three segments that change how pixels are decoded or shown:
   APP0 JFIF (rewritten without its thumbnail: a thumbnail can show what was edited out
   of the main image), APP2 ICC_PROFILE (colour space of the device, not of the person)
   and APP14 Adobe (colour transform: dropping it changes decoded colours). Everything
   else goes: APP1 EXIF (GPS, device serials) and XMP, APP13 IPTC, APP2 MPF (phones'
   secondary images), other APPn, COM. PNG keeps an allow-list (IHDR PLTE tRNS IDAT IEND
   and the colour chunks gAMA cHRM sRGB iCCP sBIT cICP mDCV cLLI, plus pHYs bKGD); tEXt,
   zTXt, iTXt, eXIf, tIME and any unknown ancillary chunk are cut.

Sharpness (image_unclear threshold)
-----------------------------------
The decoded image is reduced to grey with the shorter side at 300 px (half the default
legibility minimum of 600 px: text there still has pixel-sharp strokes when the photo
is sharp, while sensor noise and JPEG grain are averaged away). For each axis we take
the absolute second difference ``|(p[i-1] + p[i+1]) / 2 - p[i]|``, average it over
32x32 tiles and keep the mean of the sharpest tenth of the tiles (the text, wherever it
is on the page). The score is the weaker axis (motion blur softens one direction only),
scaled by ``255 / contrast`` where contrast is the 99th minus the 1st grey percentile
(at least 64), so faded ink or dim light is judged on edge shape, not darkness.

The corpus that sets the threshold, and the measured speed of each stage:
benchmarks/intake_corpus.md.

Modules: ``jpeg`` and ``png`` walk the structure (steps 2-4, 7), ``decode`` decodes and
checks orientation (4, 5), ``quality`` scores sharpness and computes the perceptual and
difference hashes (6), ``refusals`` holds the codes and messages; this module runs the
pipeline.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from services.materials.intake import jpeg, png
from services.materials.intake.decode import (  # noqa: F401 (the package's interface)
    JPEG, PILLOW_MAX_PIXELS, PNG, check_orientation, decode_grey, exif_orientation)
from services.materials.intake.quality import (  # noqa: F401
    SHARPNESS_THRESHOLD, difference_hash, perceptual_hash, phash_distance, sharpness)
from services.materials.intake.refusals import (  # noqa: F401
    FILE_TOO_LARGE, IMAGE_CORRUPT, IMAGE_ROTATED, IMAGE_TOO_SMALL, IMAGE_UNCLEAR, MSG_BOMB,
    MSG_EMPTY, MSG_FORMAT, MSG_MEMORY, MSG_NOT_IMAGE, MSG_TOO_SMALL, MSG_UNCLEAR, UNSUPPORTED_FORMAT,
    IntakeRefused, corrupt, pixel_count_text, too_large_message)


@dataclass(frozen=True)
class IntakeLimits:
    max_bytes: int = 204_800
    min_short_side: int = 600  # the region's pixel limit on the shorter side -> image_too_small
    max_pixels: int = 40_000_000  # header-declared pixels above this -> image_corrupt (bomb)
    # Full-size buffers the decoder would allocate (PNG pixels, progressive-JPEG
    # coefficients), estimated from the header; above this -> image_corrupt (bomb).
    max_decode_bytes: int = 64 * 1024 * 1024
    min_sharpness: float = SHARPNESS_THRESHOLD  # benchmarks/intake_corpus.md


@dataclass(frozen=True)
class AcceptedImage:
    format: str  # "jpeg" | "png"
    extension: str  # "jpg" | "png"
    content_type: str  # "image/jpeg" | "image/png"
    width: int
    height: int
    data: bytes  # the bytes to store: metadata stripped, pixels untouched
    sha256: str  # hex of data
    sharpness: float
    phash: str  # 64-bit DCT perceptual hash, 16 hex chars
    dhash: str  # 256-bit difference hash, 64 hex chars (common/phash.py: what each is for)


# -- the pipeline -----------------------------------------------------------------------
def inspect_image(data: bytes, limits: IntakeLimits = IntakeLimits()) -> AcceptedImage:
    """Check an upload; return what to store, or raise IntakeRefused (and nothing else)."""
    data = bytes(data)
    _check_size(data, limits)
    kind = _sniff(data)
    header = _read_header(data, kind)
    _check_declared_size(header, limits)
    width, height = header.width, header.height
    stored, exif_blocks = _walk(data, kind)
    grey = decode_grey(stored, kind, (width, height))
    check_orientation(exif_blocks)
    score = sharpness(grey)
    if score < limits.min_sharpness:
        raise IntakeRefused(IMAGE_UNCLEAR, MSG_UNCLEAR)
    return AcceptedImage(
        format=kind, extension=_EXTENSIONS[kind], content_type=f"image/{kind}",
        width=width, height=height, data=stored,
        sha256=hashlib.sha256(stored).hexdigest(),
        sharpness=round(score, 2), phash=perceptual_hash(grey), dhash=difference_hash(grey))


_EXTENSIONS = {JPEG: "jpg", PNG: "png"}


def _check_size(data, limits):
    if len(data) > limits.max_bytes:
        raise IntakeRefused(FILE_TOO_LARGE, too_large_message(limits.max_bytes))
    if not data:
        raise IntakeRefused(UNSUPPORTED_FORMAT, MSG_EMPTY)


def _sniff(data):
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(png.SIGNATURE):
        return PNG
    # Judged by content, whatever the name says: another image format is told to convert;
    # anything else (a renamed text or office file) is told it is not an image at all.
    other_image = data.startswith(_OTHER_IMAGE_SIGNATURES) or data[4:12] in _HEIF_BRANDS
    raise IntakeRefused(UNSUPPORTED_FORMAT, MSG_FORMAT if other_image else MSG_NOT_IMAGE)


# GIF, WebP (RIFF), BMP, TIFF both byte orders, Photoshop, JPEG 2000, SVG; HEIC/AVIF by brand.
_OTHER_IMAGE_SIGNATURES = (b"GIF8", b"RIFF", b"BM", b"II*\x00", b"MM\x00*", b"8BPS",
                           b"\x00\x00\x00\x0cjP", b"<svg", b"<?xml")
_HEIF_BRANDS = (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypavif", b"ftyphevc")


def _read_header(data, kind):
    return jpeg.header(data) if kind == JPEG else png.header(data)


def _check_declared_size(header, limits):
    width, height = header.width, header.height
    # Never above Pillow's own guard, so Pillow's bomb warning cannot fire on its own.
    pixel_limit = min(limits.max_pixels, PILLOW_MAX_PIXELS)
    if width * height > pixel_limit:
        raise corrupt(MSG_BOMB.format(limit=pixel_count_text(pixel_limit)))
    if header.decode_bytes > limits.max_decode_bytes:
        raise corrupt(MSG_MEMORY)
    if min(width, height) < limits.min_short_side:
        raise IntakeRefused(IMAGE_TOO_SMALL, MSG_TOO_SMALL.format(
            width=width, height=height, minimum=limits.min_short_side))


def _walk(data, kind):
    """(bytes to store, EXIF blocks found) after checking the structure to the end."""
    if kind == JPEG:
        return jpeg.walk(data)
    return png.walk(data)

