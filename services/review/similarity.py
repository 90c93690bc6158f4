"""Near-duplicate images by perceptual hash (pure).

Intake gives every image a 64-bit DCT perceptual hash (16 hex digits). Two scans of
the same paper differ in a few bits; unrelated documents differ in about half of them.
The hash is stored split into four 16-bit bands, each an indexed field, so the
database hands back only images sharing at least one band, and the Hamming distance
is computed here. By the pigeonhole principle every image within 3 bits shares a band;
most within the threshold of 6 do too. That is the trade the band index makes: exact
recall for close copies, a cheap lookup for the million-image collection.

Scans of one printed form share their layout, so unrelated pages of the same template
can come within the threshold too (the test images drawn from one layout are 0-8 bits
apart). The hint therefore says how close a match is and whether the file is the very
same (equal SHA-256): the reviewer judges. (materials refuses a returned picture sent
again only when a finer hash agrees as well: common/phash.py `same_picture`.) The
threshold and the sameness of files are common/phash.py's, shared with materials.
"""
from common.phash import MAX_DISTANCE, distance, same_file, valid  # noqa: F401 (similarity.valid)

BANDS = 4
BAND_BITS = 16
MAX_FLAGS = 10  # the closest few are what a reviewer can act on


def bands(phash):
    """The four 16-bit bands of a hash, as the indexed fields band0..band3."""
    value = int(phash, 16)
    return {f"band{i}": (value >> (BAND_BITS * (BANDS - 1 - i))) & 0xFFFF for i in range(BANDS)}


def flags(image, others, returned, covers):
    """Reviewer hints for `image`: matches in other candidates' packages and among the
    images already returned to this candidate.

    `others` share a band with the image (from the index), `returned` are this
    package's returned images, `covers(region, site)` tells whether the reviewer may
    see where another match lives (otherwise the flag says only that one exists)."""
    if not valid(image.get("phash")):
        return []
    found = []
    for other in others:
        if other["candidate_id"] == image["candidate_id"] or not valid(other.get("phash")):
            continue
        gap = distance(image["phash"], other["phash"])
        if gap <= MAX_DISTANCE:
            flag = {"kind": "other_candidate", "distance": gap, "identical": same_file(image, other)}
            if covers(other["region"], other["site"]):
                flag["package_id"] = other["package_id"]
            found.append(flag)
    for old in returned:
        if old["_id"] != image["_id"] and valid(old.get("phash")):
            gap = distance(image["phash"], old["phash"])
            if gap <= MAX_DISTANCE:
                found.append({"kind": "previously_returned", "distance": gap,
                              "identical": same_file(image, old), "image_id": old["_id"]})
    return sorted(found, key=lambda flag: (not flag["identical"], flag["distance"]))[:MAX_FLAGS]
