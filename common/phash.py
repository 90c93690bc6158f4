"""Perceptual hashes as they travel between services, and what counts as a match (pure,
stdlib only).

materials' intake computes two hashes of every image (services/materials/intake/quality.py):

- `phash`: a 64-bit DCT hash, 16 hex digits. It sees the page's layout: two scans of the
  same paper differ in a few bits, but so do other pages of the same printed form (the
  test pages drawn from one layout are 0-8 bits apart). Review flags such look-alikes for
  the reviewer to judge (services/review/similarity.py): `near`.
- `dhash`: a 256-bit difference hash of a 17×16 grid, 64 hex digits. It sees the text
  blocks too: the same picture saved again (recompressed, resized, as PNG, in grey) stays
  within 15 bits, other pages of one form are 40 or more apart.

`same_picture` is what `returned_unchanged` (DESIGN §4) refuses on: the same bytes, or
both hashes close. A refusal blocks the candidate where a hint only informs the reviewer,
so it asks for the detail to match as well; a fresh photo or scan of the same paper never
matches (its framing and light differ), which is also the way out of a wrong refusal.
Measured on benchmarks' corpus: benchmarks/README.md ("same picture")."""
import re

HEX = re.compile(r"^[0-9a-f]{16}$")
DETAIL_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_DISTANCE = 6          # phash bits: a look-alike worth a reviewer's glance
MAX_DETAIL_DISTANCE = 16  # dhash bits: the same picture (re-saves <= 15, other pages >= 40)


def valid(phash):
    return isinstance(phash, str) and bool(HEX.match(phash))


def valid_detail(dhash):
    return isinstance(dhash, str) and bool(DETAIL_HEX.match(dhash))


def distance(a, b):
    """Hamming distance between two hashes of one kind (0 = the same picture)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def same_file(a, b):
    """The very same bytes (two image records with their `sha256`)."""
    return bool(a.get("sha256")) and a.get("sha256") == b.get("sha256")


def near(a, b, within=MAX_DISTANCE):
    """Both phashes known and at most `within` bits apart."""
    return valid(a.get("phash")) and valid(b.get("phash")) and distance(a["phash"], b["phash"]) <= within


def same_picture(a, b):
    """The same bytes, or a phash match confirmed by the dhash; an image without a dhash
    (stored before it existed) matches by its bytes only."""
    if same_file(a, b):
        return True
    return (near(a, b) and valid_detail(a.get("dhash")) and valid_detail(b.get("dhash"))
            and distance(a["dhash"], b["dhash"]) <= MAX_DETAIL_DISTANCE)
