"""Helpers of the security suite: candidates imported by the feed, objects in the bucket,
raw HTTP for requests that `requests` would tidy up, log reading. (A signed-in
candidate is tests/support.py's `Candidate`.)"""
import contextlib
import json
import re
import socket
import time
import uuid
from urllib.parse import urlsplit

from common import s3
from support import candidate, create_candidates

# DESIGN §7: {region}/{site}/{candidate_id}/{material_type}/{image_id}.{jpg|png}
KEY_LAYOUT = re.compile(r"^\d{2}/\d{4}/\d{6,20}/[a-z][a-z_]{1,39}/[0-9a-f]{32}\.(jpg|png)$")
LEAKS = ("Traceback", "/work/", ".py", 'File "', "site-packages")


def import_candidates(system, admin_token, numbers, site="3204"):
    """Extra candidates for this suite (the demo ones are shared with other suites), made at
    the registration system's stand-in."""
    records = [candidate(number, site=site, serial=int(number[-3:])) for number in numbers]
    summary = create_candidates(system.standin, records)
    assert not summary["errors"], summary
    return records


def bucket_keys(s3_client, bucket):
    return [obj.object_name for obj in s3_client.list_objects(bucket, recursive=True)]


def object_bytes(s3_client, bucket, key):
    data = s3.read_object(s3_client, bucket, key, contextlib.nullcontext())
    assert data is not None, f"no object {key}"
    return data


def key_of(s3_client, bucket, image_id):
    keys = [key for key in bucket_keys(s3_client, bucket) if image_id in key]
    assert len(keys) == 1, keys
    return keys[0]


def log_lines(system, service):
    """The service's log as JSON records (non-JSON lines kept as {"message": line})."""
    lines = []
    for line in system.log(service).splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            lines.append({"message": line})
    return lines


def assert_no_leak(response_or_text, what=""):
    text = response_or_text if isinstance(response_or_text, str) else response_or_text.text
    for needle in LEAKS:
        assert needle not in text, f"{what}: error body reveals internals ({needle!r}): {text[:500]}"


# -- raw HTTP: paths and bodies exactly as written -----------------------------------------------
def raw_request(url, method, path, headers=(), body=b"", timeout=15):
    """Send one request byte for byte (no normalisation of the path); returns
    (status, headers dict, body bytes)."""
    parts = urlsplit(url)
    head = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers]
    data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_response(sock, timeout)


def read_response(sock, timeout=15):
    sock.settimeout(timeout)
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "-1"))
    deadline = time.monotonic() + timeout
    while (length < 0 or len(rest) < length) and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ConnectionError):
            break
        if not chunk:
            break
        rest += chunk
    if headers.get("transfer-encoding", "").lower() == "chunked":
        rest = dechunk(rest)
    return status, headers, rest


def dechunk(data):
    out, pos = b"", 0
    while pos < len(data):
        end = data.find(b"\r\n", pos)
        if end < 0:
            break
        size = int(data[pos:end].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += data[end + 2:end + 2 + size]
        pos = end + 2 + size + 2
    return out


def multipart(field_filename, data, content_type="image/jpeg", boundary="----secsuiteboundary7"):
    """A multipart body with the file name written raw (bytes), as a hostile client would."""
    if isinstance(field_filename, str):
        field_filename = field_filename.encode("utf-8", "surrogateescape")
    body = (f"--{boundary}\r\n".encode()
            + b'Content-Disposition: form-data; name="file"; filename="' + field_filename + b'"\r\n'
            + f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n"
            + f"--{boundary}--\r\n".encode())
    return body, f"multipart/form-data; boundary={boundary}"


# -- personal numbers in any shape -------------------------------------------------------------------
def digits_of(text):
    """The digits of `text` as a reader would take them in: width and script folded
    (NFKC), everything between them ignored."""
    import unicodedata
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit())


def strings_in(value, where=""):
    """(where, string) for every string inside a JSON-like or BSON document."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for n, item in enumerate(value):
            yield from strings_in(item, f"{where}[{n}]")


def numbers_shown(value, numbers, where=""):
    """Where in `value` any of `numbers` ({digits: what}) can be read, however spaced or split."""
    return [f"{place}: {what}" for place, text in strings_in(value, where)
            for digits, what in numbers.items() if digits in digits_of(text)]


@contextlib.contextmanager
def event_tap(amqp_uri, source, event_type):
    """A queue of the test's own bound to one event type; yields a function that returns
    the payloads that arrived so far."""
    from kombu import Connection, Queue
    from nameko.standalone.events import get_event_exchange
    queue = Queue(f"sec.tap.{uuid.uuid4().hex[:8]}", get_event_exchange(source, {}),
                  routing_key=event_type, durable=False)
    seen = []
    with Connection(amqp_uri, connect_timeout=5) as conn:
        bound = queue(conn.channel())
        bound.declare()

        def received():
            while (message := bound.get(no_ack=True)) is not None:
                seen.append(message.body if isinstance(message.body, dict) else json.loads(message.body))
            return list(seen)

        try:
            yield received
        finally:
            bound.delete()
