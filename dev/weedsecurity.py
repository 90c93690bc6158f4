"""Locking down the local SeaweedFS (DESIGN §7, §8; README, "What runs where"): only S3, with the services' keys, serves
what is stored.

`weed server` runs a master, a volume server, a filer and the S3 gateway, and only S3
checks keys. Left open, the others served every stored ID image to anyone on the
machine: the filer by path and by listing, the volume server by file id, the gRPC API
through `weed shell`. Each start writes a security.toml into SeaweedFS's working folder
(where weed looks for it first) that closes them:

- mutual TLS on every gRPC listener and on the master's, the volume server's and the
  filer's HTTP, with a certificate from a CA made for this start whose key is never
  written down: only this weed process holds a certificate they accept;
- JWT-signed reads and writes on the filer and the volume server (random keys per
  start), which also guard the filer's Unix socket, the one listener without TLS.

S3 stays plain HTTP on its port with SigV4, as the services and presigned URLs expect.
"""
import datetime
import ipaddress
import json
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# weed's servers and the clients it uses to reach them, all with the one certificate.
GRPC_PARTS = ("master", "volume", "filer", "s3", "client")
HTTPS_PARTS = ("master", "volume", "filer")
JWT_KEYS = ("jwt.signing", "jwt.signing.read", "jwt.filer_signing", "jwt.filer_signing.read")
VALID = datetime.timedelta(days=3650)  # a start outlives no certificate


def write_security(folder):
    """Write `folder`/security.toml and the certificates it names; returns its path."""
    tls = Path(folder) / "tls"
    tls.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca, cert, key = _certificates(tls)
    lines = [f"[{name}]\nkey = {json.dumps(secrets.token_urlsafe(32))}\n" for name in JWT_KEYS]
    lines.append(f"[grpc]\nca = {json.dumps(ca)}\n")
    pair = f"cert = {json.dumps(cert)}\nkey = {json.dumps(key)}\n"
    lines += [f"[grpc.{part}]\n{pair}" for part in GRPC_PARTS]
    lines += [f"[https.{part}]\n{pair}ca = {json.dumps(ca)}\n" for part in HTTPS_PARTS]
    lines.append(f"[https.client]\nenabled = true\n{pair}ca = {json.dumps(ca)}\n")
    path = Path(folder) / "security.toml"
    _write_private(path, "\n".join(lines).encode())
    return path


def _certificates(tls):
    """A fresh CA and one certificate it signs, for serving and for calling (gRPC ignores
    host names; weed's HTTPS client checks them: 127.0.0.1, where every part listens).
    Returns the paths of the CA certificate, the certificate and its key."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(_name("exam local weed CA"), ca_key.public_key(), ca_key, now, ca=True)
    cert = _certificate(ca.subject, key.public_key(), ca_key, now, subject=_name("weed"))
    paths = tls / "ca.crt", tls / "weed.crt", tls / "weed.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_private(paths[2], key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return tuple(str(p) for p in paths)


def _certificate(issuer, public_key, signing_key, now, ca=False, subject=None):
    builder = (x509.CertificateBuilder().subject_name(subject or issuer).issuer_name(issuer)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + VALID)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_private(path, data):
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)
