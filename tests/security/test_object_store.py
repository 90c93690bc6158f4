"""The local S3 server (README, "What runs where"): no port or socket of SeaweedFS, as dev/servers.py
starts it for `make run` and `make test`, serves a stored image or the bucket's listing
without credentials; S3 with the services' keys still works.

The test starts its own SeaweedFS (other ports, its own folder), stores an image through
S3, finds every TCP port and Unix socket the weed process listens on, and asks each for
the image as an outsider on the machine could: the filer's path, the S3 path unsigned,
the bucket's listing, the volume server's file id (which the test reads with the
stack's own credentials: an outsider who somehow learnt it), that file id with a read
token asked of the master, each over plain HTTP and over HTTPS without a client
certificate; and the gRPC API through `weed shell` without the stack's certificates."""
import http.client
import io
import re
import socket
import ssl
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest
import requests
import urllib3

from dev import procs, servers
from support import free_ports
from unit.imagefactory import document_jpeg

WEED = Path(sys.executable).parent / "weed"
BUCKET = "materials"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s3_port, master, volume, filer = free_ports(4)
    layout = servers.Layout(base=tmp_path_factory.mktemp("object-store"), s3_port=s3_port,
                            weed_ports=(master, volume, filer))
    entry = servers.start_seaweedfs(layout)
    try:
        yield layout, entry["pid"]
    finally:
        procs.stop_pid(entry["pid"], timeout=2)


@pytest.fixture(scope="module")
def image(store):
    """(key, bytes) of an ID card image stored through S3 with the materials identity."""
    from minio import Minio
    layout, _ = store
    client = Minio(layout.s3_endpoint, *servers.S3_KEYS["materials"], secure=False)
    data = document_jpeg(seed=16)
    key = f"32/3204/2026320400999/id_card/{uuid.uuid4().hex}.jpg"
    client.put_object(BUCKET, key, io.BytesIO(data), len(data), content_type="image/jpeg")
    served = client.get_object(BUCKET, key)
    assert served.read() == data, "with the services' keys S3 serves the image"
    served.close()
    return key, data


def weed_shell(layout, command, cwd, timeout=60):
    """`weed shell` run in `cwd` (where it looks for security.toml); its output, or None
    when it got nowhere within `timeout` seconds. (coreutils' timeout: under eventlet,
    run(timeout=…) with pipes raises the TimeoutExpired of eventlet's private copy of
    the subprocess module, which `except subprocess.TimeoutExpired` does not catch.)"""
    master, _, filer = layout.weed_ports
    result = subprocess.run(["timeout", "--kill-after=2", str(timeout), str(WEED), "shell",
                             f"-master=127.0.0.1:{master}", f"-filer=127.0.0.1:{filer}"],
                            input=command.encode() + b"\n", cwd=cwd, capture_output=True,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})
    return None if result.returncode in (124, 137) else result.stdout + result.stderr


@pytest.fixture(scope="module")
def file_id(store, image):
    """The image's volume file id, read with the stack's own credentials."""
    layout, _ = store
    output = weed_shell(layout, f"fs.meta.cat /buckets/{BUCKET}/{image[0]}", layout.base / "seaweedfs")
    found = re.search(rb'"fileId":\s*"(\d+,[0-9a-f]+)"', output or b"")
    assert found, f"the stack's own tools read the file's metadata: {(output or b'')[-500:]!r}"
    return found.group(1).decode()


def listeners(pid):
    """Every TCP port and Unix socket path the process listens on."""
    process = psutil.Process(pid)
    ports = {c.laddr.port for c in process.net_connections("inet") if c.status == psutil.CONN_LISTEN}
    paths = {c.laddr for c in process.net_connections("unix") if c.laddr}
    return sorted(ports), sorted(paths)


def paths_to_try(key, file_id):
    """The image by path or file id, and listings that would name it. (Error bodies echo
    the path asked for, so only the listings, whose paths do not hold the file's name,
    are checked for the name.)"""
    volume, needle = file_id.split(",")
    folder = key.rsplit("/", 1)[0]
    images = [f"/buckets/{BUCKET}/{key}", f"/{BUCKET}/{key}", f"/{file_id}", f"/{volume}/{needle}",
              f"/{volume}/{needle}/scan.jpg"]
    listings = [f"/buckets/{BUCKET}/{folder}/", f"/buckets/{BUCKET}/?recursive=true",
                f"/{BUCKET}?list-type=2&prefix={folder}"]
    return [(path, False) for path in images] + [(path, True) for path in listings]


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=5)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.socket_path)


def over_socket(path, url_path, headers):
    connection = UnixConnection(path)
    try:
        connection.request("GET", url_path, headers=headers)
        return connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return b""  # not HTTP, or refused
    finally:
        connection.close()


def over_tcp(url, headers):
    """The body answered (redirects followed), or b"" when refused at the connection."""
    try:
        response = requests.get(url, headers=headers, timeout=5, verify=False)
    except (requests.RequestException, ssl.SSLError):
        return b"", {}
    return response.content, response.headers


def leaks(body, key, data, listing):
    return data[200:264] in body or (listing and key.rsplit("/", 1)[1].encode() in body)


def test_no_port_or_socket_of_the_local_s3_server_serves_an_image_without_credentials(
        store, image, file_id):
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    layout, pid = store
    key, data = image
    ports, sockets = listeners(pid)
    assert layout.s3_port in ports and set(layout.weed_ports) <= set(ports), ports
    findings, tokens = [], [{}]
    for port in ports:  # a read token, from anything that hands one out
        for scheme in ("http", "https"):
            _, headers = over_tcp(f"{scheme}://127.0.0.1:{port}/dir/lookup?fileId={file_id}&read=yes", {})
            if headers.get("Authorization"):
                findings.append(f"{scheme}:{port} hands out a read token for {file_id}")
                tokens.append({"Authorization": headers["Authorization"]})
    for headers in tokens:
        for path, listing in paths_to_try(key, file_id):
            for port in ports:
                for scheme in ("http", "https"):
                    body, _ = over_tcp(f"{scheme}://127.0.0.1:{port}{path}", headers)
                    if leaks(body, key, data, listing):
                        findings.append(f"{scheme}://127.0.0.1:{port}{path} {headers or ''}")
            for socket_path in sockets:
                if leaks(over_socket(socket_path, path, headers), key, data, listing):
                    findings.append(f"unix:{socket_path} {path} {headers or ''}")
    assert not findings, "served without credentials:\n" + "\n".join(findings)


def test_the_grpc_api_serves_nothing_to_a_client_without_the_stacks_certificate(
        store, image, file_id, tmp_path):
    """`file_id` read the metadata with the stack's certificate, through the same ports."""
    layout, _ = store
    key, data = image
    folder, name = key.rsplit("/", 1)
    output = weed_shell(layout, f"fs.cat /buckets/{BUCKET}/{key}\nfs.ls /buckets/{BUCKET}/{folder}",
                        tmp_path, timeout=10)
    assert output is None or (data[200:264] not in output and name.encode() not in output)
