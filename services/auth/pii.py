"""ID numbers and phones at rest (DESIGN §8): AES-256-GCM ciphertext for reading back,
an HMAC-SHA256 keyed hash for look-ups, and the masked form for display."""
import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.privacy import mask_id_number, mask_phone

_MASKS = {"id_number": mask_id_number, "phone": mask_phone,
          "otp_secret": lambda value: "******"}  # never shown


class PiiVault:
    def __init__(self, encryption_key_b64, hash_key):
        key = base64.b64decode(encryption_key_b64)
        if len(key) != 32:
            raise ValueError("PII encryption key must be 32 bytes (base64)")
        if not hash_key:  # an empty HMAC key would hash, and make look-ups guessable
            raise ValueError("PII hash key must be set")
        self._aead = AESGCM(key)
        self._hash_key = hash_key.encode() if isinstance(hash_key, str) else hash_key

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.pii_encryption_key, settings.pii_hash_key)

    def lookup_hash(self, field, value):
        message = f"{field}:{value.strip().upper()}".encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()

    def seal(self, field, value, owner):
        """Fields of the stored document for `value`: ciphertext, hash and mask."""
        nonce = os.urandom(12)
        # Bind the ciphertext to its field and record, so it cannot be swapped around.
        sealed = self._aead.encrypt(nonce, value.encode(), f"{field}:{owner}".encode())
        return {"enc": base64.b64encode(nonce + sealed).decode(),
                "hash": self.lookup_hash(field, value),
                "masked": _MASKS[field](value)}

    def open(self, field, stored, owner):
        raw = base64.b64decode(stored["enc"])
        return self._aead.decrypt(raw[:12], raw[12:], f"{field}:{owner}".encode()).decode()
