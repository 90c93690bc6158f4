"""PNG structure: every chunk with its CRC to IEND, the IDAT stream inflated once
(bounded) to check it holds exactly the declared rows, the metadata cut out (steps 3, 4
and 7 of the pipeline in __init__)."""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from services.materials.intake.decode import Header
from services.materials.intake.refusals import MSG_ANIMATED, MSG_TRAILING, corrupt

SIGNATURE = b"\x89PNG\r\n\x1a\n"
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
    pos = len(SIGNATURE)
    while True:
        if pos + 12 > len(data):
            raise corrupt()  # no IEND: truncated
        length, chunk_type = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > len(data) or not chunk_type.isalpha():
            raise corrupt()
        body = data[pos + 4:end - 4]  # type + payload, what the CRC covers
        if zlib.crc32(body) != struct.unpack_from(">I", data, end - 4)[0]:
            raise corrupt()
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


def header(data):
    header = _parse_ihdr(data)
    return Header(header.width, header.height,
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
        raise corrupt()
    width, height, depth, colour, compression, filtering, interlace = struct.unpack_from(
        ">IIBBBBB", data, 16)
    if not (0 < width <= 0x7FFFFFFF and 0 < height <= 0x7FFFFFFF):
        raise corrupt()
    if depth not in _PNG_DEPTHS.get(colour, ()) or compression or filtering or interlace > 1:
        raise corrupt()
    return _PngHeader(width, height, depth, colour, interlace)


def walk(data):
    header = _parse_ihdr(data)
    kept = [SIGNATURE]
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
            raise corrupt(MSG_TRAILING)
        if chunk_type in _PNG_KEEP:
            kept.append(data[start:end])
    if b"IDAT" not in seen:
        raise corrupt()
    _check_png_stream(idat, header)
    return b"".join(kept), exif


def _check_chunk_order(chunk_type, seen, previous, header):
    if chunk_type in _PNG_ANIMATION:
        raise corrupt(MSG_ANIMATED)
    if (chunk_type == b"IHDR") != (previous is None):
        raise corrupt()  # IHDR first, and only once
    if chunk_type[0:1].isupper() and chunk_type not in _PNG_CRITICAL:
        raise corrupt()  # an unknown critical chunk: a decoder must not guess
    if chunk_type == b"IDAT" and previous != b"IDAT" and b"IDAT" in seen:
        raise corrupt()  # IDAT chunks must be consecutive
    if chunk_type == b"IDAT" and header.colour == 3 and b"PLTE" not in seen:
        raise corrupt()
    if chunk_type == b"PLTE" and (b"PLTE" in seen or b"IDAT" in seen):
        raise corrupt()


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
                    raise corrupt(MSG_TRAILING)  # bytes hidden after the image data
                produced += len(inflater.decompress(pending, _INFLATE_STEP))
                pending = inflater.unconsumed_tail
                if produced > expected:
                    raise corrupt()
        produced += len(inflater.flush())
    except zlib.error as exc:
        raise corrupt() from exc
    if inflater.unused_data:
        raise corrupt(MSG_TRAILING)
    if not inflater.eof or produced != expected:
        raise corrupt()


def _png_raw_size(header):
    """Bytes of filtered scanlines the IHDR implies (each row: filter byte + pixels)."""
    bits = _PNG_CHANNELS[header.colour] * header.depth

    def rows(width, height):
        return 0 if width <= 0 or height <= 0 else height * (1 + (width * bits + 7) // 8)

    if not header.interlace:
        return rows(header.width, header.height)
    return sum(rows(-(-(header.width - x0) // dx), -(-(header.height - y0) // dy))
               for x0, y0, dx, dy in _ADAM7)

