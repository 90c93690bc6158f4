"""The system as `make run` starts it: one origin, four healthy services, demo data."""
import requests

from support import bearer


def test_one_origin_serves_the_page_every_health_check_and_a_signed_in_package(system):
    for name in ("auth", "materials", "review", "notify"):
        assert requests.get(f"{system.url}/healthz/{name}", timeout=5).status_code == 200
    page = requests.get(f"{system.url}/", timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    tokens = system.login("2026320400002")
    package = requests.get(f"{system.url}/api/v1/package", headers=bearer(tokens["access_token"]),
                           timeout=5)
    assert package.status_code == 200
    body = package.json()
    assert body["status"] == "draft" and body["upload_enabled"] is True
    assert body["candidate"]["site_name"] == "常州"


def test_auths_database_holds_no_password_or_hash_of_any_candidate_after_the_seed(system):
    """Candidates sign in at the registration system (DESIGN §1, §2): the seeded demo
    candidates, who sign in with Demo@2026 there, left no trace of it in auth."""
    from pymongo import MongoClient
    from dev.seed import DEMO_PASSWORD, demo_candidates
    system.login("2026320400001")  # a sign-in, too, leaves none
    client = MongoClient(system.mongo_uri)
    try:
        db = system.db(client, "auth")
        candidates = list(db.candidates.find())
        assert {c["_id"] for c in candidates} >= {r["registration_number"] for r in demo_candidates()}
        assert all(not {"password", "password_hash"} & set(c) for c in candidates)
        staff_hashes = {s["password_hash"] for s in db.staff.find()}
        for name in db.list_collection_names():
            if name == "staff":
                continue  # staff sign in here, with argon2 hashes of their own
            dump = "".join(str(doc) for doc in db[name].find())
            assert DEMO_PASSWORD not in dump and "$argon2" not in dump, name
            assert not any(h in dump for h in staff_hashes), name
    finally:
        client.close()
