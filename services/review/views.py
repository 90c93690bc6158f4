"""What reviewers are shown, built from case documents (pure).

No view carries an unmasked ID or phone number: the candidate snapshot only ever holds
the masked forms auth hands out."""
from services.review import domain
from services.review.idcheck import idcard

SNAPSHOT_FIELDS = ("name", "id_number_masked", "phone_masked", "region", "site", "category",
                   "exam_year")


def snapshot(profile):
    """The part of auth's profile a case keeps (masked numbers only)."""
    return {key: profile.get(key) for key in SNAPSHOT_FIELDS} if profile else None


def claim(case, now):
    if not domain.lease_live(case, now):
        return None
    return {"reviewer_id": case["claimed_by"], "claimed_at": case.get("claimed_at"),
            "lease_until": domain.iso(case["lease_until"])}


def queue_item(case, now, id_check=None):
    return {
        "package_id": case["_id"], "candidate_id": case["candidate_id"],
        "name": (case.get("candidate") or {}).get("name"), "region": case["region"],
        "site": case["site"], "category": case.get("category"), "attempt": case["attempt"],
        "status": domain.shown_status(case, now), "submitted_at": case.get("submitted_at"),
        "quality": case.get("quality"), "flags": domain.queue_flags(case),
        **names(case, now),
        "images": sum(len(ids) for ids in (case.get("items") or {}).values()),
        "claim": claim(case, now),
        "id_check": id_check, "id_flags": idcard.flags(id_check),
    }


def case(doc, now, images=None, previous=None, id_check=None, checklists=None):
    """The case; with `images` ({image_id: image view}) each item lists its images in
    full, otherwise by id only (a claim answers without issuing image URLs). `previous`:
    the last return before this attempt (reasons then, the images returned)."""
    items = []
    for material_type, image_ids in sorted((doc.get("items") or {}).items()):
        if images is None:
            shown = [{"image_id": image_id} for image_id in image_ids]
        else:
            shown = sorted((images[i] for i in image_ids if i in images),
                           key=lambda image: image.get("uploaded_at") or "")
        items.append({"material_type": material_type, "images": shown})
    return {
        "package_id": doc["_id"], "candidate_id": doc["candidate_id"], "attempt": doc["attempt"],
        "status": domain.shown_status(doc, now), "region": doc["region"], "site": doc["site"],
        "category": doc.get("category"), "submitted_at": doc.get("submitted_at"),
        "claim": claim(doc, now), "decision": doc.get("decision"),
        "candidate": doc.get("candidate"), "items": items,
        "history": [named_action(line) for line in doc.get("history", [])],
        "flags": domain.queue_flags(doc), "previous": previous, **names(doc, now),
        "notes": doc.get("notes") or [],  # reviewers' internal notes, for staff only
        # the region's checks per material type, to tick while reviewing
        "checklists": checklists or {},
        # the ID card cross-check: verdicts and their flags, hints that decide nothing
        "id_check": id_check, "id_flags": idcard.flags(id_check),
    }


def image(doc, url, expires_at, duplicates):
    return {
        "image_id": doc["_id"], "url": url, "url_expires_at": expires_at if url else None,
        "format": doc.get("format"), "bytes": doc.get("bytes"), "width": doc.get("width"),
        "height": doc.get("height"), "sharpness": doc.get("sharpness"),
        "sha256": doc.get("sha256"), "uploaded_at": doc.get("uploaded_at"),
        "duplicate": bool(duplicates), "duplicates": duplicates,
        # a returned image the candidate has since deleted (materials keeps it until decided)
        "deleted_by_candidate": bool(doc.get("deleted")),
    }


def missing_image(image_id):
    """An image whose metadata has not arrived yet: no key, so no URL either."""
    return {"image_id": image_id, "url": None, "url_expires_at": None, "duplicate": False,
            "duplicates": [], "pending_metadata": True}


def audit_entry(entry):
    return named_action({key: entry.get(key) for key in
                         ("at", "actor", "role", "action", "outcome", "package_id", "attempt",
                          "client", "via", "details")})


# -- names for people, sent with the codes (the staff page and the CLI keep no copy) ----------
def names(case, now):
    """The case's status and queue flags as reviewers read them."""
    status = domain.shown_status(case, now)
    return {"status_name": domain.STATUS_NAMES.get(status, status),
            "flag_names": [domain.FLAG_NAMES[flag] for flag in domain.queue_flags(case)]}


def named_action(line):
    """A history line or audit entry with its action's name."""
    return dict(line, action_name=domain.ACTION_NAMES.get(line.get("action"), line.get("action")))


def labels():
    """Every name the staff tools show for review's codes: statuses, queue flags, the
    attempt filter's values and actions (for lists that come with no data, such as filters)."""
    return {"statuses": domain.STATUS_NAMES, "flags": domain.FLAG_NAMES,
            "attempts": domain.ATTEMPT_NAMES, "actions": domain.ACTION_NAMES}


def reasons():
    return [{"code": code, "label": label, "explanation": text}
            for code, (label, text) in domain.REASONS.items()]
