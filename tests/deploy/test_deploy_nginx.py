"""The nginx configurations in deploy/nginx/ (deploy/README.md).

Two layers:
1. Always: the configuration is parsed (a small parser for nginx's syntax, includes
   inlined) and nginx's location selection is replayed for each route of the contract
   (DESIGN §4): which service a path reaches, with which body limit, which headers.
2. When an `nginx` binary and `openssl` are installed (`apt-get install nginx`): the
   real nginx runs edge.conf from a throwaway prefix, with every service replaced by
   a stub HTTP server on 127.0.0.1 and a throwaway self-signed certificate, and real
   requests check routing, limits, headers and the JSON error pages end to end.
   `nginx -t` also checks web.conf and rejects a deliberately broken copy.
Everything stays on 127.0.0.1 and finishes in about a second.
"""
import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from support import free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX_DIR = ROOT / "deploy" / "nginx"
SERVICES = ("auth", "materials", "review", "notify")


# ------------------------------------------------------------------- a tiny parser ----
TOKEN = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<quoted>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
  | (?P<open>\{) | (?P<close>\}) | (?P<semi>;)
  | (?P<word>[^\s{};"'#]+(?:[^\s{};]*))
  | (?P<space>\s+)
""", re.VERBOSE)


class Directive:
    def __init__(self, name, args, block=None):
        self.name, self.args, self.block = name, args, block

    def __repr__(self):
        return f"{self.name} {' '.join(self.args)}{' {...}' if self.block is not None else ';'}"

    def find(self, name):
        return [d for d in self.block or [] if d.name == name]

    def first_arg(self, name, default=None):
        found = self.find(name)
        return found[0].args[0] if found else default


def tokenize(text):
    for match in TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("comment", "space"):
            continue
        value = match.group()
        if kind == "quoted":
            value = value[1:-1]
        yield kind, value


def parse(path, text=None, base=None):
    """Parse an nginx file into Directives, inlining relative `include`s. They resolve
    against the directory of the top file, as nginx resolves them against that of -c.
    `text` replaces the file's content (to parse a modified copy)."""
    path = Path(path)
    base = base or path.parent
    tokens = list(tokenize(path.read_text(encoding="utf-8") if text is None else text))
    position = 0

    def block():
        nonlocal position
        items, words = [], []
        while position < len(tokens):
            kind, value = tokens[position]
            position += 1
            if kind in ("word", "quoted"):
                words.append(value)
            elif kind == "semi":
                if words[0] == "include" and not words[1].startswith("/"):
                    items.extend(parse(base / words[1], base=base))
                else:
                    items.append(Directive(words[0], words[1:]))
                words = []
            elif kind == "open":
                items.append(Directive(words[0], words[1:], block()))
                words = []
            elif kind == "close":
                return items
        return items

    return block()


def http_block(tree):
    (block,) = [d for d in tree if d.name == "http"]
    return block


def server(tree, port):
    for candidate in http_block(tree).find("server"):
        for listen in candidate.find("listen"):
            if listen.args[0].split(":")[-1] == str(port):
                return candidate
    raise LookupError(f"no server listening on {port}")


# --------------------------------------------------- nginx's location selection ------
def select_location(srv, uri):
    """The location nginx picks for `uri` (top-level locations): an exact match wins;
    otherwise the longest prefix, unless it is ^~, yields to the first matching regex."""
    exact, prefixes, regexes = None, [], []
    for location in srv.find("location"):
        args = location.args
        if args[0] == "=":
            if args[1] == uri:
                exact = location
        elif args[0] in ("~", "~*"):
            flags = re.IGNORECASE if args[0] == "~*" else 0
            regexes.append((re.compile(args[1], flags), location))
        elif args[0] == "^~":
            if uri.startswith(args[1]):
                prefixes.append((len(args[1]), True, location))
        elif not args[0].startswith("@"):
            if uri.startswith(args[0]):
                prefixes.append((len(args[0]), False, location))
    if exact is not None:
        return exact, None
    longest = max(prefixes, key=lambda p: p[0]) if prefixes else None
    if longest and longest[1]:
        return longest[2], None
    for pattern, location in regexes:
        match = pattern.search(uri)
        if match:
            return location, match
    return (longest[2], None) if longest else (None, None)


def outcome(srv, uri):
    """What the selected location does: ('proxy', host), ('return', code), ('static', try_files)."""
    location, match = select_location(srv, uri)
    assert location is not None, f"no location for {uri}"
    if location.find("proxy_pass"):
        backend = location.first_arg("set", None)
        target = location.find("set")[0].args[1] if backend else location.first_arg("proxy_pass")
        if match:
            target = re.sub(r"\$(\d)", lambda m: match.group(int(m.group(1))), target)
        host = re.match(r"https?://([^:/]+)", target).group(1)
        return ("proxy", host), location
    if location.find("return"):
        return ("return", location.find("return")[0].args[0]), location
    if location.find("try_files"):
        return ("static", location.find("try_files")[0].args[-1]), location
    raise AssertionError(f"{uri}: location {location.args} neither proxies, returns nor serves")


def body_limit(http_scope, srv, location):
    for scope in (location, srv, http_scope):
        value = scope.first_arg("client_max_body_size")
        if value:
            return value
    return "1m"  # nginx's default


# --------------------------------------------------------------- the contract --------
PUBLIC_ROUTES = [
    ("/auth/authorize", ("proxy", "auth")),
    ("/auth/token", ("proxy", "auth")),
    ("/auth/jwks.json", ("proxy", "auth")),
    ("/auth/logout", ("proxy", "auth")),
    ("/api/v1/messages", ("proxy", "notify")),
    ("/api/v1/messages/m-1/read", ("proxy", "notify")),
    ("/integration/v1/outcomes", ("proxy", "notify")),
    ("/integration/v1/other", ("static", "/index.html")),
    ("/api/v1/package", ("proxy", "materials")),
    ("/api/v1/package/submit", ("proxy", "materials")),
    ("/api/v1/package/consent", ("proxy", "materials")),
    ("/api/v1/catalogue", ("proxy", "materials")),
    ("/api/v1/package/events", ("proxy", "materials")),
    ("/api/v1/package/events/ticket", ("proxy", "materials")),
    ("/api/v1/package/items/id_card/images", ("proxy", "materials")),
    ("/api/v1/package/items/id_card/images/img-1", ("proxy", "materials")),
    ("/healthz/auth", ("proxy", "auth")),
    ("/healthz/materials", ("proxy", "materials")),
    ("/healthz/review", ("proxy", "review")),
    ("/healthz/notify", ("proxy", "notify")),
    ("/healthz/other", ("return", "404")),
    ("/metrics/auth", ("return", "404")),
    ("/metrics/materials", ("return", "404")),
    ("/", ("static", "/index.html")),
    ("/callback", ("static", "=404")),
    ("/some/page", ("static", "/index.html")),
]


def public_routing_problems(tree):
    """Every way the public server deviates from the contract (empty when right)."""
    problems = []
    http_scope, srv = http_block(tree), server(tree, 8443)
    for uri, expected in PUBLIC_ROUTES:
        got, location = outcome(srv, uri)
        if got != expected:
            problems.append(f"{uri}: {got} instead of {expected}")
    # /callback serves the page itself
    callback, _ = select_location(srv, "/callback")
    if callback.find("try_files")[0].args[0] != "/index.html":
        problems.append("/callback does not serve /index.html")
    # body limits: small everywhere, ~1m on the upload route only
    for uri, limit in [("/api/v1/package/items/id_card/images", "1m"), ("/api/v1/package/submit", "64k"),
                       ("/auth/token", "64k"), ("/api/v1/messages/m-1/read", "64k")]:
        _, location = outcome(srv, uri)
        if body_limit(http_scope, srv, location) != limit:
            problems.append(f"{uri}: body limit {body_limit(http_scope, srv, location)} instead of {limit}")
    return problems


def edge_tree():
    return parse(NGINX_DIR / "edge.conf")


def test_public_routes_follow_the_contract():
    assert public_routing_problems(edge_tree()) == []


def test_a_misrouted_configuration_is_caught():
    # the inbox routed to materials, as a plain `/api/` prefix alone would do
    text = (NGINX_DIR / "edge.conf").read_text(encoding="utf-8")
    broken = re.sub(r"location = /api/v1/messages \{.*?\}\s*location /api/v1/messages/ \{.*?\}",
                    "", text, flags=re.DOTALL)
    assert broken != text
    path = NGINX_DIR / "edge.conf"
    problems = public_routing_problems(parse(path, broken))
    assert any(p.startswith("/api/v1/messages:") for p in problems), problems
    # and the upload route without its larger limit
    broken = text.replace("client_max_body_size 1m;", "")
    problems = public_routing_problems(parse(path, broken))
    assert any("body limit 64k instead of 1m" in p for p in problems), problems


def headers_of(scope):
    return {d.args[0]: d.args[1:] for d in scope.find("add_header")}


def assert_page_csp(csp):
    """The page's policy: no other base URL, forms post only to this origin (DESIGN §4)."""
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["default-src"] == ["'self'"] and directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"] and directives["form-action"] == ["'self'"]


def test_security_headers_on_the_public_server():
    srv = server(edge_tree(), 8443)
    headers = headers_of(srv)
    assert_page_csp(headers["Content-Security-Policy"][0])
    assert headers["Strict-Transport-Security"][0].startswith("max-age=")
    assert headers["X-Content-Type-Options"][0] == "nosniff"
    assert headers["Referrer-Policy"][0] == "no-referrer"
    for values in headers.values():
        assert values[-1] == "always", "headers on error responses too"
    # add_header in a location would silently drop all of the server's headers there
    for location in srv.find("location"):
        assert not location.find("add_header"), location.args


def img_sources(tree, uri):
    """The img-src the policy sends for `uri`, with nginx's maps of the http block applied."""
    maps = {}
    for block in http_block(tree).find("map"):
        entries = [(d.name, d.args[0] if d.args else "") for d in block.block]
        maps[block.args[1]] = (block.args[0], entries)

    def value(variable):
        source, entries = maps[variable]
        subject = uri if source == "$uri" else ""
        chosen = dict(entries)["default"]
        for key, result in entries:
            if key.startswith("~") and re.search(key[1:], subject):
                chosen = result
                break
        return re.sub(r"\$\w+", lambda m: value(m.group()), chosen)

    (csp,) = [headers_of(srv)["Content-Security-Policy"][0] for srv in http_block(tree).find("server")
              if "Content-Security-Policy" in headers_of(srv)]  # the page's server
    img = next(d for d in csp.split(";") if d.split()[0] == "img-src")
    return re.sub(r"\$\w+", lambda m: value(m.group()), img).split()[1:]


@pytest.mark.parametrize("conf", ["edge.conf", "web.conf"])
def test_only_the_staff_workspace_admits_images_from_the_s3_public_host(conf):
    tree = parse(NGINX_DIR / conf)
    staff = img_sources(tree, "/staff/index.html")
    assert staff == ["'self'", "data:", "blob:", "https://localhost:9443"]
    for uri in ("/", "/index.html", "/callback", "/api/v1/package", "/staffing"):
        assert img_sources(tree, uri) == ["'self'", "data:", "blob:"], uri


def test_the_s3_public_origin_is_one_replaceable_file():
    # compose and Kubernetes mount their own over it (test_manifests.py checks those)
    text = (NGINX_DIR / "snippets" / "s3-public-origin.conf").read_text(encoding="utf-8")
    assert re.findall(r'default\s+"([^"]+)"', text) == ["https://localhost:9443"]
    for conf in ("edge.conf", "web.conf"):
        assert "$exam_s3_public_origin" in [d.args[1] for d in http_block(
            parse(NGINX_DIR / conf)).find("map")]


def test_tls_termination_on_the_public_servers():
    tree = edge_tree()
    for port in (8443, 9443):
        srv = server(tree, port)
        assert "ssl" in srv.find("listen")[0].args
        assert srv.first_arg("ssl_certificate") and srv.first_arg("ssl_certificate_key")
        assert set(srv.find("ssl_protocols")[0].args) == {"TLSv1.2", "TLSv1.3"}
    plain = server(tree, 8080)
    got, _ = outcome(plain, "/anything")
    assert got == ("return", "301")


def test_metrics_only_on_the_internal_server_and_restricted():
    tree = edge_tree()
    internal = server(tree, 9145)
    for name in SERVICES:
        assert outcome(internal, f"/metrics/{name}")[0] == ("proxy", name)
        assert outcome(internal, f"/healthz/{name}")[0] == ("proxy", name)
    rules = [(d.name, d.args[0]) for d in internal.block if d.name in ("allow", "deny")]
    assert rules[-1] == ("deny", "all")
    assert ("allow", "127.0.0.1") in rules
    assert all(not arg.startswith(("0.0.0.0", "all")) for name, arg in rules if name == "allow")


def test_presigned_link_server_is_read_only_and_keeps_the_host():
    srv = server(edge_tree(), 9443)
    got, location = outcome(srv, "/materials/32/3204/x/id_card/i.jpg")
    assert got == ("proxy", "minio")
    (limit,) = location.find("limit_except")
    assert limit.args == ["GET"] and limit.find("deny")[0].args == ["all"]
    assert ["Host", "$http_host"] in [d.args for d in location.find("proxy_set_header")]


def test_proxying_locations_overwrite_x_forwarded_for_and_proto():
    srv = server(edge_tree(), 8443)
    for uri in ("/auth/token", "/api/v1/package", "/api/v1/messages"):
        _, location = outcome(srv, uri)
        headers = {d.args[0]: d.args[1] for d in location.find("proxy_set_header")}
        assert headers["X-Forwarded-For"] == "$remote_addr"
        # auth's CSRF cookie is Secure when this says https
        assert headers["X-Forwarded-Proto"] == "$scheme"


def test_the_live_stream_passes_events_at_once_and_outlives_the_usual_timeout():
    srv = server(edge_tree(), 8443)
    _, stream = outcome(srv, "/api/v1/package/events")
    assert stream.first_arg("proxy_buffering") == "off"
    assert stream.first_arg("proxy_http_version") == "1.1"
    assert stream.first_arg("proxy_read_timeout") == "1h"
    assert stream.first_arg("proxy_send_timeout") == "1h"
    headers = {d.args[0]: d.args[1] for d in stream.find("proxy_set_header")}
    assert headers["Connection"] == "" and headers["X-Forwarded-For"] == "$remote_addr"
    _, ticket = outcome(srv, "/api/v1/package/events/ticket")  # an ordinary API call
    assert ticket.first_arg("proxy_read_timeout") == "30s" and ticket.first_arg("proxy_buffering") is None


def test_web_conf_serves_the_page_and_its_probe():
    tree = parse(NGINX_DIR / "web.conf")
    srv = server(tree, 8080)
    assert outcome(srv, "/healthz/web")[0] == ("return", "200")
    assert outcome(srv, "/")[0] == ("static", "/index.html")
    assert outcome(srv, "/callback")[0] == ("static", "=404")
    assert_page_csp(headers_of(srv)["Content-Security-Policy"][0])
    assert not any(location.find("proxy_pass") for location in srv.find("location"))


# ====================================================== the real nginx, if present ====
# Debian's nginx and openssl, installed when missing (as the e2e suite installs Chromium):
# on a fresh machine a skip here would leave the configurations unchecked on every CI run.
NGINX, OPENSSL = "/usr/sbin/nginx", "/usr/bin/openssl"


@pytest.fixture(scope="module")
def needs_nginx():
    from dev.stack import ensure_nginx
    ensure_nginx()

PUBLIC_PORTS = ("8080", "8443", "9443", "9145")


@pytest.fixture
def scratch():
    """A world-traversable scratch folder: when the tests run as root, nginx's workers run
    as an unprivileged user and must reach the files (pytest's tmp_path is 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="exam-nginx-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def make_prefix(scratch, edits=None):
    """A throwaway copy of deploy/nginx/ with every host path moved under `scratch`."""
    prefix = scratch / "nginx"
    shutil.copytree(NGINX_DIR, prefix)
    for sub in ("run", "secrets", "html", "logs"):
        (prefix / sub).mkdir()
    mime = Path("/etc/nginx/mime.types")
    (prefix / "mime.types").write_text(
        mime.read_text() if mime.exists() else "types { text/html html; application/json json; }\n")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(prefix / "secrets" / "tls.key"),
                    "-out", str(prefix / "secrets" / "tls.crt")],
                   check=True, capture_output=True, timeout=20)
    (prefix / "html" / "index.html").write_text("<!doctype html><title>exam index</title>\n")
    (prefix / "html" / "staff").mkdir()
    (prefix / "html" / "staff" / "index.html").write_text("<!doctype html><title>staff index</title>\n")
    for conf in prefix.rglob("*.conf"):
        text = conf.read_text(encoding="utf-8")
        text = text.replace("/tmp/", f"{prefix}/run/")
        text = text.replace("/run/secrets/", f"{prefix}/secrets/")
        text = text.replace("/etc/nginx/mime.types", f"{prefix}/mime.types")
        text = text.replace("/usr/share/nginx/html", f"{prefix}/html")
        text = text.replace("/dev/stdout", f"{prefix}/logs/access.log")
        text = text.replace("/dev/stderr", f"{prefix}/logs/error.log")
        for old, new in (edits or {}).items():
            text = re.sub(old, new, text)
        conf.write_text(text, encoding="utf-8")
    for path in [prefix, *prefix.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return prefix


def nginx_test(prefix, conf):
    return subprocess.run([NGINX, "-t", "-q", "-p", str(prefix), "-c", str(prefix / conf),
                           "-e", str(prefix / "logs" / "error.log")],
                          capture_output=True, text=True, timeout=20)


@pytest.mark.usefixtures("needs_nginx")
def test_nginx_accepts_both_configurations(scratch):
    prefix = make_prefix(scratch)
    for conf in ("edge.conf", "web.conf"):
        result = nginx_test(prefix, conf)
        assert result.returncode == 0, result.stderr


@pytest.mark.usefixtures("needs_nginx")
def test_nginx_rejects_a_broken_configuration(scratch):
    prefix = make_prefix(scratch, edits={r"client_max_body_size 1m;": "client_max_body_size 1m"})
    result = nginx_test(prefix, "edge.conf")
    assert result.returncode != 0 and "emerg" in result.stderr


class Stub(BaseHTTPRequestHandler):
    """Plays one service: answers what it received, as JSON."""
    service = None

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload = json.dumps({"service": self.service, "path": self.path, "method": self.command,
                              "bytes": len(body), "host": self.headers.get("Host"),
                              "xff": self.headers.get("X-Forwarded-For"),
                              "proto": self.headers.get("X-Forwarded-Proto")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        # a service's own copy of a header the edge sets: must not reach the client twice
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = answer

    def log_message(self, *args):
        pass


@pytest.fixture
def running_edge(scratch):
    """edge.conf under a real nginx, with stub services, on free loopback ports."""
    stubs = {}
    for name in (*SERVICES, "minio"):
        handler = type(f"Stub_{name}", (Stub,), {"service": name})
        stubs[name] = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=stubs[name].serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
    ports = {port: str(free_port()) for port in PUBLIC_PORTS}
    edits = {rf"listen {port}\b": f"listen 127.0.0.1:{ports[port]}" for port in PUBLIC_PORTS}
    edits[r"https://\$host:8443"] = f"https://$host:{ports['8443']}"
    # no Docker DNS here: named upstream blocks stand in for the service names
    edits[r"resolver 127\.0\.0\.11[^;]*;"] = "include stubs.conf;"
    edits[r"resolver_timeout[^;]*;"] = ""
    edits[r"http://(\$?\w+):\d+"] = r"http://\1"
    prefix = make_prefix(scratch, edits)
    (prefix / "stubs.conf").write_text("".join(
        f"upstream {name} {{ server 127.0.0.1:{server.server_address[1]}; }}\n"
        for name, server in stubs.items()))
    process = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "edge.conf"),
                                "-e", str(prefix / "logs" / "error.log"), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", int(ports["8443"])), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("nginx did not start: " + process.stderr.read().decode())
                time.sleep(0.05)
        yield {"ports": {k: int(v) for k, v in ports.items()}, "stubs": stubs}
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        for server in stubs.values():
            server.shutdown()
            server.server_close()


def request(port, method, path, body=None, headers=None, tls=True):
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


@pytest.mark.usefixtures("needs_nginx")
def test_edge_end_to_end(running_edge):
    ports = running_edge["ports"]
    public = ports["8443"]

    def reaches(method, path, body=None):
        status, headers, payload = request(public, method, path, body)
        assert status == 200, (path, status, payload[:200])
        return json.loads(payload)

    for method, path, service in [
            ("GET", "/auth/authorize?client_id=upload-web", "auth"),
            ("POST", "/auth/token", "auth"),
            ("GET", "/api/v1/messages", "notify"),
            ("POST", "/api/v1/messages/m-1/read", "notify"),
            ("GET", "/integration/v1/outcomes?after=v1.0.x&limit=5", "notify"),
            ("GET", "/api/v1/package", "materials"),
            ("DELETE", "/api/v1/package/items/id_card/images/img-1", "materials"),
            ("GET", "/healthz/review", "review"),
            ("GET", "/healthz/notify", "notify")]:
        got = reaches(method, path, b"x" if method == "POST" else None)
        assert got["service"] == service, (path, got)
        assert got["path"] == path

    # an image of 300 KB passes on the upload route (limit 1m) ...
    got = reaches("POST", "/api/v1/package/items/id_card/images", b"x" * 300_000)
    assert got == {**got, "service": "materials", "bytes": 300_000}
    # ... 1.5 MB does not, and the refusal is the services' JSON error
    status, headers, payload = request(public, "POST", "/api/v1/package/items/id_card/images",
                                       b"x" * 1_500_000)
    assert status == 413
    assert json.loads(payload)["error"]["code"] == "file_too_large"
    # elsewhere bodies are small
    status, _, payload = request(public, "POST", "/api/v1/package/submit", b"x" * 100_000)
    assert status == 413 and json.loads(payload)["error"]["code"] == "file_too_large"

    # the page, for /, /callback (the OAuth redirect) and client-side routes
    for path in ("/", "/callback?code=abc&state=xyz", "/deep/link"):
        status, headers, payload = request(public, "GET", path)
        assert status == 200 and b"exam index" in payload, path
        assert headers["Content-Type"].startswith("text/html")

    # metrics are not public
    assert request(public, "GET", "/metrics/auth")[0] == 404

    # security headers, exactly one copy each, on proxied responses too
    status, headers, _ = request(public, "GET", "/api/v1/package")
    assert headers.get_all("X-Content-Type-Options") == ["nosniff"]
    assert_page_csp(headers["Content-Security-Policy"])
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["Referrer-Policy"] == "no-referrer"

    # the staff workspace, and only it, admits presigned images from the S3 public host
    status, headers, payload = request(public, "GET", "/staff/case/p-1")
    assert status == 200 and b"staff index" in payload
    assert headers.get_all("Content-Security-Policy") == [
        "default-src 'self'; img-src 'self' data: blob: https://localhost:9443; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"]
    for path in ("/", "/callback?code=abc", "/api/v1/package"):
        _, headers, _ = request(public, "GET", path)
        assert "https://localhost:9443" not in headers["Content-Security-Policy"], path
        assert "img-src 'self' data: blob:;" in headers["Content-Security-Policy"], path

    # a forged X-Forwarded-For does not reach the services
    status, _, payload = request(public, "GET", "/api/v1/package",
                                 headers={"X-Forwarded-For": "203.0.113.9"})
    assert json.loads(payload)["xff"] == "127.0.0.1"
    # nor a forged scheme: the services hear https, the scheme of this listener
    status, _, payload = request(public, "GET", "/auth/authorize",
                                 headers={"X-Forwarded-Proto": "http"})
    assert json.loads(payload)["proto"] == "https"


@pytest.mark.usefixtures("needs_nginx")
def test_edge_side_doors(running_edge):
    ports = running_edge["ports"]
    # plain HTTP only redirects
    status, headers, _ = request(ports["8080"], "GET", "/api/v1/package", tls=False)
    assert status == 301 and headers["Location"].startswith("https://")
    # internal server: metrics and health per service
    for name in SERVICES:
        status, _, payload = request(ports["9145"], "GET", f"/metrics/{name}", tls=False)
        assert status == 200 and json.loads(payload)["service"] == name
    # presigned links: GET reaches MinIO with the Host header intact; writes do not
    s3 = ports["9443"]
    status, _, payload = request(s3, "GET", "/materials/32/3204/c/id_card/i.jpg?X-Amz-Signature=s")
    got = json.loads(payload)
    assert status == 200 and got["service"] == "minio" and got["host"] == f"127.0.0.1:{s3}"
    assert request(s3, "PUT", "/materials/x.jpg", b"x")[0] == 403


@pytest.mark.usefixtures("needs_nginx")
def test_edge_answers_json_when_a_service_is_down(running_edge):
    stub = running_edge["stubs"]["notify"]
    stub.shutdown()
    stub.server_close()
    status, _, payload = request(running_edge["ports"]["8443"], "GET", "/api/v1/messages")
    assert status == 503
    assert json.loads(payload)["error"]["code"] == "unavailable"
