"""Signing keys: EC P-256 private keys in PEM files named `<kid>.pem` in KEYS_DIR.

Rotation without downtime: drop a new `<kid>.pem` in the directory and restart auth
(its public key appears in /auth/jwks.json; verifiers pick it up within seconds), then
point ACTIVE_KID at it; remove the old file once its last tokens expired (15 min).
"""
import os
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHM = "ES256"


def generate_pem():
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_dev_key(keys_dir, kid="dev-1"):
    """Create a local-development key once (never used in production)."""
    keys_dir = Path(keys_dir)
    keys_dir.mkdir(parents=True, exist_ok=True)
    path = keys_dir / f"{kid}.pem"
    if not path.exists():
        path.write_bytes(generate_pem())
        os.chmod(path, 0o600)
    return path


class KeyRing:
    def __init__(self, keys_dir, active_kid):
        self.private = {}
        for path in sorted(Path(keys_dir).glob("*.pem")):
            self.private[path.stem] = serialization.load_pem_private_key(path.read_bytes(), None)
        if active_kid not in self.private:
            raise RuntimeError(f"signing key {active_kid!r} not found in {keys_dir}")
        self.active_kid = active_kid

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.keys_dir, settings.active_kid)

    def sign(self, claims):
        return jwt.encode(claims, self.private[self.active_kid], algorithm=ALGORITHM,
                          headers={"kid": self.active_kid, "typ": "JWT"})

    def jwks(self):
        keys = []
        for kid, key in self.private.items():
            jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
            jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
            keys.append(jwk)
        return {"keys": keys}
