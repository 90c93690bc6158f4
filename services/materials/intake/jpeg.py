"""JPEG structure: our own walk of the markers, before and instead of Pillow's (steps 2-4
and 7 of the pipeline in __init__): the frame header, every segment to EOI, the
metadata cut out."""
from __future__ import annotations

import re
import struct

from services.materials.intake.decode import Header, draft_scale
from services.materials.intake.refusals import (
    MSG_JPEG_PROCESS, MSG_TRAILING, UNSUPPORTED_FORMAT, IntakeRefused, corrupt)

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
            raise corrupt()  # stuffing, TEM, SOI or RST outside entropy data
        if pos + 4 > len(data):
            raise corrupt()
        length = (data[pos + 2] << 8) | data[pos + 3]
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise corrupt()
        if marker == SOS:
            found = _NEXT_MARKER.search(data, end)
            if found is None:
                raise corrupt()  # entropy data runs to the end of file: truncated
            end = found.start()
        yield marker, pos, end
        pos = end


def _skip_fill(data, pos):
    """Position of the 0xFF that starts the next marker (fill 0xFF bytes may precede it)."""
    if pos + 1 >= len(data) or data[pos] != 0xFF:
        raise corrupt()  # no EOI (truncated) or garbage between segments
    while data[pos + 1] == 0xFF:
        pos += 1
        if pos + 1 >= len(data):
            raise corrupt()
    return pos


def header(data):
    """The frame header's size and decode cost, refusing processes we do not store."""
    for marker, start, end in _jpeg_segments(data):
        if marker in _SOF_OTHER:
            raise IntakeRefused(UNSUPPORTED_FORMAT, MSG_JPEG_PROCESS)
        if marker in _SOF_DECODABLE:
            return _parse_sof(data[start + 4:end], progressive=marker == 0xC2)
        if marker in (SOS, EOI):
            break
    raise corrupt()  # scan or end before any frame header


def _parse_sof(payload, progressive):
    if len(payload) < 6:
        raise corrupt()
    precision, height, width, components = struct.unpack(">BHHB", payload[:6])
    if precision != 8:
        raise IntakeRefused(UNSUPPORTED_FORMAT, MSG_JPEG_PROCESS)  # 12-bit JPEG
    # Height 0 means "defined later by DNL", which libjpeg does not support.
    if width == 0 or height == 0 or components not in (1, 3, 4):
        raise corrupt()
    if len(payload) != 6 + 3 * components:
        raise corrupt()
    sampling = [(payload[7 + 3 * i] >> 4, payload[7 + 3 * i] & 15) for i in range(components)]
    if any(not (1 <= h <= 4 and 1 <= v <= 4) for h, v in sampling):
        raise corrupt()
    return Header(width, height, _jpeg_decode_bytes(width, height, sampling, progressive))


def _jpeg_decode_bytes(width, height, sampling, progressive):
    """Coefficients held for a progressive JPEG plus the draft-size output image.

    A sequential JPEG streams one row of blocks at a time; a progressive one keeps every
    DCT coefficient (64 x 2 bytes per 8x8 block) until its last scan, even in draft mode.
    """
    scale = draft_scale((width, height))
    channels = 4 if len(sampling) == 4 else 1  # draft("L") gives grey unless CMYK
    output = -(-width // scale) * -(-height // scale) * channels
    if not progressive:
        return output
    h_max, v_max = max(h for h, _ in sampling), max(v for _, v in sampling)
    mcu_columns, mcu_rows = -(-width // (8 * h_max)), -(-height // (8 * v_max))
    blocks = sum(mcu_columns * h * mcu_rows * v for h, v in sampling)
    return output + blocks * 128


def walk(data):
    kept = [b"\xff\xd8"]
    exif = []
    frames = scans = 0
    for marker, start, end in _jpeg_segments(data):
        payload = data[start + 4:end] if marker != EOI else b""
        if marker == EOI:
            if scans == 0:
                raise corrupt()
            if end != len(data):
                raise corrupt(MSG_TRAILING)
            kept.append(data[start:end])
        elif marker in _SOF_DECODABLE:
            frames += 1
            if frames > 1:
                raise corrupt()
            kept.append(data[start:end])
        elif marker == SOS:
            if frames == 0:
                raise corrupt()
            scans += 1
            kept.append(data[start:end])
        elif marker in (DQT, DHT, DRI):
            kept.append(data[start:end])
        elif 0xE0 <= marker <= 0xEF or marker == COM:
            kept.append(_jpeg_metadata(marker, payload, exif))
        elif marker in _SOF_OTHER:
            raise IntakeRefused(UNSUPPORTED_FORMAT, MSG_JPEG_PROCESS)
        else:
            raise corrupt()  # DNL, DAC, JPGn, reserved: nothing a camera or scanner writes
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

