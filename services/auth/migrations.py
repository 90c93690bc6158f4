"""One-off data changes auth applies at start, after its indexes (AuthRepository.
create_indexes), as review's do (services/review/migrations.py): each touches only the
documents that need it and records that it finished, so later starts skip it at the cost
of one read. Running one twice, or two replicas at once, changes nothing more."""
from common.clock import utcnow_iso

CANDIDATE_PASSWORDS = "candidate_passwords_removed_v1"


def apply(db):
    if db.migrations.find_one({"_id": CANDIDATE_PASSWORDS}) is None:
        removed = remove_candidate_passwords(db)
        db.migrations.update_one({"_id": CANDIDATE_PASSWORDS},
                                 {"$set": {"done_at": utcnow_iso(), "changed": removed}}, upsert=True)


def remove_candidate_passwords(db):
    """Candidates sign in at the registration system now (DESIGN §4 Auth): drop every
    candidate password hash kept from the time they signed in here; returns how many."""
    return db.candidates.update_many({"password_hash": {"$exists": True}},
                                     {"$unset": {"password_hash": ""}}).modified_count
