"""The `auth` database: candidates (profiles, no passwords), staff, codes, federated
sign-in flows, refresh tokens, revocations, failures.

Every write that must not happen twice is one guarded single-document update."""
import time
import uuid

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from common import outbox, ratelimit
from common.ratelimit import RateLimit
from services.auth import domain, migrations

FAILURE_LIMITS = {"account": domain.ACCOUNT_FAILURE_LIMIT, "address": domain.ADDRESS_FAILURE_LIMIT}


class DuplicateIdNumber(Exception):
    pass


class AuthRepository:
    def __init__(self, db):
        self.db = db

    @staticmethod
    def create_indexes(db):
        db.candidates.create_index([("id_number.hash", ASCENDING)], unique=True)
        db.candidates.create_index([("outbox_pending", ASCENDING)])
        db.refresh_tokens.create_index([("family", ASCENDING)])
        db.refresh_tokens.create_index([("sub", ASCENDING)])
        db.revocations.create_index([("at", ASCENDING)])
        db.login_failures.create_index([("expires_at", ASCENDING)])
        db.auth_codes.create_index([("expires_at", ASCENDING)])
        db.federation_flows.create_index([("expires_at", ASCENDING)])
        migrations.apply(db)  # after the indexes: candidates' password hashes from before federation

    # -- candidates ----------------------------------------------------------------------
    def get_candidate(self, candidate_id):
        return self.db.candidates.find_one({"_id": candidate_id})

    def get_candidates(self, candidate_ids, batch=500):
        """{candidate_id: document} for those that exist."""
        found = {}
        for start in range(0, len(candidate_ids), batch):
            for doc in self.db.candidates.find({"_id": {"$in": candidate_ids[start:start + batch]}}):
                found[doc["_id"]] = doc
        return found

    def find_candidate_by_id_hash(self, id_hash):
        return self.db.candidates.find_one({"id_number.hash": id_hash})

    def insert_candidate(self, doc):
        try:
            self.db.candidates.insert_one(doc)
            return True
        except DuplicateKeyError as exc:
            if "id_number" in str(exc):
                raise DuplicateIdNumber() from None
            return False  # created meanwhile by a concurrent import; caller re-reads

    def update_candidate(self, stored, changes, events):
        """Apply `changes` only if the profile is still what `stored` says (else False)."""
        guard = {"_id": stored["_id"], "region": stored["region"], "site": stored["site"],
                 "category": stored["category"], "phone.hash": stored["phone"]["hash"]}
        update = outbox.record(events, {"$set": dict(changes, updated_at=time.time())})
        if not update["$inc"]["outbox_n"]:
            del update["$inc"]
        try:
            return self.db.candidates.update_one(guard, update).modified_count == 1
        except DuplicateKeyError:
            raise DuplicateIdNumber() from None

    # -- staff ---------------------------------------------------------------------------
    def get_staff(self, username):
        return self.db.staff.find_one({"_id": username})

    def save_staff(self, username, fields):
        self.db.staff.update_one({"_id": username}, {"$set": fields}, upsert=True)

    def use_otp_step(self, username, step):
        """Record `step` as used; False if it (or a later one) was used before: a replay."""
        return self.db.staff.update_one({"_id": username, "otp.last_step": {"$lt": step}},
                                        {"$set": {"otp.last_step": step}}).modified_count == 1

    def use_recovery_code(self, username, code_hash):
        """Spend a recovery code; False if there is no such unused code."""
        return self.db.staff.update_one({"_id": username, f"otp.recovery.{code_hash}": True},
                                        {"$unset": {f"otp.recovery.{code_hash}": ""}}).modified_count == 1

    def list_staff(self):
        return list(self.db.staff.find({}, {"password_hash": 0, "otp.secret": 0, "otp.recovery": 0})
                    .sort("_id", ASCENDING))

    # -- authorization codes ---------------------------------------------------------------
    def save_code(self, code_hash, grant):
        self.db.auth_codes.insert_one(dict(grant, _id=code_hash, used=False))

    def redeem_code(self, code_hash, now):
        """Mark the code used; returns it if this call was the one that used it."""
        return self.db.auth_codes.find_one_and_update(
            {"_id": code_hash, "used": False}, {"$set": {"used": True, "used_at": now}},
            return_document=ReturnDocument.BEFORE)

    def get_code(self, code_hash):
        return self.db.auth_codes.find_one({"_id": code_hash})

    def purge_codes(self, before):
        self.db.auth_codes.delete_many({"expires_at": {"$lt": before}})

    # -- federated sign-in flows (authority/federation.py) ------------------------------------
    def save_flow(self, state_hash, flow):
        self.db.federation_flows.insert_one(dict(flow, _id=state_hash, used=False))

    def use_flow(self, state_hash, now):
        """The flow, marked answered; None if there is none or it was answered before."""
        return self.db.federation_flows.find_one_and_update(
            {"_id": state_hash, "used": False}, {"$set": {"used": True, "used_at": now}},
            return_document=ReturnDocument.BEFORE)

    def purge_flows(self, before):
        self.db.federation_flows.delete_many({"expires_at": {"$lt": before}})

    # -- refresh tokens --------------------------------------------------------------------
    def save_refresh(self, token_hash, record):
        self.db.refresh_tokens.insert_one(dict(record, _id=token_hash, used=False))

    def use_refresh(self, token_hash, now):
        return self.db.refresh_tokens.find_one_and_update(
            {"_id": token_hash, "used": False}, {"$set": {"used": True, "used_at": now}},
            return_document=ReturnDocument.BEFORE)

    def get_refresh(self, token_hash):
        return self.db.refresh_tokens.find_one({"_id": token_hash})

    def drop_refresh_family(self, family):
        self.db.refresh_tokens.delete_many({"family": family})

    def drop_refresh_of_subject(self, sub):
        self.db.refresh_tokens.delete_many({"sub": sub})

    # -- revocations -----------------------------------------------------------------------
    def revoke(self, *, expires_at, jti=None, sub=None, issued_before=None):
        entry = {"_id": uuid.uuid4().hex, "at": time.time(), "expires_at": expires_at}
        if jti:
            entry["jti"] = jti
        if sub:
            entry["sub"] = sub
            entry["issued_before"] = issued_before
        self.db.revocations.insert_one(entry)

    def revocations_since(self, since, now):
        cursor = self.db.revocations.find(
            {"at": {"$gte": since}, "expires_at": {"$gt": now}}, {"_id": 0})
        return list(cursor)

    # -- failed sign-ins (shared by every instance: common/ratelimit.py) -------------------
    def _failures(self, field):
        """Failures per account or per address, at most its limit in FAILURE_WINDOW_S."""
        return RateLimit(self.db.login_failures, FAILURE_LIMITS[field], domain.FAILURE_WINDOW_S)

    def add_failure(self, account, address, now):
        for field, value in (("account", account), ("address", address)):
            if value is not None:
                self._failures(field).take(f"{field}:{value}", now)

    def count_failures(self, field, value, since):
        if value is None:
            return 0
        return self._failures(field).count(f"{field}:{value}", since)

    def clear_failures(self, account):
        self._failures("account").clear(f"account:{account}")

    def purge_failures(self, before):
        ratelimit.purge(self.db.login_failures, before + domain.FAILURE_WINDOW_S)
        # one document per failure, as they were kept before the shared limit (issue 30)
        self.db.login_failures.delete_many({"at": {"$lt": before}})
