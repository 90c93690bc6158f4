"""The perceptual hash as it travels between services (pure, stdlib only).

materials' intake computes a 64-bit DCT pHash of every image and stores it as 16 hex
digits (services/materials/intake/quality.py); review compares hashes to flag the same
document uploaded twice (services/review/similarity.py). Both read the format and the
distance from here."""
import re

HEX = re.compile(r"^[0-9a-f]{16}$")


def valid(phash):
    return isinstance(phash, str) and bool(HEX.match(phash))


def distance(a, b):
    """Hamming distance between two hashes (0 = the same picture)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
