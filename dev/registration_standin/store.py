"""The stand-in registration system's own small store, in a MongoDB database of its own
(it never reads ours): candidate accounts, its one OAuth client (our `auth`), the
authorization codes it issued, its ID-token signing key, and the review outcomes it has
learnt (DESIGN §4a records).

Accounts keep the 报名号, the name and exam details the 报名信息 page shows, the ID number
only as a keyed hash (for signing in with it) and masked (for showing it), and the
password as a salted keyed SHA-256. That check is deliberately cheap: this is a stand-in
for an outside system, and benchmarks of ours must measure our system, not a password
hash in the stand-in (a real registration system keeps its own slow hash; ours keeps none).
"""
import hashlib
import hmac
import secrets
import time

from pymongo import ASCENDING, DESCENDING, MongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError

CODE_TTL_S = 300
OUTCOME_FIELDS = ("event_id", "sequence", "candidate_id", "package_id", "region", "site", "attempt",
                  "status", "occurred_at", "items", "respond_by", "reason")


class Store:
    def __init__(self, mongo_uri, database, secret_key):
        self.mongo = MongoClient(mongo_uri, serverSelectionTimeoutMS=3000, connectTimeoutMS=2000,
                                  timeoutMS=5000, tz_aware=True, appname="registration-standin")
        self.db = self.mongo[database]
        self._key = secret_key.encode()

    def create_indexes(self):
        self.db.accounts.create_index([("id_hash", ASCENDING)])
        self.db.codes.create_index([("nonce", ASCENDING)])
        self.db.outcomes.create_index([("candidate_id", ASCENDING), ("sequence", ASCENDING)])

    def close(self):
        self.mongo.close()

    # -- accounts ---------------------------------------------------------------------------
    def _id_hash(self, id_number):
        return hmac.new(self._key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _password_hash(salt, password):
        # Cheap on purpose (module docstring): a salted HMAC-SHA256, microseconds per check.
        return hmac.new(bytes.fromhex(salt), password.encode(), hashlib.sha256).hexdigest()

    def save_account(self, record, password):
        """Keep (or update) the account of an import record; the password as given."""
        salt = secrets.token_hex(16)
        id_number = str(record.get("id_number") or "")
        self.db.accounts.update_one({"_id": str(record["registration_number"])}, {"$set": {
            "name": str(record.get("name") or ""), "region": str(record.get("region") or ""),
            "site": str(record.get("site") or ""), "category": str(record.get("category") or ""),
            "exam_year": record.get("exam_year"), "id_hash": self._id_hash(id_number),
            "id_masked": f"{id_number[:4]}**********{id_number[-4:]}" if len(id_number) == 18 else "",
            "salt": salt, "password_hash": self._password_hash(salt, password),
            "updated_at": time.time()}}, upsert=True)

    def account(self, number):
        return self.db.accounts.find_one({"_id": number})

    def check_password(self, login, password):
        """The account signed in with 报名号 or ID number and its password, or None."""
        login = (login or "").strip().upper()
        account = self.account(login) or (
            self.db.accounts.find_one({"id_hash": self._id_hash(login)}) if len(login) == 18 else None)
        if account is None:
            return None
        expected = self._password_hash(account["salt"], password or "")
        return account if hmac.compare_digest(expected, account["password_hash"]) else None

    # -- OAuth clients ----------------------------------------------------------------------
    def save_client(self, client_id, secret, redirect_uris):
        self.db.clients.update_one({"_id": client_id}, {"$set": {
            "secret": secret, "redirect_uris": list(redirect_uris)}}, upsert=True)

    def allow_redirect(self, client_id, redirect_uri):
        self.db.clients.update_one({"_id": client_id}, {"$addToSet": {"redirect_uris": redirect_uri}})

    def client(self, client_id):
        return self.db.clients.find_one({"_id": client_id})

    # -- authorization codes -----------------------------------------------------------------
    def save_code(self, code, fields):
        self.db.codes.insert_one(dict(fields, _id=code, expires_at=time.time() + CODE_TTL_S))

    def take_code(self, code, client_id):
        """The code, removed in the same step: of two exchanges of one code only one gets it."""
        found = self.db.codes.find_one_and_delete({"_id": code, "client_id": client_id})
        return found if found and found["expires_at"] > time.time() else None

    def nonce_used(self, client_id, nonce):
        return self.db.codes.find_one({"client_id": client_id, "nonce": nonce}) is not None or \
            self.db.used_nonces.find_one({"_id": f"{client_id}|{nonce}"}) is not None

    def spend_nonce(self, client_id, nonce):
        try:
            self.db.used_nonces.insert_one({"_id": f"{client_id}|{nonce}", "at": time.time()})
        except DuplicateKeyError:
            pass

    # -- the ID-token signing key -------------------------------------------------------------
    def signing_key(self, make):
        """The private JWK (a dict), made with `make()` the first time; two first starts agree."""
        found = self.db.keys.find_one({"_id": "id-token"})
        if found is None:
            try:
                self.db.keys.insert_one({"_id": "id-token", "jwk": make()})
            except DuplicateKeyError:
                pass
            found = self.db.keys.find_one({"_id": "id-token"})
        return found["jwk"]

    # -- review outcomes (DESIGN §4a) -----------------------------------------------------------
    def record_outcome(self, record):
        """Keep one outcome record; the same `event_id` again changes nothing."""
        doc = {field: record.get(field) for field in OUTCOME_FIELDS if record.get(field) is not None}
        self.db.outcomes.find_one_and_update({"_id": str(record["event_id"])}, {"$setOnInsert": doc},
                                             upsert=True, return_document=ReturnDocument.AFTER)

    # -- its own settings: the feed's cursor, the webhook secret ---------------------------------
    def setting(self, name):
        found = self.db.settings.find_one({"_id": name})
        return found["value"] if found else None

    def set_setting(self, name, value):
        self.db.settings.update_one({"_id": name}, {"$set": {"value": value}}, upsert=True)

    def outcomes_of(self, candidate_id, limit=50):
        return list(self.db.outcomes.find({"candidate_id": candidate_id})
                    .sort("sequence", DESCENDING).limit(limit))
