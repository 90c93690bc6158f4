"""Image intake (services/materials/intake/): every check, with images made here.

The sharpness corpus is built here; ``python benchmarks/intake_corpus.py`` prints its
table (benchmarks/intake_corpus.md).
"""

import functools
import io
import itertools
import struct
import zlib

import pytest
from PIL import Image, ImageFile

from services.materials import intake
from services.materials.intake import IntakeLimits, IntakeRefused, inspect_image, phash_distance
from tests.unit import imagefactory as f

LIMITS = IntakeLimits()
LIMIT = LIMITS.max_bytes
ROOMY = IntakeLimits(max_bytes=10_000_000)  # for checks that are not about size
DESIGN_CODES = {"file_too_large", "unsupported_format", "image_corrupt", "image_rotated",
                "image_too_small", "image_unclear"}


def refusal(data, limits=LIMITS):
    with pytest.raises(IntakeRefused) as caught:
        inspect_image(data, limits)
    return caught.value


@functools.cache
def scan():
    return f.document_jpeg(1000, 700, seed=1)


@functools.cache
def scan_png():
    return f.document_png(1000, 700, seed=1, mode="L")


# -- 1. size ------------------------------------------------------------------------------
def test_a_file_of_exactly_the_byte_limit_is_accepted():
    data = f.document_jpeg(1000, 700, target_bytes=LIMIT)
    assert len(data) == LIMIT
    assert inspect_image(data, LIMITS).format == "jpeg"


def test_one_byte_over_the_limit_is_refused_as_file_too_large():
    data = f.document_jpeg(1000, 700, target_bytes=LIMIT + 1)
    error = refusal(data)
    assert error.code == "file_too_large"
    assert error.message == "图片大小超过200KB，请压缩后重新上传"


def test_a_png_of_exactly_the_byte_limit_is_accepted_and_one_more_byte_is_not():
    assert inspect_image(f.document_png(target_bytes=LIMIT), LIMITS).format == "png"
    assert refusal(f.document_png(target_bytes=LIMIT + 1)).code == "file_too_large"


def test_the_size_message_states_the_regions_own_limit_in_whole_kb():
    limits = IntakeLimits(max_bytes=150_000)  # 146.48 KB: say 146, which always passes
    error = refusal(f.document_jpeg(1000, 700, target_bytes=150_001), limits)
    assert error.message == "图片大小超过146KB，请压缩后重新上传"


def test_size_is_checked_before_anything_is_parsed():
    assert refusal(b"GIF89a" + bytes(LIMIT)).code == "file_too_large"


# -- 2. real format ---------------------------------------------------------------------
def test_png_content_under_a_jpg_name_is_accepted_as_png():
    # The function never sees a name: what the bytes are is all that counts.
    accepted = inspect_image(scan_png(), LIMITS)
    assert (accepted.format, accepted.extension, accepted.content_type) == (
        "png", "png", "image/png")


def test_jpeg_content_is_accepted_as_jpeg_with_the_jpg_extension():
    accepted = inspect_image(scan(), LIMITS)
    assert (accepted.format, accepted.extension, accepted.content_type) == (
        "jpeg", "jpg", "image/jpeg")
    assert (accepted.width, accepted.height) == (1000, 700)


def _pillow_bytes(fmt, **options):
    out = io.BytesIO()
    f.document_image(320, 240).convert("L").save(out, fmt, **options)  # small: under 200 KB
    return out.getvalue()


OTHER_FORMATS = {
    "gif": lambda: _pillow_bytes("GIF"),
    "webp": lambda: _pillow_bytes("WEBP"),
    "bmp": lambda: _pillow_bytes("BMP"),
    "tiff": lambda: _pillow_bytes("TIFF"),
    "psd": lambda: b"8BPS\x00\x01" + bytes(20),
    "svg": lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600"/>',
    "html": lambda: b"<!DOCTYPE html><html><script>alert(1)</script></html>",
    "pdf": lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    "zip": lambda: b"PK\x03\x04" + bytes(26),
    "empty": lambda: b"",
    "jpeg signature only": lambda: b"\xff\xd8",
    "text named .png": lambda: b"not really an image",
}


@pytest.mark.parametrize("kind", OTHER_FORMATS)
def test_anything_but_jpeg_or_png_is_refused_as_unsupported_format(kind):
    error = refusal(OTHER_FORMATS[kind]())
    assert error.code == "unsupported_format"
    assert "JPG" in error.message or "空" in error.message


@pytest.mark.parametrize("kind", ["html", "pdf", "zip", "jpeg signature only", "text named .png"])
def test_a_file_that_is_no_image_at_all_is_told_so_rather_than_to_change_its_format(kind):
    assert "不是有效的图片" in refusal(OTHER_FORMATS[kind]()).message


@pytest.mark.parametrize("kind", ["gif", "webp", "bmp", "tiff", "psd", "svg"])
def test_an_image_in_another_format_is_told_which_formats_to_save_it_as(kind):
    message = refusal(OTHER_FORMATS[kind]()).message
    assert "仅支持JPG、JPEG、PNG" in message and "不是有效的图片" not in message


def _with_sof(jpeg, marker=None, precision=None, width=None, height=None):
    """The JPEG with its frame header's marker, precision or size rewritten."""
    pos = next(i for i in range(len(jpeg) - 1)
               if jpeg[i] == 0xFF and jpeg[i + 1] in (0xC0, 0xC1, 0xC2))
    out = bytearray(jpeg)
    if marker is not None:
        out[pos + 1] = marker
    if precision is not None:
        out[pos + 4] = precision
    if height is not None:
        out[pos + 5:pos + 7] = struct.pack(">H", height)
    if width is not None:
        out[pos + 7:pos + 9] = struct.pack(">H", width)
    return bytes(out)


@pytest.mark.parametrize("marker", [0xC3, 0xC9, 0xCA, 0xCF])
def test_lossless_and_arithmetic_jpegs_that_browsers_cannot_show_are_unsupported(marker):
    assert refusal(_with_sof(scan(), marker=marker)).code == "unsupported_format"


def test_a_12_bit_jpeg_is_unsupported():
    assert refusal(_with_sof(scan(), precision=12)).code == "unsupported_format"


# -- 3. header: pixels and dimensions -----------------------------------------------------
def _with_ihdr_size(png, width, height):
    header = bytearray(png[16:29])
    header[0:8] = struct.pack(">II", width, height)
    return png[:8] + f.png_chunk(b"IHDR", bytes(header)) + png[33:]


def test_a_small_jpeg_declaring_a_huge_image_is_refused_as_corrupt():
    error = refusal(_with_sof(scan(), width=65000, height=65000))
    assert error.code == "image_corrupt"
    assert "像素" in error.message


def test_a_small_png_declaring_a_huge_image_is_refused_as_corrupt():
    error = refusal(_with_ihdr_size(scan_png(), 100_000, 100_000))
    assert error.code == "image_corrupt"


def test_the_bomb_message_states_the_pixel_limit_in_chinese_units():
    assert "4000万像素" in refusal(_with_sof(scan(), width=65000, height=65000)).message


def test_a_png_under_the_pixel_limit_whose_pixels_would_need_too_much_memory_is_refused():
    # 5000x4000 RGB is 20 Mpx (under 40 Mpx) but Pillow would hold 80 MB for it.
    error = refusal(_with_ihdr_size(f.document_png(800, 600), 5000, 4000))
    assert error.code == "image_corrupt"
    assert "内存" in error.message


def test_a_progressive_jpeg_whose_coefficients_would_need_too_much_memory_is_refused():
    progressive = f.jpeg_bytes(f.document_image(1000, 700), progressive=True)
    pos = progressive.index(b"\xff\xc2")
    huge = progressive[:pos + 5] + struct.pack(">HH", 6000, 6000) + progressive[pos + 9:]
    assert "内存" in refusal(huge).message


def test_a_regions_pixel_limit_refuses_anything_above_it_and_accepts_it_exactly():
    limits = IntakeLimits(max_pixels=1000 * 700 - 1)
    assert refusal(scan(), limits).code == "image_corrupt"
    assert inspect_image(scan(), IntakeLimits(max_pixels=1000 * 700)).width == 1000


def test_a_shorter_side_below_the_region_minimum_is_refused_as_too_small():
    error = refusal(f.document_jpeg(800, 599))
    assert error.code == "image_too_small"
    assert "800×599" in error.message and "600" in error.message


def test_a_shorter_side_exactly_at_the_minimum_is_accepted():
    assert inspect_image(f.document_jpeg(600, 800), LIMITS).width == 600


def test_a_region_may_set_a_higher_minimum():
    assert refusal(scan(), IntakeLimits(min_short_side=701)).code == "image_too_small"


def test_a_zero_height_jpeg_awaiting_a_dnl_marker_is_corrupt():
    assert refusal(_with_sof(scan(), height=0)).code == "image_corrupt"


# -- 4. structure and full decode -------------------------------------------------------
def test_a_jpeg_cut_in_the_middle_is_refused_as_corrupt():
    data = scan()
    assert refusal(data[: len(data) // 2]).code == "image_corrupt"


def test_a_jpeg_missing_only_its_end_marker_is_refused():
    assert refusal(scan()[:-2]).code == "image_corrupt"


def test_a_truncated_progressive_jpeg_is_refused():
    data = f.jpeg_bytes(f.document_image(1000, 700), progressive=True)
    assert inspect_image(data, LIMITS).format == "jpeg"
    assert refusal(data[: len(data) * 2 // 3]).code == "image_corrupt"


def test_pillow_itself_refuses_entropy_data_that_ends_too_early():
    # The walk finds the end of the stream; this shows the decoder (draft mode included)
    # would also refuse a stream that runs out before the last row.
    data = scan()
    image = Image.open(io.BytesIO(data[: len(data) // 2]))
    image.draft("L", (500, 350))
    with pytest.raises(OSError):
        image.load()


def test_a_jpeg_with_a_zip_appended_is_refused_as_corrupt():
    zipped = b"PK\x03\x04" + bytes(26) + b"payload.exe"
    error = refusal(scan() + zipped)
    assert error.code == "image_corrupt"
    assert "多余" in error.message or "以外的数据" in error.message


def test_a_jpeg_with_a_script_appended_is_refused():
    assert refusal(scan() + b"<?php system($_GET['c']); ?>").code == "image_corrupt"


def test_a_single_byte_after_the_end_marker_is_refused():
    assert refusal(scan() + b"\x00").code == "image_corrupt"


def test_a_phone_jpeg_carrying_a_second_image_after_its_end_is_refused():
    second = f.document_jpeg(640, 480, seed=5)
    mpf = f.with_jpeg_segment(scan(), 0xE2, b"MPF\x00II*\x00" + bytes(8))
    assert refusal(mpf + second).code == "image_corrupt"


def test_garbage_between_jpeg_segments_is_refused():
    data = scan()
    assert refusal(data[:20] + b"\x00\x01\x02" + data[20:]).code == "image_corrupt"


def test_a_second_frame_header_is_refused():
    data = scan()
    sof = data.index(b"\xff\xc0")
    length = struct.unpack(">H", data[sof + 2:sof + 4])[0]
    doubled = data[:sof] + data[sof:sof + 2 + length] + data[sof:]
    assert refusal(doubled).code == "image_corrupt"


def test_restart_markers_inside_entropy_data_are_not_mistaken_for_the_end():
    data = f.jpeg_bytes(f.document_image(1000, 700), restart_marker_blocks=4)
    assert b"\xff\xd0" in data
    assert inspect_image(data, LIMITS).data == data


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_grey_and_cmyk_jpegs_are_accepted_with_identical_pixels(mode):
    data = f.jpeg_bytes(f.document_image(800, 600).convert(mode), quality=75)
    accepted = inspect_image(data, ROOMY)
    assert f.pixels(accepted.data) == f.pixels(data)


def test_a_png_with_data_after_iend_is_refused():
    assert refusal(scan_png() + b"trailing").code == "image_corrupt"


def test_a_png_with_a_bad_crc_is_refused():
    data = bytearray(scan_png())
    data[50] ^= 0xFF  # inside the first IDAT payload: only the CRC can tell
    assert refusal(bytes(data)).code == "image_corrupt"


def test_a_truncated_png_is_refused():
    data = scan_png()
    assert refusal(data[: len(data) // 2]).code == "image_corrupt"
    assert refusal(data[:-12]).code == "image_corrupt"  # IEND missing


def test_an_animated_png_is_refused_as_corrupt():
    page = f.document_image(800, 600)
    out = io.BytesIO()
    page.save(out, "PNG", save_all=True, append_images=[page.rotate(2)])
    error = refusal(out.getvalue(), ROOMY)
    assert error.code == "image_corrupt"
    assert "动态" in error.message


def _png_from_scanlines(width, height, scanlines, extra_idat=b""):
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (f.PNG_SIGNATURE + f.png_chunk(b"IHDR", header)
            + f.png_chunk(b"IDAT", zlib.compress(scanlines) + extra_idat)
            + f.png_chunk(b"IEND", b""))


def _grey_scanlines(page):
    raw = page.convert("L").tobytes()
    return b"".join(b"\x00" + raw[y * page.width:(y + 1) * page.width]
                    for y in range(page.height))


def test_a_png_built_by_hand_is_accepted():
    page = f.document_image(800, 600)
    assert inspect_image(_png_from_scanlines(800, 600, _grey_scanlines(page)), ROOMY).width == 800


def test_data_hidden_after_the_png_image_stream_is_refused():
    page = f.document_image(800, 600)
    hidden = _png_from_scanlines(800, 600, _grey_scanlines(page), extra_idat=b"secret")
    assert refusal(hidden, ROOMY).code == "image_corrupt"


def test_a_png_whose_stream_holds_fewer_rows_than_declared_is_refused():
    page = f.document_image(800, 600)
    short = _png_from_scanlines(800, 600, _grey_scanlines(page)[: 801 * 500])
    assert refusal(short, ROOMY).code == "image_corrupt"


def test_a_png_whose_stream_holds_more_rows_than_declared_is_refused():
    page = f.document_image(800, 600)
    longer = _png_from_scanlines(800, 600, _grey_scanlines(page) + b"\x00" * 801)
    assert refusal(longer, ROOMY).code == "image_corrupt"


@pytest.mark.parametrize("variant", ["palette", "palette with transparency", "rgba", "grey 16-bit",
                                     "interlaced"])
def test_png_variants_are_accepted_with_identical_pixels(variant):
    page = f.document_image(800, 600)
    if variant == "palette":
        data = f.png_bytes(page.convert("P"))
    elif variant == "palette with transparency":
        data = f.png_bytes(page.convert("P"), transparency=0)
    elif variant == "rgba":
        data = f.png_bytes(page.convert("RGBA"))
    elif variant == "grey 16-bit":
        data = f.png_bytes(page.convert("L").convert("I").point(lambda v: v * 257).convert("I;16"))
    else:
        data = f.interlaced_png(page)
    accepted = inspect_image(data, ROOMY)
    assert f.pixels(accepted.data) == f.pixels(data)


# -- 5. orientation ---------------------------------------------------------------------
def test_orientation_1_is_accepted():
    assert inspect_image(f.with_exif_orientation(scan(), 1), LIMITS).width == 1000


@pytest.mark.parametrize("orientation", range(2, 9))
def test_any_other_orientation_is_refused_as_rotated(orientation):
    error = refusal(f.with_exif_orientation(scan(), orientation))
    assert error.code == "image_rotated"
    assert "旋转" in error.message


def test_big_endian_and_little_endian_exif_are_both_read():
    exif = f.exif_block(6)
    # "II" header, IFD0 at 8 with one entry: tag 0x0112, SHORT, count 1, value 6.
    little = (b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00"
              b"\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00")
    assert exif[6:8] == b"MM"
    for block in (exif, little):
        assert refusal(f.with_exif(scan(), block)).code == "image_rotated"


def test_exif_without_an_orientation_is_accepted():
    assert inspect_image(f.with_exif(scan(), f.exif_block(t271="Phone")), LIMITS).width == 1000


def test_orientation_in_a_png_exif_chunk_is_checked_too():
    data = f.with_png_chunk(scan_png(), b"eXIf", f.exif_block(8)[6:])
    assert refusal(data).code == "image_rotated"


def test_unreadable_exif_is_ignored_and_removed():
    data = f.with_exif(scan(), b"Exif\x00\x00MM\x00*\xff\xff\xff\xffjunk")
    accepted = inspect_image(data, LIMITS)
    assert b"junk" not in accepted.data


# -- 6. legibility ----------------------------------------------------------------------
def _photo(width, height, seed, *, blur, noise, quality, text_px=None, **page):
    image = f.phone_photo(f.document_image(width, height, seed=seed, text_px=text_px, **page),
                          seed=seed, blur=blur, noise=noise)
    return f.jpeg_bytes(image, quality=quality)


def _blurred(effect, amount, *, seed):
    """A 1000x700 scan spoiled by ``effect`` (defocused, motion_blurred, upscaled)."""
    return f.jpeg_bytes(effect(f.document_image(1000, 700, seed=seed), amount))


def _squeezed(image):
    """A big image compressed (and padded) to the 200 KB limit, as candidates must."""
    return f.jpeg_bytes(image, target_bytes=LIMIT)


SHARP_CORPUS = {
    "flat scan 1000x700": lambda: f.document_jpeg(1000, 700, seed=1),
    "flat scan A4 portrait 700x1000": lambda: f.document_jpeg(700, 1000, seed=2),
    "flat scan at the minimum 600x800": lambda: f.document_jpeg(600, 800, seed=3),
    "flat scan 1240x1754 squeezed": lambda: _squeezed(f.document_image(1240, 1754, seed=4)),
    "flat scan small text 1600x1200 squeezed": lambda: _squeezed(
        f.document_image(1600, 1200, seed=5, text_px=18)),
    "sparse certificate": lambda: f.jpeg_bytes(f.document_image(1000, 700, seed=6, sparse=True)),
    "grey PNG scan": lambda: f.document_png(1000, 700, seed=7, mode="L"),
    "noisy grey scan": lambda: f.jpeg_bytes(f.add_noise(
        f.defocused(f.document_image(1000, 700, seed=8), 0.6), 5, seed=8), quality=80),
    "phone 1000x750 blur 0.8 noise 6": lambda: _photo(1000, 750, 10, blur=0.8, noise=6, quality=80),
    "phone 1000x750 blur 1.0 noise 8": lambda: _photo(1000, 750, 11, blur=1.0, noise=8, quality=75),
    "phone 1200x900 blur 1.2 noise 8": lambda: _photo(1200, 900, 12, blur=1.2, noise=8, quality=70),
    "phone 800x600 blur 1.0 noise 10": lambda: _photo(800, 600, 13, blur=1.0, noise=10, quality=70),
    "phone 1600x1200 blur 1.4 squeezed": lambda: _squeezed(f.phone_photo(
        f.document_image(1600, 1200, seed=14), seed=14, blur=1.4, noise=10)),
    "phone 2000x1500 blur 1.8 squeezed": lambda: _squeezed(f.phone_photo(
        f.document_image(2000, 1500, seed=15), seed=15, blur=1.8, noise=10)),
    "phone low contrast (grey ink, dim)": lambda: _photo(
        1000, 700, 16, blur=1.0, noise=6, quality=75, ink=(110, 110, 110), paper=(205, 203, 195)),
    "phone ID card 950x600": lambda: _photo(
        950, 600, 17, blur=0.8, noise=6, quality=80, text_px=14),
}

BLURRED_CORPUS = {
    "defocused radius 3": lambda: _blurred(f.defocused, 3, seed=30),
    "defocused radius 4": lambda: _blurred(f.defocused, 4, seed=31),
    "defocused radius 6": lambda: _blurred(f.defocused, 6, seed=32),
    "phone defocused 3": lambda: _photo(1200, 900, 33, blur=3.0, noise=8, quality=75),
    "phone defocused 4.5, noisy": lambda: _squeezed(f.phone_photo(
        f.document_image(1600, 1200, seed=34), seed=34, blur=4.5, noise=12)),
    "motion blur 16": lambda: _blurred(f.motion_blurred, 16, seed=35),
    "phone with motion blur 24": lambda: f.jpeg_bytes(f.motion_blurred(f.phone_photo(
        f.document_image(1200, 900, seed=36), seed=36), 24), quality=75),
    "thumbnail upscaled 4x": lambda: _blurred(f.upscaled, 4, seed=37),
}

BORDERLINE_CORPUS = {  # reported by the script, not asserted
    "defocused radius 1.5": lambda: _blurred(f.defocused, 1.5, seed=50),
    "defocused radius 2": lambda: _blurred(f.defocused, 2, seed=50),
    "phone defocused 1.5": lambda: _photo(1200, 900, 51, blur=1.5, noise=8, quality=75),
    "phone defocused 2": lambda: _photo(1200, 900, 51, blur=2.0, noise=8, quality=75),
    "phone defocused 2.5": lambda: _photo(1200, 900, 51, blur=2.5, noise=8, quality=75),
    "thumbnail upscaled 2x": lambda: _blurred(f.upscaled, 2, seed=52),
    "thumbnail upscaled 3x": lambda: _blurred(f.upscaled, 3, seed=52),
    "motion blur 8": lambda: _blurred(f.motion_blurred, 8, seed=53),
}


@functools.cache
def corpus_image(group, name):
    return {"sharp": SHARP_CORPUS, "blurred": BLURRED_CORPUS, "borderline": BORDERLINE_CORPUS}[
        group][name]()


def score(data):
    return inspect_image(data, IntakeLimits(min_sharpness=0)).sharpness


@pytest.mark.parametrize("name", SHARP_CORPUS)
def test_sharp_scans_and_phone_photos_are_accepted(name):
    data = corpus_image("sharp", name)
    assert len(data) <= LIMIT
    accepted = inspect_image(data, LIMITS)
    assert accepted.sharpness >= LIMITS.min_sharpness


@pytest.mark.parametrize("name", BLURRED_CORPUS)
def test_clearly_blurred_images_are_refused_as_unclear(name):
    error = refusal(corpus_image("blurred", name))
    assert error.code == "image_unclear"
    assert "模糊" in error.message


def test_the_corpus_leaves_a_margin_on_both_sides_of_the_threshold():
    weakest_legible = min(score(corpus_image("sharp", name)) for name in SHARP_CORPUS)
    sharpest_blurred = max(score(corpus_image("blurred", name)) for name in BLURRED_CORPUS)
    assert weakest_legible >= LIMITS.min_sharpness * 1.2
    assert sharpest_blurred <= LIMITS.min_sharpness * 0.8


def test_a_soft_but_legible_phone_photo_is_accepted():
    data = corpus_image("sharp", "phone 1200x900 blur 1.2 noise 8")
    accepted = inspect_image(data, LIMITS)
    assert LIMITS.min_sharpness <= accepted.sharpness < 2 * LIMITS.min_sharpness


def test_the_score_is_kept_on_the_accepted_image():
    accepted = inspect_image(scan(), LIMITS)
    assert accepted.sharpness == score(scan()) > LIMITS.min_sharpness


def test_a_region_can_set_its_own_sharpness_threshold():
    soft = corpus_image("sharp", "phone 1200x900 blur 1.2 noise 8")
    assert refusal(soft, IntakeLimits(min_sharpness=40)).code == "image_unclear"
    blurred = corpus_image("blurred", "defocused radius 3")
    assert inspect_image(blurred, IntakeLimits(min_sharpness=1)).format == "jpeg"


def test_a_blank_page_is_not_legible():
    blank = f.jpeg_bytes(f.add_noise(Image.new("RGB", (1000, 700), f.PAPER), 3))
    assert refusal(blank).code == "image_unclear"


# -- 7. metadata removal ------------------------------------------------------------------
SECRET = b"<script>alert('id')</script>"


def _exif_with_personal_data():
    exif = Image.Exif()
    exif[0x010E] = SECRET.decode()  # ImageDescription
    exif[0x010F] = "ACME-PHONE-SERIAL-123"  # Make
    exif[0x0112] = 1
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (31.0, 47.0, 12.5)
    gps[27] = b"ASCII\x00\x00\x00GPS-SECRET-PLACE"
    return exif.tobytes()


def _loaded_jpeg():
    data = scan()
    data = f.with_exif(data, _exif_with_personal_data())
    data = f.with_jpeg_segment(data, 0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>XMP-SECRET"
                               + SECRET + b"</x:xmpmeta>")
    data = f.with_jpeg_segment(data, 0xED, b"Photoshop 3.0\x008BIMIPTC-SECRET")
    data = f.with_jpeg_segment(data, 0xFE, b"COMMENT-SECRET " + SECRET)
    return data


def test_stored_bytes_contain_none_of_an_exif_comment_or_script_payload():
    accepted = inspect_image(_loaded_jpeg(), LIMITS)
    for needle in (SECRET, b"ACME-PHONE", b"GPS-SECRET", b"XMP-SECRET", b"IPTC-SECRET",
                   b"COMMENT-SECRET", b"Exif\x00\x00", b"http://ns.adobe.com"):
        assert needle not in accepted.data


def test_stripped_jpeg_decodes_to_identical_pixels():
    data = _loaded_jpeg()
    accepted = inspect_image(data, LIMITS)
    assert len(accepted.data) < len(data)
    assert f.pixels(accepted.data) == f.pixels(data)


def test_stripped_progressive_jpeg_decodes_to_identical_pixels():
    data = f.with_exif(f.jpeg_bytes(f.document_image(1000, 700), progressive=True),
                       _exif_with_personal_data())
    accepted = inspect_image(data, LIMITS)
    assert 0xE1 not in f.jpeg_markers(accepted.data)
    assert f.pixels(accepted.data) == f.pixels(data)


def test_a_jfif_thumbnail_is_dropped_but_the_jfif_header_kept():
    data = scan()
    assert data[6:11] == b"JFIF\x00"
    thumbnail = bytes([2, 2]) + bytes(2 * 2 * 3)
    jfif = data[6:18] + thumbnail
    with_thumb = data[:2] + f.jpeg_segment(0xE0, jfif) + data[20:]
    accepted = inspect_image(with_thumb, LIMITS)
    assert accepted.data == data  # Pillow wrote JFIF without thumbnail: same bytes again
    assert f.pixels(accepted.data) == f.pixels(with_thumb)


def test_the_icc_colour_profile_and_adobe_colour_marker_are_kept():
    icc = b"ICC_PROFILE\x00\x01\x01" + b"fake-profile-bytes"
    data = f.with_jpeg_segment(scan(), 0xE2, icc)
    assert icc in inspect_image(data, LIMITS).data
    cmyk = f.jpeg_bytes(f.document_image(800, 600).convert("CMYK"), quality=70)
    assert b"Adobe" in inspect_image(cmyk, ROOMY).data


def test_png_text_time_and_exif_chunks_are_removed_with_identical_pixels():
    data = scan_png()
    data = f.with_png_chunk(data, b"tEXt", b"Comment\x00" + SECRET)
    data = f.with_png_chunk(data, b"zTXt", b"Author\x00\x00" + zlib.compress(b"ZTXT-SECRET"))
    data = f.with_png_chunk(data, b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00ITXT-SECRET")
    data = f.with_png_chunk(data, b"tIME", struct.pack(">HBBBBB", 2024, 5, 1, 8, 30, 0))
    data = f.with_png_chunk(data, b"eXIf", _exif_with_personal_data()[6:])
    data = f.with_png_chunk(data, b"prVt", b"PRIVATE-SECRET")  # unknown ancillary chunk
    data = f.with_png_chunk(data, b"pHYs", struct.pack(">IIB", 3780, 3780, 1))
    accepted = inspect_image(data, LIMITS)
    assert f.png_chunk_types(accepted.data) == [b"IHDR", b"pHYs", b"IDAT", b"IEND"]
    for needle in (SECRET, b"ZTXT", b"ITXT-SECRET", b"GPS-SECRET", b"PRIVATE-SECRET"):
        assert needle not in accepted.data
    assert f.pixels(accepted.data) == f.pixels(data)


def test_a_clean_file_is_stored_byte_for_byte():
    assert inspect_image(scan(), LIMITS).data == scan()
    assert inspect_image(scan_png(), LIMITS).data == scan_png()


def test_the_sha256_is_of_the_stored_bytes():
    import hashlib

    accepted = inspect_image(_loaded_jpeg(), LIMITS)
    assert accepted.sha256 == hashlib.sha256(accepted.data).hexdigest()


def test_stored_bytes_pass_intake_again_unchanged():
    accepted = inspect_image(_loaded_jpeg(), LIMITS)
    again = inspect_image(accepted.data, LIMITS)
    assert (again.data, again.sharpness, again.phash) == (
        accepted.data, accepted.sharpness, accepted.phash)


# -- order of the checks ----------------------------------------------------------------
def test_the_first_failing_check_in_pipeline_order_is_reported():
    blurred_rotated = f.with_exif_orientation(corpus_image("blurred", "defocused radius 4"), 6)
    assert refusal(blurred_rotated).code == "image_rotated"
    corrupt_rotated = f.with_exif_orientation(scan(), 6) + b"tail"
    assert refusal(corrupt_rotated).code == "image_corrupt"
    small_with_tail = f.document_jpeg(800, 500) + b"tail"
    assert refusal(small_with_tail).code == "image_too_small"
    bomb_with_tail = _with_sof(scan(), width=65000, height=65000) + b"tail"
    assert refusal(bomb_with_tail).code == "image_corrupt"
    assert refusal(b"GIF89a" + bytes(LIMIT)).code == "file_too_large"


def test_every_refusal_carries_a_design_code_and_a_chinese_message():
    cases = [b"", scan() + b"x", f.document_jpeg(800, 500), f.with_exif_orientation(scan(), 3),
             corpus_image("blurred", "defocused radius 6"), bytes(LIMIT + 1)]
    for data in cases:
        error = refusal(data)
        assert error.code in DESIGN_CODES
        assert any("\u4e00" <= char <= "\u9fff" for char in error.message)
        assert "请" in error.message  # every message says what to do


# -- perceptual hash ----------------------------------------------------------------------
def test_the_phash_is_16_hex_digits():
    phash = inspect_image(scan(), LIMITS).phash
    assert len(phash) == 16 and int(phash, 16) >= 0


def test_the_same_page_saved_again_has_a_near_identical_phash():
    page = f.document_image(1000, 700, seed=60)
    a = inspect_image(f.jpeg_bytes(page, quality=90), LIMITS).phash
    b = inspect_image(f.jpeg_bytes(page, quality=50), LIMITS).phash
    c = inspect_image(f.png_bytes(page.convert("L")), ROOMY).phash
    assert phash_distance(a, b) <= 4 and phash_distance(a, c) <= 4


def test_a_different_picture_has_a_distant_phash():
    landscape = inspect_image(f.document_jpeg(1000, 700, seed=61), LIMITS).phash
    portrait = inspect_image(f.document_jpeg(700, 1000, seed=61), LIMITS).phash
    assert phash_distance(landscape, portrait) >= 10


# -- the difference hash: the same picture or another page of the same form ------------------
def test_the_dhash_is_64_hex_digits_and_stored_bytes_keep_it():
    accepted = inspect_image(scan(), LIMITS)
    assert len(accepted.dhash) == 64 and int(accepted.dhash, 16) >= 0
    assert inspect_image(accepted.data, LIMITS).dhash == accepted.dhash


def test_the_same_page_saved_again_resized_or_as_png_keeps_its_dhash_close():
    page = f.document_image(1000, 700, seed=60)
    first = inspect_image(f.jpeg_bytes(page, quality=90), LIMITS).dhash
    for copy in (f.jpeg_bytes(page, quality=40), f.png_bytes(page.convert("L")),
                 f.jpeg_bytes(page.resize((860, 602)), quality=85)):
        assert phash_distance(first, inspect_image(copy, ROOMY).dhash) <= 15


def test_other_pages_of_the_same_form_are_far_apart_in_dhash_though_alike_in_phash():
    """The test pages share one layout: the 64-bit phash barely tells them apart (review's
    "similar" hint), the difference hash does (issue 29: refusing on the phash alone
    would refuse a new page of the same form)."""
    pages = [inspect_image(f.document_jpeg(1000, 700, seed=seed), LIMITS) for seed in (70, 71, 72, 73)]
    for a, b in itertools.combinations(pages, 2):
        assert phash_distance(a.phash, b.phash) <= 8
        assert phash_distance(a.dhash, b.dhash) >= 40


def test_phash_distance_counts_differing_bits():
    assert phash_distance("0000000000000000", "0000000000000000") == 0
    assert phash_distance("0000000000000000", "ffffffffffffffff") == 64
    assert phash_distance("8000000000000001", "0000000000000000") == 2


# -- guard rails --------------------------------------------------------------------------
def test_pillow_guard_rails_are_set_explicitly():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert Image.MAX_IMAGE_PIXELS == intake.PILLOW_MAX_PIXELS <= 40_000_000


def test_the_default_limits_follow_the_design():
    assert (LIMITS.max_bytes, LIMITS.min_short_side, LIMITS.max_pixels) == (
        204_800, 600, 40_000_000)
    assert LIMITS.min_sharpness == intake.SHARPNESS_THRESHOLD


def test_refusals_are_exceptions_with_code_and_message():
    error = IntakeRefused("image_corrupt", "图片已损坏")
    assert (error.code, error.message) == ("image_corrupt", "图片已损坏")
    assert isinstance(error, Exception)

