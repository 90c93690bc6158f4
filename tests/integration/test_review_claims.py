"""Claims raced straight at the database: many reviewers, one guarded update each,
exactly one lease, and exactly one ReviewStarted in the outbox."""
import eventlet

from common import errors
from common.events import PackageSubmitted
from common.tokens import Principal
from services.review import domain
from services.review.cases import Reviews
from services.review.repository import CaseRepository
from services.review.settings import ReviewSettings

PKG = "2026320400001-2026"


def reviewer(n):
    return Principal(sub=f"staff:r{n}", role="reviewer", jti=str(n), exp=0, iat=0, region="32",
                     sites=("3204",))


def test_twenty_reviewers_claiming_at_once_leave_exactly_one_holder(config, mongo_client):
    db = mongo_client[config["MONGO"]["DB_PREFIX"] + "review"]
    repo = CaseRepository(db)
    event = PackageSubmitted(package_id=PKG, candidate_id="2026320400001", region="32", site="3204",
                             category="integrated_practitioner", attempt=1,
                             items=[{"material_type": "id_card", "image_ids": ["a" * 32]}]).to_payload()
    repo.apply_lifecycle(PKG, domain.lifecycle_key(1, event["occurred_at"]),
                         domain.submission(event, None), {"action": "submitted"})
    reviews = Reviews(repo, bucket=None, profiles=None, settings=ReviewSettings(lease_s=60),
                      caller={"client": "test", "via": None})

    def claim(n):
        try:
            return reviews.claim(reviewer(n), PKG)["claim"]["reviewer_id"]
        except (errors.Conflict, errors.InvalidTransition) as refusal:
            return type(refusal).__name__

    outcomes = list(eventlet.GreenPool(20).imap(claim, range(20)))
    winners = [o for o in outcomes if o.startswith("staff:")]
    assert len(winners) == 1 and outcomes.count("Conflict") == 19, outcomes
    case = db.cases.find_one({"_id": PKG})
    assert case["claimed_by"] == winners[0]
    assert [e["type"] for e in case["outbox"].values()] == ["ReviewStarted"]
    assert [a["actor"] for a in repo.audit.for_package(PKG)] == winners
