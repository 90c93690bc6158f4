"""A webhook over HTTPS goes to the address that was checked, with the subscriber's name
in Host and TLS SNI and its certificate verified against that name (targets.post):
a TLS receiver on 127.0.0.1 with a certificate for `hooks.exam.test` from a CA made
here stands in for the subscriber, reached by its address, never by a lookup. Then
notify itself delivers to a TLS receiver for `localhost` whose CA it was told to trust
(WEBHOOKS.CA_FILE), signed as Standard Webhooks."""
import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.notify import targets
from standardwebhooks import Webhook
from support import wait_for

pytestmark = pytest.mark.outcome_settings  # fast rounds (tests/integration/conftest.py)

NAME = "hooks.exam.test"


def certificate(subject, issuer_key, issuer=None, ca=False):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return key, builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture
def tls_receiver(tmp_path):
    yield from serve_tls(tmp_path, NAME)


def serve_tls(tmp_path, name):
    """(port, CA file, what it saw) of a TLS receiver with a certificate for `name`."""
    ca_key, ca_cert = certificate("exam test CA", None, ca=True)
    key, cert = certificate(name, ca_key, issuer=ca_cert.subject)
    (tmp_path / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    seen = {"requests": [], "sni": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen["requests"].append({"host": self.headers["Host"], "body": body, "path": self.path})
            seen.setdefault("headers", []).append(dict(self.headers.items()))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1], str(tmp_path / "ca.pem"), seen
    server.shutdown()
    server.server_close()


def test_the_request_goes_to_the_checked_address_with_the_name_in_host_sni_and_certificate(tls_receiver):
    port, ca_file, seen = tls_receiver
    target = targets.parse(f"https://{NAME}:{port}/hook?from=exam")  # never resolved: the name is fictitious
    status, _ = targets.post(target, "127.0.0.1", {"webhook-id": "msg_x"}, '{"a":1}', 2, 2, ca_file=ca_file)
    assert status == 204
    assert seen["requests"] == [{"host": f"{NAME}:{port}", "body": b'{"a":1}', "path": "/hook?from=exam"}]
    assert seen["sni"] == [NAME]


def test_a_certificate_for_another_name_is_refused(tls_receiver):
    port, ca_file, seen = tls_receiver
    target = targets.parse(f"https://other.exam.test:{port}/hook")
    with pytest.raises(urllib3.exceptions.SSLError):
        targets.post(target, "127.0.0.1", {}, "{}", 2, 2, ca_file=ca_file)
    assert seen["requests"] == []


def test_a_certificate_from_an_unknown_ca_is_refused(tls_receiver):
    port, _, seen = tls_receiver
    with pytest.raises(urllib3.exceptions.SSLError):
        targets.post(targets.parse(f"https://{NAME}:{port}/hook"), "127.0.0.1", {}, "{}", 2, 2)
    assert seen["requests"] == []


@pytest.fixture
def localhost_tls(tmp_path, config):
    """A TLS receiver for `localhost` whose CA notify is told to trust (WEBHOOKS.CA_FILE)."""
    for found in serve_tls(tmp_path, "localhost"):
        config["WEBHOOKS"] = dict(config["WEBHOOKS"], CA_FILE=found[1])
        yield found


def test_notify_delivers_over_https_to_a_receiver_whose_certificate_it_verifies(localhost_tls, outcomes):
    port, _, seen = localhost_tls
    response = outcomes.call("add_webhook_subscriber", url=f"https://localhost:{port}/hook")
    assert response.status_code == 200, response.text
    secret = response.json()["result"]["secret"]
    event = outcomes.approved()
    wait_for(lambda: seen["requests"], timeout=15, message="a delivery over TLS")
    [request], [headers] = seen["requests"], seen["headers"]
    assert seen["sni"] == ["localhost"] and request["host"] == f"localhost:{port}"
    assert Webhook(secret).verify(request["body"], headers)["data"]["event_id"] == event["event_id"]
