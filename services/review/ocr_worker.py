"""One OCR worker process: `python -m services.review.ocr_worker` (started by reader.py).

Reads images from stdin (4-byte big-endian length, then the bytes), answers each with
one JSON line on stdout: the fields idcard.read found, never the text. The engine is
RapidOCR on ONNX Runtime with the PP-OCRv4 models inside its wheel (nothing is fetched
at run time), one thread, no angle classifier (intake refuses rotated photos). A
process of its own keeps the CPU-bound work off review's event loop and at a lower
priority (the parent sets the nice level)."""
import json
import logging
import os
import struct
import sys
from importlib.metadata import version

from services.review import idcard

ENGINE = "rapidocr-onnxruntime"


def load():
    from rapidocr_onnxruntime import RapidOCR
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    return RapidOCR(use_cls=False, intra_op_num_threads=1, inter_op_num_threads=1)


def read_image(engine, data):
    boxes, _ = engine(data)
    return idcard.read(boxes or [])


def engine_name():
    return f"{ENGINE} {version(ENGINE)}"


def serve(stdin, stdout):
    engine = load()
    stdout.write(json.dumps({"ready": engine_name()}).encode() + b"\n")
    stdout.flush()
    while True:
        header = stdin.read(4)
        if len(header) < 4:
            return
        (size,) = struct.unpack(">I", header)
        data = stdin.read(size)
        try:
            answer = {"fields": read_image(engine, data)}
        except Exception as exc:  # noqa: BLE001 - an undecodable image is an answer, not a crash
            answer = {"error": type(exc).__name__}
        stdout.write(json.dumps(answer).encode() + b"\n")
        stdout.flush()


if __name__ == "__main__":
    os.nice(int(sys.argv[1]) if len(sys.argv) > 1 else 10)  # below reviewers' requests
    serve(sys.stdin.buffer, sys.stdout.buffer)
