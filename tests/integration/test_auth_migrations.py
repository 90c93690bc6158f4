"""Candidate password hashes kept from before federated sign-in are removed once, when
auth starts (services/auth/migrations.py), against the real MongoDB-wire server."""
from services.auth import migrations
from services.auth.service import AuthService
from support import candidate, create_candidates, login, wait_for

OLD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"


def old_candidate(number):
    """A candidate as stored while candidates signed in here (ID number and phone sealed)."""
    return {"_id": number, "name": "旧考生", "region": "32", "site": "3204", "category": "integrated_practitioner",
            "exam_year": 2026, "id_number": {"hash": f"id-{number}", "masked": "3204**********0011"},
            "phone": {"hash": f"phone-{number}", "masked": "138****0011"}, "password_hash": OLD_HASH}


def test_auth_removes_stored_candidate_password_hashes_once_at_start(config, mongo_client, start_service, registration_standin):
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "auth"]
    db.candidates.insert_many([old_candidate("2026320400821"), old_candidate("2026320400822")])
    db.staff.insert_one({"_id": "reviewer.m", "password_hash": OLD_HASH, "role": "reviewer"})
    url = start_service(AuthService)
    wait_for(lambda: db.migrations.find_one({"_id": migrations.CANDIDATE_PASSWORDS}), timeout=20,
             message="the migration finished")
    assert db.candidates.count_documents({"password_hash": {"$exists": True}}) == 0
    assert db.candidates.count_documents({}) == 2  # the profiles stay
    assert db.staff.find_one({"_id": "reviewer.m"})["password_hash"] == OLD_HASH  # staff keep theirs
    assert db.migrations.find_one({"_id": migrations.CANDIDATE_PASSWORDS})["changed"] == 2
    # done once: a hash written afterwards (it cannot be, but say it were) is not looked for again
    db.candidates.update_one({"_id": "2026320400821"}, {"$set": {"password_hash": OLD_HASH}})
    migrations.apply(db)
    assert db.candidates.count_documents({"password_hash": {"$exists": True}}) == 1
    # and candidates imported since sign in through the registration system
    create_candidates(registration_standin, [candidate("2026320400823", serial=823)])
    assert login(url, "2026320400823")["access_token"]
