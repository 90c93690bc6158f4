"""What other services tell review, applied to cases and image metadata.

Every handler here is idempotent on the event: lifecycle events (submitted, withdrawn,
reopened) move a per-package key that only goes forward, profile changes carry their
time, image records are keyed by image id. A redelivered event therefore matches
nothing and changes nothing, and an older one arriving late is dropped."""
from services.review import domain, similarity, views

def image_record(event):
    """Image metadata and its object key (as of the upload)."""
    record = {
        "_id": event["image_id"], "package_id": event["package_id"],
        "candidate_id": event["candidate_id"], "region": event["region"], "site": event["site"],
        "material_type": event["material_type"], "format": event.get("format"),
        "key": domain.image_key(event),
        "bytes": event["bytes"], "sha256": event["sha256"], "width": event.get("width"),
        "height": event.get("height"), "sharpness": event.get("sharpness"),
        "phash": event.get("phash"), "uploaded_at": event["occurred_at"],
    }
    if similarity.valid(record["phash"]):
        record.update(similarity.bands(record["phash"]))
    return record


def history(event, action, **extra):
    return dict(extra, at=event["occurred_at"], action=action, attempt=event.get("attempt"),
                event_id=event["event_id"])


class Ingest:
    def __init__(self, repo, profiles):
        self.repo = repo
        self.profiles = profiles  # dependencies.Profiles: candidate snapshots from auth

    def submitted(self, event):
        image_ids = [i for item in event["items"] for i in item["image_ids"]]
        images = self.repo.images.get_many(image_ids)
        quality = domain.lowest_sharpness(images.values())
        sets = domain.submission(event, quality, self._any_duplicate(event["package_id"], images))
        profile = self.profiles.fetch(event["candidate_id"])
        if profile is not None:
            sets["candidate"] = views.snapshot(profile)  # refreshed with every attempt
        key = domain.lifecycle_key(event["attempt"], event["occurred_at"])
        self.repo.apply_lifecycle(event["package_id"], key, sets, history(event, "submitted"))
        self.repo.tallies.count_submission(event)  # for the overview; once per event_id

    def withdrawn(self, event):
        self._end(event, domain.WITHDRAWN, "withdrawn")

    def reopened(self, event):
        self._end(event, domain.CLOSED, "reopened", reason=event.get("reason"))

    def _end(self, event, status, action, reason=None):
        key = domain.lifecycle_key(event["attempt"], event["occurred_at"])
        self.repo.apply_lifecycle(event["package_id"], key, domain.ending(event, status, reason),
                                  history(event, action))

    def profile_changed(self, event):
        fields = {"region": event["region"], "site": event["site"], "category": event["category"]}
        self.repo.move_candidate(event["candidate_id"], fields, event["occurred_at"],
                                 history(event, "profile_changed", changed=event.get("changed")))

    def uploaded(self, event):
        record = image_record(event)
        self.repo.images.save(record)
        self._flag_matches(record)
        # Metadata may arrive after the submission it belongs to: refresh the sort hint.
        case = self.repo.get(event["package_id"])
        if case and event["image_id"] in (case.get("items") or {}).get(event["material_type"], []):
            ids = [i for ids in case["items"].values() for i in ids]
            self.repo.set_quality(case, domain.lowest_sharpness(
                self.repo.images.get_many(ids).values()))

    def _any_duplicate(self, package_id, images):
        case = self.repo.get(package_id) or {}
        returned = list(self.repo.images.get_many(case.get("returned_images") or {}).values())
        return any(similarity.flags(doc, self._near(doc), returned, lambda region, site: True)
                   for doc in images.values())

    def _near(self, doc):
        return self.repo.images.sharing_a_band(doc) if similarity.valid(doc.get("phash")) else []

    def _flag_matches(self, record):
        """A new image close to another candidate's flags both packages' cases."""
        matches = [other for other in self._near(record)
                   if similarity.flags(record, [other], [], lambda region, site: True)]
        if matches:
            self.repo.mark_duplicate({other["package_id"] for other in matches} | {record["package_id"]})

    def deleted(self, event):
        self.repo.images.mark_deleted(event["image_id"], {
            "package_id": event["package_id"], "candidate_id": event["candidate_id"],
            "material_type": event["material_type"]})
