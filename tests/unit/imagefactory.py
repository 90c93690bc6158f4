"""Images for tests, made here with Pillow so no test depends on a fixture file.

What candidates upload are scans and phone photos of paper documents (ID cards,
diplomas, certificates), so the factories draw document-like pages: a title, lines of
dense Chinese-like glyphs and Latin/digit text, a table, a red seal and a photo box.
From a page they make what the upload page receives:

- ``document_jpeg`` / ``document_png``: a flat scan, ready to upload, optionally padded
  to an exact byte size (with a JPEG comment or a PNG text chunk, which intake strips);
- ``phone_photo``: the page photographed (perspective, uneven light, mild softness,
  sensor noise) — soft but legible;
- ``defocused`` / ``motion_blurred`` / ``upscaled``: clearly unreadable variants;
- ``with_exif_orientation``, ``with_exif``, ``with_jpeg_segment``, ``with_png_chunk``:
  splice metadata into existing bytes without re-encoding the pixels.

Every function is deterministic for a given ``seed``.
"""

import io
import random
import struct
import zlib

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

PAPER = (248, 246, 238)
INK = (28, 28, 36)
SEAL_RED = (200, 30, 40)
TABLE = (96, 84, 70)

SOI = b"\xff\xd8"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# -- pages ------------------------------------------------------------------------
def document_image(width=1000, height=700, *, seed=0, text_px=None, ink=INK,
                   paper=PAPER, sparse=False):
    """An RGB page: title, text lines, table, seal and photo box, scaled to the size."""
    rnd = random.Random(seed)
    page = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(page)
    unit = text_px or max(12, min(width, height) // 32)
    margin = unit * 2
    y = _draw_title(draw, rnd, width, margin, unit, ink)
    body_bottom = height - margin - (unit * 6 if height > unit * 20 else 0)
    line_gap = unit * (3 if sparse else 2)
    photo_box = (width - margin - unit * 7, y, width - margin, y + unit * 9)
    while y + unit < body_bottom:
        right = photo_box[0] - unit if y < photo_box[3] else width - margin
        _draw_text_line(draw, rnd, margin, y, right, unit, ink)
        y += line_gap
    _draw_photo_box(page, photo_box)
    if height > unit * 20:
        _draw_table(draw, margin, height - margin - unit * 5, width - margin, unit, ink)
    _draw_seal(draw, width - margin - unit * 5, height - margin - unit * 5, unit * 4)
    return page


def _draw_title(draw, rnd, width, margin, unit, ink):
    title_unit = int(unit * 1.6)
    glyphs = 8
    x = (width - glyphs * title_unit) // 2
    for i in range(glyphs):
        _draw_glyph(draw, rnd, x + i * title_unit, margin, title_unit, ink)
    return margin + title_unit * 2


def _draw_text_line(draw, rnd, left, y, right, unit, ink):
    font = ImageFont.load_default(size=max(8, int(unit * 0.8)))
    x = left
    while x + unit < right:
        if rnd.random() < 0.2:  # a run of digits, like an ID or certificate number
            word = "".join(rnd.choice("0123456789X") for _ in range(rnd.randint(4, 12)))
            draw.text((x, y), word, fill=ink, font=font)
            x += int(draw.textlength(word, font=font)) + unit // 2
        else:
            for _ in range(rnd.randint(2, 6)):
                if x + unit >= right:
                    break
                _draw_glyph(draw, rnd, x, y, unit, ink)
                x += unit
            x += unit // 3


def _draw_glyph(draw, rnd, x, y, size, ink):
    """A Chinese-like character: a few strokes inside a square cell."""
    stroke = max(1, size // 11)
    pad = max(1, size // 8)
    x0, y0, x1, y1 = x + pad, y + pad, x + size - pad, y + size - pad
    for _ in range(rnd.randint(3, 7)):
        kind = rnd.random()
        if kind < 0.4:
            yy = rnd.randint(y0, y1)
            draw.line((rnd.randint(x0, (x0 + x1) // 2), yy, rnd.randint((x0 + x1) // 2, x1), yy),
                      fill=ink, width=stroke)
        elif kind < 0.75:
            xx = rnd.randint(x0, x1)
            draw.line((xx, rnd.randint(y0, (y0 + y1) // 2), xx, rnd.randint((y0 + y1) // 2, y1)),
                      fill=ink, width=stroke)
        else:
            draw.line((rnd.randint(x0, x1), y0, rnd.randint(x0, x1), y1), fill=ink, width=stroke)


def _draw_table(draw, left, top, right, unit, ink):
    rows, cols = 4, 5
    width = max(1, unit // 12)
    for r in range(rows + 1):
        yy = top + r * unit
        draw.line((left, yy, right, yy), fill=ink, width=width)
    for c in range(cols + 1):
        xx = left + (right - left) * c // cols
        draw.line((xx, top, xx, top + rows * unit), fill=ink, width=width)


def _draw_seal(draw, cx, cy, radius):
    width = max(2, radius // 10)
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
    draw.ellipse(box, outline=SEAL_RED, width=width)
    star = radius // 3
    draw.regular_polygon((cx, cy, star), 5, fill=SEAL_RED)


def _draw_photo_box(page, box):
    """A portrait-photo area: smooth shading with a face-like oval, as on ID documents."""
    w, h = box[2] - box[0], box[3] - box[1]
    if w < 4 or h < 4:
        return
    shade = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    face = ImageDraw.Draw(shade)
    face.ellipse((w // 4, h // 6, 3 * w // 4, 2 * h // 3), fill=(214, 180, 160))
    face.rectangle((0, 0, w - 1, h - 1), outline=INK)
    page.paste(shade, box[:2])


# -- how pages become uploads ----------------------------------------------------
def phone_photo(page, *, seed=0, blur=1.0, noise=8.0, tilt=0.04, shade=0.22):
    """The page photographed by a hand-held phone: soft but legible.

    The page lies on a table seen slightly from an angle (perspective), lit unevenly,
    with the softness of a small lens (``blur``, Gaussian radius in pixels) and sensor
    noise (``noise``, standard deviation in grey levels).
    """
    rnd = random.Random(seed)
    w, h = page.size
    border = int(min(w, h) * 0.06)
    canvas = Image.new("RGB", (w + 2 * border, h + 2 * border), TABLE)
    canvas.paste(page, (border, border))
    quad = _keystone(rnd, canvas.size, border, tilt)
    photo = canvas.transform((w, h), Image.Transform.QUAD, quad, resample=Image.Resampling.BICUBIC)
    photo = _uneven_light(photo, shade)
    if blur:
        photo = photo.filter(ImageFilter.GaussianBlur(blur))
    return add_noise(photo, noise, seed=seed)


def _keystone(rnd, size, border, tilt):
    """Source quad (UL, LL, LR, UR) that shows the page tilted away from the lens."""
    w, h = size

    def jitter():
        return rnd.uniform(0, border * 0.8)

    lean = tilt * w
    return (lean + jitter(), jitter(),
            jitter(), h - jitter(),
            w - jitter(), h - jitter(),
            w - lean - jitter(), jitter())


def _uneven_light(image, strength):
    """Darken one corner, as a phone's shadow or a desk lamp does."""
    if not strength:
        return image
    light = Image.radial_gradient("L").resize((image.width * 2, image.height * 2))
    light = light.crop((0, 0, image.width, image.height))
    dark = Image.new("RGB", image.size, (0, 0, 0))
    mask = light.point(lambda v: int(v * strength))
    return Image.composite(dark, image, mask)


def add_noise(image, sigma, *, seed=0):
    """Add grey noise of standard deviation ``sigma`` (uniform, seeded) to every channel."""
    if not sigma:
        return image
    rnd = random.Random(seed)
    # Pillow's effect_noise uses C rand(), which tests cannot seed; random bytes can be.
    spread = sigma * 3 ** 0.5  # a uniform law on [-a, a] has standard deviation a/sqrt(3)
    lut = [max(0, min(255, round(128 + (v - 127.5) * spread / 127.5))) for v in range(256)]
    grain = Image.frombytes("L", image.size, rnd.randbytes(image.width * image.height)).point(lut)
    grain = Image.merge(image.mode, [grain] * len(image.getbands()))
    return ImageChops.add(image, grain, 1.0, -128)  # image + (grain - 128), clipped to 0..255


def defocused(image, radius=4.0):
    """Out-of-focus photo: Gaussian blur of ``radius`` pixels."""
    return image.filter(ImageFilter.GaussianBlur(radius))


def motion_blurred(image, length=12):
    """Shaken camera: horizontal box blur over ``length`` pixels."""
    return image.filter(ImageFilter.BoxBlur((length / 2, 0)))


def upscaled(image, factor=4):
    """A thumbnail blown up to full size: the pixels exist but the detail does not."""
    small = image.resize((image.width // factor, image.height // factor), Image.Resampling.BOX)
    return small.resize(image.size, Image.Resampling.BICUBIC)


# -- encoding ---------------------------------------------------------------------
def jpeg_bytes(image, *, quality=85, target_bytes=None, **options):
    """Encode as JPEG; with ``target_bytes`` choose the quality and pad to exactly that size."""
    if target_bytes is None:
        return _save(image, "JPEG", quality=quality, **options)
    best = None
    low, high = 5, 95
    while low <= high:  # the best quality whose file leaves room for a 4-byte comment
        mid = (low + high) // 2
        data = _save(image, "JPEG", quality=mid, **options)
        if len(data) <= target_bytes - 4:
            best, low = data, mid + 1
        else:
            high = mid - 1
    if best is None:
        raise ValueError(f"cannot fit a {image.size} JPEG into {target_bytes} bytes")
    return pad_jpeg(best, target_bytes)


def png_bytes(image, *, target_bytes=None, **options):
    """Encode as PNG; with ``target_bytes`` pad to exactly that size with a tEXt chunk."""
    data = _save(image, "PNG", **options)
    if target_bytes is None:
        return data
    if len(data) + 12 > target_bytes:
        raise ValueError(f"a {image.size} PNG takes {len(data)} bytes, over {target_bytes}")
    return pad_png(data, target_bytes)


def _save(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def pad_jpeg(data, total):
    """Insert COM segments after SOI so that the file is exactly ``total`` bytes."""
    missing = total - len(data)
    if missing == 0:
        return data
    if missing < 4:
        raise ValueError("a JPEG comment takes at least 4 bytes")
    segments = []
    while missing:
        take = min(missing, 65537)
        if 0 < missing - take < 4:
            take -= 4
        segments.append(jpeg_segment(0xFE, b"x" * (take - 4)))
        missing -= take
    return data[:2] + b"".join(segments) + data[2:]


def pad_png(data, total):
    """Insert a tEXt chunk before the first IDAT so the file is exactly ``total`` bytes."""
    missing = total - len(data)
    if missing == 0:
        return data
    if missing < 12 + len(b"Comment\x00"):
        raise ValueError("a PNG text chunk takes at least 20 bytes")
    text = b"Comment\x00" + b"x" * (missing - 12 - len(b"Comment\x00"))
    return with_png_chunk(data, b"tEXt", text)


# -- ready-made uploads ------------------------------------------------------------
def document_jpeg(width=1000, height=700, target_bytes=None, *, seed=0, quality=85, **options):
    """A flat scan of a document page as JPEG bytes (exactly ``target_bytes`` if given)."""
    return jpeg_bytes(document_image(width, height, seed=seed), quality=quality,
                      target_bytes=target_bytes, **options)


def document_png(width=1000, height=700, target_bytes=None, *, seed=0, mode="RGB", **options):
    """A flat scan of a document page as PNG bytes (exactly ``target_bytes`` if given)."""
    page = document_image(width, height, seed=seed).convert(mode)
    return png_bytes(page, target_bytes=target_bytes, **options)


def phone_photo_jpeg(width=1200, height=900, *, seed=0, quality=80, blur=1.0, noise=8.0):
    """A hand-held phone photo of a document page, soft but legible, as JPEG bytes."""
    page = document_image(width, height, seed=seed)
    return jpeg_bytes(phone_photo(page, seed=seed, blur=blur, noise=noise), quality=quality)


# -- splicing metadata into existing bytes ------------------------------------------
def jpeg_segment(marker, payload):
    """One JPEG marker segment: FF, marker, big-endian length (which counts itself)."""
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def with_jpeg_segment(jpeg, marker, payload):
    """Insert a segment after SOI and any APP0, where writers put metadata."""
    pos = 2
    if jpeg[2:4] == b"\xff\xe0":
        pos = 4 + struct.unpack(">H", jpeg[4:6])[0]
    return jpeg[:pos] + jpeg_segment(marker, payload) + jpeg[pos:]


def exif_block(orientation=None, **tags):
    """EXIF bytes ("Exif\\0\\0" + TIFF) with an orientation and IFD0 tags given as t<number>.

    ``exif_block(6, t271="Phone")`` tags orientation 6 and Make (tag 271).
    """
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    for key, value in tags.items():
        exif[int(key.lstrip("t"))] = value
    return exif.tobytes()


def with_exif(jpeg, exif):
    """Add an APP1 EXIF segment (``exif`` is an Image.Exif or its bytes)."""
    payload = exif.tobytes() if isinstance(exif, Image.Exif) else exif
    return with_jpeg_segment(jpeg, 0xE1, payload)


def with_exif_orientation(jpeg, orientation):
    """Tag the JPEG with an EXIF orientation (1 upright, 3 180°, 6/8 90°, 2/4/5/7 mirrored)."""
    return with_exif(jpeg, exif_block(orientation))


def png_chunk(chunk_type, payload):
    """One PNG chunk with its CRC."""
    crc = zlib.crc32(payload, zlib.crc32(chunk_type))
    return struct.pack(">I", len(payload)) + chunk_type + payload + struct.pack(">I", crc)


def with_png_chunk(png, chunk_type, payload, *, before=b"IDAT"):
    """Insert a chunk before the first chunk of type ``before`` (b"IEND" to put it last)."""
    pos = 8
    while pos < len(png):
        length = struct.unpack(">I", png[pos:pos + 4])[0]
        if png[pos + 4:pos + 8] == before:
            return png[:pos] + png_chunk(chunk_type, payload) + png[pos:]
        pos += 12 + length
    raise ValueError(f"no {before!r} chunk")


def png_chunk_types(png):
    """The chunk types of a PNG file, in order."""
    types, pos = [], 8
    while pos + 8 <= len(png):
        length = struct.unpack(">I", png[pos:pos + 4])[0]
        types.append(png[pos + 4:pos + 8])
        pos += 12 + length
    return types


def jpeg_markers(jpeg):
    """The markers of a JPEG's header and inter-scan segments, in order (entropy data skipped)."""
    markers, pos = [], 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        marker = jpeg[pos + 1]
        markers.append(marker)
        if marker == 0xD9:
            break
        length = struct.unpack(">H", jpeg[pos + 2:pos + 4])[0]
        pos += 2 + length
        if marker == 0xDA:  # skip entropy-coded data up to the next real marker
            while pos + 1 < len(jpeg) and not (jpeg[pos] == 0xFF and jpeg[pos + 1] not in
                                                (0x00, 0xFF, *range(0xD0, 0xD8))):
                pos += 1
    return markers


def pixels(data):
    """(mode, size, raw pixel bytes) of an encoded image, fully decoded."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.mode, image.size, image.tobytes()


ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2))


def interlaced_png(image):
    """An Adam7-interlaced 8-bit grey PNG (Pillow reads these but cannot write them)."""
    grey = image.convert("L")
    w, h = grey.size
    raw = grey.tobytes()
    scanlines = bytearray()
    for x0, y0, dx, dy in ADAM7:
        for y in range(y0, h, dy):
            row = raw[y * w:(y + 1) * w][x0::dx]
            if row:
                scanlines += b"\x00" + row  # filter type 0 (None)
    header = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 1)
    return (PNG_SIGNATURE + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(bytes(scanlines), 9)) + png_chunk(b"IEND", b""))
