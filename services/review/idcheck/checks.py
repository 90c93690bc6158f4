"""The ID card cross-check (issue 21): read an uploaded `id_card` image, let auth
compare what was read with the registration, keep only auth's verdicts with the image.

Runs off the upload path, on `MaterialUploaded`. Idempotent per image: an image already
checked is not read again, so a redelivered event costs one database look-up. What the
engine read goes to auth over RPC and nowhere else: not into the database, a log line
or an event (tests/integration/test_id_check.py looks for it in all three)."""
import logging

from common.clock import utcnow_iso
from services.review import domain
from services.review.idcheck import idcard

log = logging.getLogger(__name__)

ID_CARD = "id_card"


class IdChecks:
    def __init__(self, checks, bucket, reader, profiles):
        self.checks = checks  # repository.IdCheckStore
        self.bucket = bucket  # dependencies.ReadOnlyImages
        self.reader = reader  # reader.OcrPool
        self.profiles = profiles  # dependencies.Profiles: auth compares what was read

    def uploaded(self, event):
        if event["material_type"] != ID_CARD or not self.reader.on:
            return
        if self.checks.has(event["image_id"]):
            return
        data = self.bucket.get(domain.image_key(event), event["sha256"])
        if data is None:
            log.info("id card image gone before it was read: %s", event["image_id"])
            return
        read = self.reader.read(data)
        fields = read["fields"]
        verdicts = self.profiles.compare_identity(
            event["candidate_id"], id_number=fields["id_number"], name=fields["name"],
            expires=fields["expires"])
        self.checks.save(check_record(event, read["engine"], fields, verdicts))


def check_record(event, engine, fields, verdicts):
    """What is kept of one image's check: auth's verdicts and the card's expiry date,
    never the number or the name read."""
    return {
        "_id": event["image_id"], "package_id": event["package_id"],
        "candidate_id": event["candidate_id"], "side": fields["side"],
        "id_number": verdicts["id_number"], "name": verdicts["name"],
        "expires": fields["expires"], "expired": verdicts["expired"],
        "engine": engine, "confidence": fields["confidence"],
        "checked_at": utcnow_iso(),
    }


def id_check_of(case, checks_by_image):
    """The case's `id_check`: its current ID card images' checks combined."""
    ids = (case.get("items") or {}).get(ID_CARD) or []
    return idcard.summary([checks_by_image.get(image_id) for image_id in ids])
