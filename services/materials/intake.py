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

JPEG speed. Huffman decoding of the whole entropy stream dominates (about 3 ms for a
200 KB file here), and libjpeg does it in full even in draft mode: DCT scaling only
skips IDCT and colour work. So ``draft("L", ...)`` decodes grey at the largest 1/2, 1/4
or 1/8 scale that keeps the working size, and still consumes every scan; a stream
that ends early makes Pillow raise "image file is truncated". Known gap: a stream cut
short *and* re-terminated with EOI is decoded by libjpeg with grey fill and only a
warning that Pillow does not surface; we accept it (the grey area is visible to the
reviewer), because catching it would need a Huffman decoder of our own.
Measured here (benchmarks/intake_bench.py, one thread): the whole check takes ~5 ms
per 200 KB baseline JPEG (3.5 of them in libjpeg), ~16 ms per progressive JPEG (its
scans are Huffman-decoded into a whole-image coefficient buffer first) and ~11-12 ms
per realistic 200 KB PNG, which has no draft mode and is inflated twice (our stream
check, then Pillow).

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

Corpus (tests/unit/test_intake.py builds it; ``python -m tests.unit.test_intake``
prints the table; Pillow 13.0.0, all files at most 200 KB):
  must pass  flat scans 600x800 to 1600x1200, sparse page, grey PNG, noisy scan  16.8-27.6
             phone photos (perspective, uneven light, blur 0.8-1.8 px,
             noise 6-10 grey levels, 600-1500 px short side)                     14.3-19.4
             phone photo of grey ink on grey paper in dim light                   12.6
  must fail  defocused, radius 3-6 px                                            1.5-3.4
             phone photos defocused 3-4.5 px, with noise                         6.9-7.3
             motion blur 16-24 px                                                2.2-3.0
             a thumbnail blown up 4x                                              7.9
  borderline (reported, not asserted): flat scan radius 1.5 -> 8.9 and 2 -> 6.3 fail;
             phone photo radius 1.5 -> 13.2 and 2 -> 10.5 pass, 2.5 -> 8.8 fails;
             thumbnails blown up 2x -> 16.7 and 3x -> 10.8 pass; motion 8 px -> 5.2 fails.
Threshold 10.0: near the geometric middle of the weakest legible photo (12.6) and the
sharpest clearly blurred image (7.9), leaving about 20 % on either side; soft but
legible phone photos get the benefit of the doubt, and a reviewer can still return a
poor image. A region may set its own ``min_sharpness``.
"""

from __future__ import annotations

import array
import hashlib
import io
import math
import operator
import re
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageFile

# Pillow's guard rails, set explicitly: never accept a truncated stream, and refuse
# decompression bombs far below Pillow's default (~89 Mpx); our own header check
# refuses earlier still, so this is the backstop if a caller passes higher limits.
ImageFile.LOAD_TRUNCATED_IMAGES = False
PILLOW_MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = PILLOW_MAX_PIXELS

FILE_TOO_LARGE = "file_too_large"
UNSUPPORTED_FORMAT = "unsupported_format"
IMAGE_CORRUPT = "image_corrupt"
IMAGE_ROTATED = "image_rotated"
IMAGE_TOO_SMALL = "image_too_small"
IMAGE_UNCLEAR = "image_unclear"

SHARPNESS_THRESHOLD = 10.0


@dataclass(frozen=True)
class IntakeLimits:
    max_bytes: int = 204_800
    min_short_side: int = 600  # the region's pixel limit on the shorter side -> image_too_small
    max_pixels: int = 40_000_000  # header-declared pixels above this -> image_corrupt (bomb)
    # Full-size buffers the decoder would allocate (PNG pixels, progressive-JPEG
    # coefficients), estimated from the header; above this -> image_corrupt (bomb).
    max_decode_bytes: int = 64 * 1024 * 1024
    min_sharpness: float = SHARPNESS_THRESHOLD  # see the module docstring for the corpus


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


class IntakeRefused(Exception):
    """The upload is refused; ``code`` is a DESIGN §4 code, ``message`` says how to fix it."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# -- messages -------------------------------------------------------------------------
MSG_EMPTY = "上传的文件是空的，请重新选择JPG或PNG格式的图片"
MSG_FORMAT = "仅支持JPG、JPEG、PNG格式的图片，请将图片另存为JPG或PNG格式后重新上传"
MSG_NOT_IMAGE = "所选文件不是有效的图片（文件内容不是照片或扫描件），请重新选择JPG或PNG格式的图片"
MSG_JPEG_PROCESS = ("该JPG图片使用了浏览器无法显示的特殊编码，"
                    "请用图片编辑工具另存为普通JPG或PNG格式后重新上传")
MSG_BROKEN = "图片文件不完整或已损坏，无法打开，请重新保存或重新拍摄后上传"
MSG_BOMB = "图片尺寸异常（超过{limit}像素），请将图片缩小后重新上传"
MSG_MEMORY = "图片尺寸过大，打开它需要的内存超出上限，请将图片缩小（例如长边不超过3000像素）后重新上传"
MSG_TRAILING = ("图片文件末尾附带了图片以外的数据（例如手机照片的附加图像或被附加的文件），"
                "请用图片编辑工具另存为JPG或PNG格式后重新上传")
MSG_ANIMATED = "不支持动态图片，请上传单张静态的JPG或PNG图片"
MSG_ROTATED = "图片方向不正（带有旋转或镜像标记），请在图片编辑工具中将图片旋转为正向并保存后重新上传"
MSG_TOO_SMALL = ("图片分辨率过低（{width}×{height}像素），较短一边至少需要{minimum}像素，"
                 "请重新扫描或拍摄后上传")
MSG_UNCLEAR = "图片模糊不清，请在光线充足处对准焦点重新拍摄（手机与材料保持平稳），或重新扫描后上传"


def _too_large_message(max_bytes):
    # Round the KB figure down: compressing to the stated size then always passes.
    return f"图片大小超过{max_bytes // 1024}KB，请压缩后重新上传"


def _pixel_count_text(pixels):
    return f"{pixels // 10_000}万" if pixels % 10_000 == 0 else f"{pixels:,}"


def _corrupt(message=MSG_BROKEN):
    return IntakeRefused(IMAGE_CORRUPT, message)


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
    grey = _decode_grey(stored, kind, (width, height))
    _check_orientation(exif_blocks)
    score = sharpness(grey)
    if score < limits.min_sharpness:
        raise IntakeRefused(IMAGE_UNCLEAR, MSG_UNCLEAR)
    return AcceptedImage(
        format=kind, extension=_EXTENSIONS[kind], content_type=f"image/{kind}",
        width=width, height=height, data=stored,
        sha256=hashlib.sha256(stored).hexdigest(),
        sharpness=round(score, 2), phash=perceptual_hash(grey))


def phash_distance(a: str, b: str) -> int:
    """Hamming distance between two 16-hex-digit perceptual hashes (0 = same picture)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


_JPEG, _PNG = "jpeg", "png"
_EXTENSIONS = {_JPEG: "jpg", _PNG: "png"}
_PILLOW_FORMATS = {_JPEG: "JPEG", _PNG: "PNG"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# GIF, WebP (RIFF), BMP, TIFF both byte orders, Photoshop, JPEG 2000, SVG; HEIC/AVIF by brand.
_OTHER_IMAGE_SIGNATURES = (b"GIF8", b"RIFF", b"BM", b"II*\x00", b"MM\x00*", b"8BPS",
                           b"\x00\x00\x00\x0cjP", b"<svg", b"<?xml")
_HEIF_BRANDS = (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypavif", b"ftyphevc")


def _check_size(data, limits):
    if len(data) > limits.max_bytes:
        raise IntakeRefused(FILE_TOO_LARGE, _too_large_message(limits.max_bytes))
    if not data:
        raise IntakeRefused(UNSUPPORTED_FORMAT, MSG_EMPTY)


def _sniff(data):
    if data.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if data.startswith(_PNG_SIGNATURE):
        return _PNG
    # Judged by content, whatever the name says: another image format is told to convert;
    # anything else (a renamed text or office file) is told it is not an image at all.
    other_image = data.startswith(_OTHER_IMAGE_SIGNATURES) or data[4:12] in _HEIF_BRANDS
    raise IntakeRefused(UNSUPPORTED_FORMAT, MSG_FORMAT if other_image else MSG_NOT_IMAGE)


@dataclass(frozen=True)
class _Header:
    width: int
    height: int
    decode_bytes: int  # estimated full-size buffers that decoding this image allocates


def _read_header(data, kind):
    return _jpeg_header(data) if kind == _JPEG else _png_header(data)


def _check_declared_size(header, limits):
    width, height = header.width, header.height
    # Never above Pillow's own guard, so Pillow's bomb warning cannot fire on its own.
    pixel_limit = min(limits.max_pixels, PILLOW_MAX_PIXELS)
    if width * height > pixel_limit:
        raise _corrupt(MSG_BOMB.format(limit=_pixel_count_text(pixel_limit)))
    if header.decode_bytes > limits.max_decode_bytes:
        raise _corrupt(MSG_MEMORY)
    if min(width, height) < limits.min_short_side:
        raise IntakeRefused(IMAGE_TOO_SMALL, MSG_TOO_SMALL.format(
            width=width, height=height, minimum=limits.min_short_side))


def _walk(data, kind):
    """(bytes to store, EXIF blocks found) after checking the structure to the end."""
    if kind == _JPEG:
        return _jpeg_walk(data)
    return _png_walk(data)


# -- JPEG structure ---------------------------------------------------------------------
SOI, EOI, SOS, DQT, DHT, DRI, COM = 0xD8, 0xD9, 0xDA, 0xDB, 0xC4, 0xDD, 0xFE
APP0, APP1, APP2, APP14 = 0xE0, 0xE1, 0xE2, 0xEE
_SOF_DECODABLE = {0xC0, 0xC1, 0xC2}  # baseline, extended sequential, progressive (Huffman)
# Lossless, hierarchical and arithmetic processes: real JPEG, but no browser shows them.
_SOF_OTHER = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xDE, 0xDF}
# Inside entropy-coded data 0xFF is followed by 0x00 (stuffing), RST0-7 or fill 0xFF;
# any other byte after 0xFF is the next marker.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _jpeg_segments(data):
    """Yield (marker, start, end) for each segment after SOI, up to and including EOI.

    For SOS, ``end`` is the start of the marker after its entropy-coded data. Raises
    image_corrupt on anything that is not a well-formed marker where one must be.
    """
    pos = 2
    while True:
        pos = _skip_fill(data, pos)
        marker = data[pos + 1]
        if marker == EOI:
            yield marker, pos, pos + 2
            return
        if marker == 0x00 or marker == 0x01 or marker == SOI or 0xD0 <= marker <= 0xD7:
            raise _corrupt()  # stuffing, TEM, SOI or RST outside entropy data
        if pos + 4 > len(data):
            raise _corrupt()
        length = (data[pos + 2] << 8) | data[pos + 3]
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise _corrupt()
        if marker == SOS:
            found = _NEXT_MARKER.search(data, end)
            if found is None:
                raise _corrupt()  # entropy data runs to the end of file: truncated
            end = found.start()
        yield marker, pos, end
        pos = end


def _skip_fill(data, pos):
    """Position of the 0xFF that starts the next marker (fill 0xFF bytes may precede it)."""
    if pos + 1 >= len(data) or data[pos] != 0xFF:
        raise _corrupt()  # no EOI (truncated) or garbage between segments
    while data[pos + 1] == 0xFF:
        pos += 1
        if pos + 1 >= len(data):
            raise _corrupt()
    return pos


def _jpeg_header(data):
    """The frame header's size and decode cost, refusing processes we do not store."""
    for marker, start, end in _jpeg_segments(data):
        if marker in _SOF_OTHER:
            raise IntakeRefused(UNSUPPORTED_FORMAT, MSG_JPEG_PROCESS)
        if marker in _SOF_DECODABLE:
            return _parse_sof(data[start + 4:end], progressive=marker == 0xC2)
        if marker in (SOS, EOI):
            break
    raise _corrupt()  # scan or end before any frame header


def _parse_sof(payload, progressive):
    if len(payload) < 6:
        raise _corrupt()
    precision, height, width, components = struct.unpack(">BHHB", payload[:6])
    if precision != 8:
        raise IntakeRefused(UNSUPPORTED_FORMAT, MSG_JPEG_PROCESS)  # 12-bit JPEG
    # Height 0 means "defined later by DNL", which libjpeg does not support.
    if width == 0 or height == 0 or components not in (1, 3, 4):
        raise _corrupt()
    if len(payload) != 6 + 3 * components:
        raise _corrupt()
    sampling = [(payload[7 + 3 * i] >> 4, payload[7 + 3 * i] & 15) for i in range(components)]
    if any(not (1 <= h <= 4 and 1 <= v <= 4) for h, v in sampling):
        raise _corrupt()
    return _Header(width, height, _jpeg_decode_bytes(width, height, sampling, progressive))


def _jpeg_decode_bytes(width, height, sampling, progressive):
    """Coefficients held for a progressive JPEG plus the draft-size output image.

    A sequential JPEG streams one row of blocks at a time; a progressive one keeps every
    DCT coefficient (64 x 2 bytes per 8x8 block) until its last scan, even in draft mode.
    """
    scale = _draft_scale((width, height))
    channels = 4 if len(sampling) == 4 else 1  # draft("L") gives grey unless CMYK
    output = -(-width // scale) * -(-height // scale) * channels
    if not progressive:
        return output
    h_max, v_max = max(h for h, _ in sampling), max(v for _, v in sampling)
    mcu_columns, mcu_rows = -(-width // (8 * h_max)), -(-height // (8 * v_max))
    blocks = sum(mcu_columns * h * mcu_rows * v for h, v in sampling)
    return output + blocks * 128


def _jpeg_walk(data):
    kept = [b"\xff\xd8"]
    exif = []
    frames = scans = 0
    for marker, start, end in _jpeg_segments(data):
        payload = data[start + 4:end] if marker != EOI else b""
        if marker == EOI:
            if scans == 0:
                raise _corrupt()
            if end != len(data):
                raise _corrupt(MSG_TRAILING)
            kept.append(data[start:end])
        elif marker in _SOF_DECODABLE:
            frames += 1
            if frames > 1:
                raise _corrupt()
            kept.append(data[start:end])
        elif marker == SOS:
            if frames == 0:
                raise _corrupt()
            scans += 1
            kept.append(data[start:end])
        elif marker in (DQT, DHT, DRI):
            kept.append(data[start:end])
        elif 0xE0 <= marker <= 0xEF or marker == COM:
            kept.append(_jpeg_metadata(marker, payload, exif))
        elif marker in _SOF_OTHER:
            raise IntakeRefused(UNSUPPORTED_FORMAT, MSG_JPEG_PROCESS)
        else:
            raise _corrupt()  # DNL, DAC, JPGn, reserved: nothing a camera or scanner writes
    return b"".join(kept), exif


def _jpeg_metadata(marker, payload, exif):
    """What to keep of an APPn/COM segment (often nothing); collects EXIF for step 5."""
    if marker == APP0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14:
        # JFIF identifier, version, density units and X/Y density; thumbnail size 0x0.
        return _segment(APP0, payload[:12] + b"\x00\x00")
    if marker == APP1 and payload.startswith(b"Exif\x00\x00"):
        exif.append(payload[6:])
    if marker == APP2 and payload.startswith(b"ICC_PROFILE\x00"):
        return _segment(marker, payload)
    if marker == APP14 and payload.startswith(b"Adobe"):
        return _segment(marker, payload)
    return b""


def _segment(marker, payload):
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


# -- PNG structure ----------------------------------------------------------------------
_PNG_KEEP = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"gAMA", b"cHRM", b"sRGB",
             b"iCCP", b"sBIT", b"cICP", b"mDCV", b"cLLI", b"pHYs", b"bKGD"}
_PNG_ANIMATION = {b"acTL", b"fcTL", b"fdAT"}
_PNG_CRITICAL = {b"IHDR", b"PLTE", b"IDAT", b"IEND"}
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))
_INFLATE_STEP = 1 << 20  # inflate in 1 MB pieces: memory stays bounded whatever IHDR says


def _png_chunks(data):
    """Yield (type, start, end) for each chunk, CRC checked, up to and including IEND."""
    pos = len(_PNG_SIGNATURE)
    while True:
        if pos + 12 > len(data):
            raise _corrupt()  # no IEND: truncated
        length, chunk_type = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > len(data) or not chunk_type.isalpha():
            raise _corrupt()
        body = data[pos + 4:end - 4]  # type + payload, what the CRC covers
        if zlib.crc32(body) != struct.unpack_from(">I", data, end - 4)[0]:
            raise _corrupt()
        yield chunk_type, pos, end
        if chunk_type == b"IEND":
            return
        pos = end


@dataclass(frozen=True)
class _PngHeader:
    width: int
    height: int
    depth: int
    colour: int
    interlace: int


def _png_header(data):
    header = _parse_ihdr(data)
    return _Header(header.width, header.height,
                   header.width * header.height * _png_bytes_per_pixel(header))


def _png_bytes_per_pixel(header):
    """Bytes per pixel Pillow holds, plus the full-size conversion _reducible may make."""
    if header.colour == 0:
        return {1: 2, 16: 6}.get(header.depth, 1)  # 1-bit -> L; I;16 -> I
    if header.colour == 3:
        return 5  # palette, and RGBA if it has transparency
    return 4  # RGB, LA and RGBA are all held as 4 bytes per pixel


def _parse_ihdr(data):
    if len(data) < 33 or data[12:16] != b"IHDR" or data[8:12] != b"\x00\x00\x00\x0d":
        raise _corrupt()
    width, height, depth, colour, compression, filtering, interlace = struct.unpack_from(
        ">IIBBBBB", data, 16)
    if not (0 < width <= 0x7FFFFFFF and 0 < height <= 0x7FFFFFFF):
        raise _corrupt()
    if depth not in _PNG_DEPTHS.get(colour, ()) or compression or filtering or interlace > 1:
        raise _corrupt()
    return _PngHeader(width, height, depth, colour, interlace)


def _png_walk(data):
    header = _parse_ihdr(data)
    kept = [_PNG_SIGNATURE]
    exif, idat = [], []
    seen, previous = set(), None  # a set: a 200 KB file can hold 17,000 empty chunks
    for chunk_type, start, end in _png_chunks(data):
        _check_chunk_order(chunk_type, seen, previous, header)
        seen.add(chunk_type)
        previous = chunk_type
        if chunk_type == b"IDAT":
            idat.append(data[start + 8:end - 4])
        elif chunk_type == b"eXIf":
            exif.append(_strip_exif_prefix(data[start + 8:end - 4]))
        elif chunk_type == b"IEND" and end != len(data):
            raise _corrupt(MSG_TRAILING)
        if chunk_type in _PNG_KEEP:
            kept.append(data[start:end])
    if b"IDAT" not in seen:
        raise _corrupt()
    _check_png_stream(idat, header)
    return b"".join(kept), exif


def _check_chunk_order(chunk_type, seen, previous, header):
    if chunk_type in _PNG_ANIMATION:
        raise _corrupt(MSG_ANIMATED)
    if (chunk_type == b"IHDR") != (previous is None):
        raise _corrupt()  # IHDR first, and only once
    if chunk_type[0:1].isupper() and chunk_type not in _PNG_CRITICAL:
        raise _corrupt()  # an unknown critical chunk: a decoder must not guess
    if chunk_type == b"IDAT" and previous != b"IDAT" and b"IDAT" in seen:
        raise _corrupt()  # IDAT chunks must be consecutive
    if chunk_type == b"IDAT" and header.colour == 3 and b"PLTE" not in seen:
        raise _corrupt()
    if chunk_type == b"PLTE" and (b"PLTE" in seen or b"IDAT" in seen):
        raise _corrupt()


def _strip_exif_prefix(payload):
    # The PNG spec stores bare TIFF; some writers copy the JPEG "Exif\0\0" prefix along.
    return payload[6:] if payload.startswith(b"Exif\x00\x00") else payload


def _check_png_stream(idat, header):
    """The IDAT zlib stream must hold exactly the declared rows and end where IDAT ends."""
    expected = _png_raw_size(header)
    inflater = zlib.decompressobj()
    produced = 0
    try:
        for piece in idat:
            pending = piece
            while pending:
                if inflater.eof:
                    raise _corrupt(MSG_TRAILING)  # bytes hidden after the image data
                produced += len(inflater.decompress(pending, _INFLATE_STEP))
                pending = inflater.unconsumed_tail
                if produced > expected:
                    raise _corrupt()
        produced += len(inflater.flush())
    except zlib.error as exc:
        raise _corrupt() from exc
    if inflater.unused_data:
        raise _corrupt(MSG_TRAILING)
    if not inflater.eof or produced != expected:
        raise _corrupt()


def _png_raw_size(header):
    """Bytes of filtered scanlines the IHDR implies (each row: filter byte + pixels)."""
    bits = _PNG_CHANNELS[header.colour] * header.depth

    def rows(width, height):
        return 0 if width <= 0 or height <= 0 else height * (1 + (width * bits + 7) // 8)

    if not header.interlace:
        return rows(header.width, header.height)
    return sum(rows(-(-(header.width - x0) // dx), -(-(header.height - y0) // dy))
               for x0, y0, dx, dy in _ADAM7)


# -- decoding ---------------------------------------------------------------------------
WORK_SHORT_SIDE = 300


def _decode_grey(stored, kind, size):
    """Decode the stored bytes fully; return the grey working image for steps 6 and phash."""
    try:
        # Not a `with` block: closing would discard the pixels _working_grey may return.
        image = Image.open(io.BytesIO(stored), formats=[_PILLOW_FORMATS[kind]])
        if image.size != size or getattr(image, "n_frames", 1) != 1:
            raise _corrupt()
        if kind == _JPEG:
            image.draft("L", _draft_size(size))
        image.load()
        return _working_grey(image)
    except IntakeRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _corrupt(MSG_BOMB.format(limit=_pixel_count_text(PILLOW_MAX_PIXELS))) from exc
    except Exception as exc:  # Pillow reports bad data with a zoo of exception types
        raise _corrupt() from exc


def _draft_size(size):
    # draft() picks the largest DCT scale (1/2, 1/4, 1/8) that is still at least this big.
    factor = WORK_SHORT_SIDE / min(size)
    return max(1, math.ceil(size[0] * factor)), max(1, math.ceil(size[1] * factor))


def _draft_scale(size):
    """The DCT scale draft() will choose for _draft_size (as Pillow computes it)."""
    wanted = _draft_size(size)
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


def _check_orientation(exif_blocks):
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


# -- sharpness --------------------------------------------------------------------------
TILE = 32
TOP_FRACTION = 0.1
MIN_TOP_TILES = 3
MIN_CONTRAST = 64  # do not amplify a nearly blank image's noise more than 4x


def sharpness(grey):
    """Legibility score of a grey working image (see the module docstring); higher is sharper."""
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
