"""Upload abuse (DESIGN §4, §7, §8): hostile names never reach an object key,
oversized or endless bodies are refused before they are read, one candidate cannot
flood the service, and what is stored carries nothing but the image."""
import io
import select
import socket
import time
import zipfile
from urllib.parse import urlsplit

import pytest
import requests

from secsupport import (KEY_LAYOUT, assert_no_leak, bucket_keys, import_candidates, key_of, multipart,
                        object_bytes, raw_request, read_response)
from support import Candidate, bearer
from unit.imagefactory import (document_jpeg, document_png, exif_block, pixels,
                               png_chunk_types, with_exif, with_jpeg_segment, with_png_chunk)

EXTRA = ["2026320400901", "2026320400902", "2026320400903"]
MB = 1024 * 1024
SMALL_JPEG = document_jpeg(800, 600, quality=40, seed=3)  # under nginx's 64 KB /api/ cap


@pytest.fixture(scope="module")
def people(system, admin_token):
    import_candidates(system, admin_token, EXTRA)
    return {number: Candidate(system, number) for number in EXTRA}


@pytest.fixture(scope="module")
def abuser(system):
    return Candidate(system, "2026320400007")


def all_keys_well_formed(s3_client, bucket):
    keys = bucket_keys(s3_client, bucket)
    bad = [key for key in keys if not KEY_LAYOUT.match(key) or ".." in key or "\x00" in key
           or "%" in key or "\\" in key]
    assert not bad, f"object keys outside the DESIGN §7 layout: {bad}"
    return keys


# -- hostile names ---------------------------------------------------------------------------------
HOSTILE_FILE_NAMES = [
    "../../../../etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "scan.jpg\x00.php",
    "\x00",
    "%2e%2e%2f%2e%2e%2fescape.jpg",
    "/var/lib/abs.jpg",
    "a" * 900 + ".jpg",
    "<script>alert(1)</script>.jpg",
    "身份证正面.jpg",
]


@pytest.mark.parametrize("filename", HOSTILE_FILE_NAMES, ids=range(len(HOSTILE_FILE_NAMES)))
def test_hostile_file_names_never_reach_the_object_key(filename, abuser, system, s3_client):
    body, content_type = multipart(filename, document_jpeg(seed=len(filename)))
    response = requests.post(
        f"{system.url}/api/v1/package/items/other/images", data=body, timeout=30,
        headers=dict(bearer(abuser.token), **{"Content-Type": content_type}))
    assert response.status_code in (201, 400), response.text
    assert_no_leak(response, f"file name {filename[:20]!r}")
    if response.status_code == 201:
        key = key_of(s3_client, system.bucket, response.json()["image_id"])
        assert key.startswith(f"32/3204/{abuser.number}/other/")
        for part in ("passwd", "win.ini", "php", "escape", "abs", "script", "身份证"):
            assert part not in key
        # Deleted again: the slots of `other` are few.
        assert abuser.call("DELETE", f"/package/items/other/images/{response.json()['image_id']}").status_code == 204
    all_keys_well_formed(s3_client, system.bucket)


HOSTILE_TYPES = [
    "..%2F..%2Fid_card",
    "%2e%2e",
    "..",
    "id_card%00",
    "id_card%00..%2F..%2Fx",
    "..%252F..%252Fid_card",
    "id_card%2F..%2F..%2F..%2Fetc",
    "id_card/../other",
    "ID_CARD",
    "id_card%E2%80%8B",
    "id_card%0d%0aX-Injected:%201",
    "%00",
]


@pytest.mark.parametrize("material_type", HOSTILE_TYPES, ids=range(len(HOSTILE_TYPES)))
def test_hostile_material_types_are_refused_and_never_reach_the_object_key(
        material_type, abuser, system, s3_client):
    before = set(bucket_keys(s3_client, system.bucket))
    body, content_type = multipart("scan.jpg", SMALL_JPEG)
    status, headers, text = raw_request(
        system.url, "POST", f"/api/v1/package/items/{material_type}/images", body=body,
        headers=[("Authorization", f"Bearer {abuser.token}"), ("Content-Type", content_type),
                 ("Content-Length", str(len(body)))])
    # 413: nginx decoded the path out of the upload route into /api/'s 64 KB cap.
    assert status in (400, 404, 413), (material_type, status, text[:300])
    assert "x-injected" not in headers
    assert_no_leak(text.decode("utf-8", "replace"), material_type)
    after = all_keys_well_formed(s3_client, system.bucket)
    assert set(after) - before == set(), "a refused upload left an object behind"


# -- bodies too large, or without an end ----------------------------------------------------------------
def stream_until_answered(base_url, path, token, total, chunked, chunk=64 * 1024, pause=0.01,
                          timeout=20):
    """Send an upload body of `total` bytes (or chunked, without a length) at a steady
    pace (64 KB every 10 ms: 50 MB take 8 s) and stop as soon as the server answers.
    Returns (status, body, bytes sent before the answer, seconds). The pace keeps the
    kernel's socket buffers (several MB on loopback) from hiding how early the answer
    came."""
    parts = urlsplit(base_url)
    boundary = "----flood"
    preamble = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() + b"\xff\xd8"
    head = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", f"Authorization: Bearer {token}",
            f"Content-Type: multipart/form-data; boundary={boundary}"]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    started = time.monotonic()
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    sent = 0
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        piece = preamble + b"\x00" * (chunk - len(preamble))
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            data = (f"{len(piece):x}\r\n".encode() + piece + b"\r\n") if chunked else piece
            try:
                sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                break
            sent += len(piece)
            piece = b"\x00" * chunk
            time.sleep(pause)
        try:
            status, _, body = read_response(sock, timeout)
        except (ConnectionResetError, socket.timeout):
            status, body = None, b""
        return status, body, sent, time.monotonic() - started
    finally:
        sock.close()


UPLOAD = "/api/v1/package/items/other/images"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "no-length"])
def test_a_50_mb_body_is_refused_at_the_front_door_before_it_is_read(chunked, people, system):
    token = people[EXTRA[0]].token
    status, body, sent, seconds = stream_until_answered(system.url, UPLOAD, token, 50 * MB, chunked)
    assert status == 413, (status, body[:200])
    assert sent <= 5 * MB, f"answered only after {sent / MB:.1f} MB of 50 were sent"
    assert seconds < 5
    assert_no_leak(body.decode("utf-8", "replace"), "413 body")


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "no-length"])
def test_the_materials_service_itself_refuses_a_50_mb_body_before_reading_it(chunked, people, system):
    """Behind the proxy, too (defence in depth: an ingress without a body cap)."""
    token = people[EXTRA[1]].token
    direct = f"http://127.0.0.1:{system.ports['materials']}"
    status, body, sent, seconds = stream_until_answered(direct, UPLOAD, token, 50 * MB, chunked)
    assert status == 413, (status, body[:200], sent)
    assert sent <= 5 * MB, f"materials answered only after {sent / MB:.1f} MB of 50 were sent"
    assert seconds < 5
    import json
    assert json.loads(body)["error"]["code"] == "file_too_large"
    # And nothing was stored for it.
    package = people[EXTRA[1]].package()
    assert next(i for i in package["items"] if i["material_type"] == "other")["images"] == []


def test_an_oversized_body_is_answered_in_the_designs_error_format(people, system):
    """DESIGN §4: 413 `file_too_large` as JSON, whichever layer refuses it."""
    token = people[EXTRA[0]].token
    status, body, _, _ = stream_until_answered(system.url, UPLOAD, token, 50 * MB, False)
    assert status == 413
    import json
    try:
        error = json.loads(body)["error"]
    except ValueError:
        pytest.fail(f"the front door answers 413 with a non-JSON page: {body[:120]!r}")
    assert error["code"] == "file_too_large"


def test_a_body_just_over_the_limit_is_refused_with_file_too_large(people, system):
    person = people[EXTRA[2]]
    start = document_jpeg(seed=5)
    body = start + b"\x00" * (300 * 1024 - len(start))
    response = person.upload("other", body)
    assert response.status_code == 413 and response.json()["error"]["code"] == "file_too_large"


# -- flooding ----------------------------------------------------------------------------------------
def test_a_hundred_uploads_in_a_minute_hit_the_rate_limit(system, people):
    person = Candidate(system, "2026320400008")
    statuses = []
    with requests.Session() as session:
        for n in range(100):
            response = session.post(f"{system.url}{UPLOAD}", headers=bearer(person.token), timeout=30,
                                    files={"file": ("x.jpg", b"not an image %d" % n, "image/jpeg")})
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.json()["error"]["code"] == "rate_limited"
                # Told when its oldest counted upload is a minute old, so a client can wait
                # instead of hammering.
                assert 1 <= int(response.headers["Retry-After"]) <= 60, response.headers
                assert_no_leak(response, "429")
    first_limited = statuses.index(429) if 429 in statuses else None
    assert first_limited is not None, f"100 uploads in a minute were never limited: {set(statuses)}"
    assert 10 <= first_limited <= 60, f"limited after {first_limited} uploads"
    assert all(s == 429 for s in statuses[first_limited:]), statuses[first_limited:]
    assert set(statuses[:first_limited]) == {415}, set(statuses[:first_limited])
    # Another candidate is not affected.
    other = people[EXTRA[2]]
    ok = other.upload("other", document_jpeg(seed=77))
    assert ok.status_code == 201, ok.text
    assert other.call("DELETE", f"/package/items/other/images/{ok.json()['image_id']}").status_code == 204


# -- what is stored -----------------------------------------------------------------------------------
SCRIPT = b"<script>alert(document.cookie)</script>"


def test_scripts_in_jpeg_metadata_are_not_stored(abuser, system, s3_client):
    clean = document_jpeg(seed=11)
    xmp = (b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + SCRIPT
           + b"</x:xmpmeta>")
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x2a\x1c\x02\x78\x00\x28" + SCRIPT
    hostile = with_jpeg_segment(clean, 0xFE, SCRIPT)                                   # COM
    hostile = with_exif(hostile, exif_block(1, t270=SCRIPT.decode(), t271="<svg onload=alert(1)>",
                                            t37510=b"ASCII\x00\x00\x00" + SCRIPT))  # EXIF
    hostile = with_jpeg_segment(hostile, 0xE1, xmp)                                    # XMP
    hostile = with_jpeg_segment(hostile, 0xED, iptc)                                   # APP13
    hostile = with_jpeg_segment(hostile, 0xEB, b"JP\x00" + SCRIPT)                     # APP11
    assert hostile.count(b"<script>") >= 4
    response = abuser.upload("work_certificate", hostile)
    assert response.status_code == 201, response.text
    image_id = response.json()["image_id"]

    stored = object_bytes(s3_client, system.bucket, key_of(s3_client, system.bucket, image_id))
    lowered = stored.lower()
    for needle in (b"<script", b"alert(", b"<svg", b"onload", b"xmpmeta", b"exif\x00\x00", b"8bim"):
        assert needle not in lowered, f"stored object still carries {needle!r}"
    assert pixels(stored) == pixels(clean), "metadata removal must not re-encode the pixels"
    served = abuser.call("GET", f"/package/items/work_certificate/images/{image_id}")
    assert served.status_code == 200 and served.content == stored


def test_scripts_in_png_text_chunks_are_not_stored(abuser, system, s3_client):
    clean = document_png(seed=12)
    hostile = with_png_chunk(clean, b"tEXt", b"Comment\x00" + SCRIPT)
    hostile = with_png_chunk(hostile, b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + SCRIPT)
    hostile = with_png_chunk(hostile, b"zTXt", b"Title\x00\x00" + __import__("zlib").compress(SCRIPT))
    hostile = with_png_chunk(hostile, b"eXIf", exif_block(1, t270=SCRIPT.decode())[6:])
    response = abuser.upload("work_certificate", hostile, filename="scan.png", content_type="image/png")
    assert response.status_code == 201, response.text
    stored = object_bytes(s3_client, system.bucket,
                          key_of(s3_client, system.bucket, response.json()["image_id"]))
    assert b"<script" not in stored.lower() and b"alert(" not in stored.lower()
    assert set(png_chunk_types(stored)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"gAMA",
                                            b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs"}
    assert pixels(stored) == pixels(clean)


def zip_archive():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("shell.php", "<?php system($_GET['c']); ?>")
        archive.writestr("index.html", SCRIPT)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["jpeg+zip", "png+zip", "jpeg+php", "zip-in-the-middle"])
def test_an_image_with_data_appended_is_refused_as_corrupt(kind, abuser, system, s3_client):
    before = set(bucket_keys(s3_client, system.bucket))
    jpeg, png = document_jpeg(seed=21), document_png(seed=22)
    data, filename, content_type = {
        "jpeg+zip": (jpeg + zip_archive(), "a.jpg", "image/jpeg"),
        "png+zip": (png + zip_archive(), "a.png", "image/png"),
        "jpeg+php": (jpeg + b"<?php system($_GET['c']); ?>", "a.jpg", "image/jpeg"),
        # A ZIP inside an APP segment is metadata: dropped, never stored.
        "zip-in-the-middle": (with_jpeg_segment(jpeg, 0xE9, zip_archive()), "a.jpg", "image/jpeg"),
    }[kind]
    response = abuser.upload("practice_certificate", data, filename=filename, content_type=content_type)
    if kind == "zip-in-the-middle":
        assert response.status_code == 201, response.text
        stored = object_bytes(s3_client, system.bucket,
                              key_of(s3_client, system.bucket, response.json()["image_id"]))
        assert b"PK\x03\x04" not in stored and b"<?php" not in stored
        assert abuser.call("DELETE", f"/package/items/practice_certificate/images/"
                                     f"{response.json()['image_id']}").status_code == 204
        return
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "image_corrupt"
    assert set(bucket_keys(s3_client, system.bucket)) == before, "a refused upload left an object"
