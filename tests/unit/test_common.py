"""Shared building blocks, pure: errors, events, masking, token decoding."""
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from common import errors, events, tokens, web
from common.logs import mask_text
from common.privacy import mask_id_number, mask_phone


def test_http_flavoured_errors_cross_rpc_as_their_design_kind():
    mapped = errors.for_rpc(errors.SlotFull())
    assert type(mapped) is errors.Conflict and mapped.details["code"] == "slot_full"
    assert type(errors.for_rpc(errors.PackageLocked())) is errors.InvalidTransition
    assert type(errors.for_rpc(errors.Forbidden())) is errors.Forbidden


def test_an_outage_crosses_rpc_as_unavailable_never_as_a_conflict():
    assert type(errors.for_rpc(errors.Unavailable())) is errors.Unavailable
    assert type(errors.for_rpc(errors.RateLimited())) is errors.Unavailable


def test_every_design_code_has_its_status():
    expected = {"unauthenticated": 401, "forbidden": 403, "upload_disabled": 403,
                "upload_closed": 403, "consent_required": 403, "not_found": 404,
                "package_locked": 409, "item_locked": 409, "slot_full": 409,
                "file_too_large": 413, "unsupported_format": 415, "image_corrupt": 422,
                "image_rotated": 422, "image_too_small": 422, "image_unclear": 422,
                "missing_materials": 422, "rate_limited": 429}
    for code, status in expected.items():
        error = errors.HTTP_CODES[code]()
        assert error.status == status and error.to_body()["error"]["code"] == code
        assert error.message  # a Chinese sentence for the candidate


def test_refusals_worth_retrying_tell_the_client_when_and_others_do_not():
    limited = web.error_response(errors.RateLimited("上传过于频繁，请稍后再试", retry_after=12.2))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "13"
    assert web.error_response(errors.Unavailable()).headers["Retry-After"] == "5"
    assert "Retry-After" not in web.error_response(errors.SlotFull()).headers
    # A window about to end still asks for at least a second.
    assert errors.RateLimited(retry_after=0.01).retry_after == 1


def test_an_event_carries_its_envelope_and_validates():
    payload = events.MaterialDeleted(package_id="p", candidate_id="c", material_type="other",
                                     image_id="i").to_payload()
    assert payload["version"] == 1 and len(payload["event_id"]) == 32
    assert payload["occurred_at"].endswith("Z")
    assert events.validate("MaterialDeleted", payload) is payload


def test_an_event_missing_a_field_or_carrying_a_phone_is_invalid():
    payload = events.MaterialDeleted(package_id="p", candidate_id="c", material_type="other",
                                     image_id="i").to_payload()
    with pytest.raises(events.InvalidEvent):
        events.validate("MaterialDeleted", {k: v for k, v in payload.items() if k != "image_id"})
    with pytest.raises(events.InvalidEvent):
        events.validate("MaterialDeleted", dict(payload, phone="13800000001"))
    with pytest.raises(events.InvalidEvent):
        events.validate("NoSuchEvent", payload)


def test_masks_keep_only_the_ends():
    assert mask_id_number("320402199001011234") == "3204**********1234"
    assert mask_phone("13800000001") == "138****0001"
    assert mask_text("tel 13800000001 id 32040219900101123X reg 2026320400001") == \
        "tel 138****0001 id 3204**********123X reg 2026320400001"


@pytest.fixture
def key():
    return ec.generate_private_key(ec.SECP256R1())


def sign(key, claims, kid="k1", algorithm="ES256"):
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def claims(**changes):
    now = int(time.time())
    body = {"iss": "iss", "aud": "aud", "exp": now + 60, "iat": now, "jti": "j1", "sub": "s1",
            "role": "reviewer", "region": "32", "sites": ["3204"]}
    body.update(changes)
    return body


def keyset(key):
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return tokens.KeySet({"keys": [dict(jwk, kid="k1", alg="ES256")]})


def test_a_good_token_decodes_to_its_principal(key):
    principal = tokens.decode(sign(key, claims()), keyset(key), "iss", "aud")
    assert (principal.sub, principal.role, principal.sites) == ("s1", "reviewer", ("3204",))
    assert principal.covers("32", "3204") and not principal.covers("32", "3201")


@pytest.mark.parametrize("mutate", [
    lambda key: sign(key, claims(exp=int(time.time()) - 60)),
    lambda key: sign(key, claims(aud="other")),
    lambda key: sign(key, claims(role="root")),
    lambda key: sign(key, {k: v for k, v in claims().items() if k != "jti"}),
    lambda key: sign(key, claims(), kid="unknown"),
    lambda key: jwt.encode(claims(), None, algorithm="none"),
    lambda key: sign(ec.generate_private_key(ec.SECP256R1()), claims()),
    lambda key: "not-a-token",
])
def test_flawed_tokens_are_unauthenticated(key, mutate):
    with pytest.raises(errors.Unauthenticated):
        tokens.decode(mutate(key), keyset(key), "iss", "aud")


def test_revoked_tokens_and_subjects_are_refused(key):
    revoked = tokens.RevocationSet()
    token = sign(key, claims())
    tokens.decode(token, keyset(key), "iss", "aud", revoked)
    revoked.add({"jti": "j1", "expires_at": time.time() + 60})
    with pytest.raises(errors.Unauthenticated):
        tokens.decode(token, keyset(key), "iss", "aud", revoked)
    fresh = tokens.RevocationSet()
    fresh.add({"sub": "s1", "issued_before": time.time() + 1, "expires_at": time.time() + 60})
    with pytest.raises(errors.Unauthenticated):
        tokens.decode(token, keyset(key), "iss", "aud", fresh)


def test_a_token_issued_in_the_same_second_just_after_a_revocation_is_good(key):
    from services.auth import domain as auth_domain
    revoked_at = int(time.time()) - 1 + 0.400  # a second ago, .4 into that second
    revoked = tokens.RevocationSet()
    revoked.add({"sub": "s1", "issued_before": revoked_at, "expires_at": revoked_at + 60})
    body = lambda at: auth_domain.claims(sub="s1", role="reviewer", issuer="iss", audience="aud",  # noqa: E731
                                         now=at, ttl=60, region="32", sites=["3204"])
    assert tokens.decode(sign(key, body(revoked_at + 0.002)), keyset(key), "iss", "aud", revoked).sub == "s1"
    for before in (revoked_at - 0.0004, revoked_at - 0.3):
        with pytest.raises(errors.Unauthenticated):
            tokens.decode(sign(key, body(before)), keyset(key), "iss", "aud", revoked)


def test_a_verifier_that_never_heard_from_auth_says_unavailable_not_unauthenticated():
    with pytest.raises(errors.Unavailable):
        tokens.TokenState("iss", "aud").verify("anything")


def test_region_reviewers_and_national_admins_cover_what_they_should():
    region_reviewer = tokens.Principal(sub="r", role="reviewer", jti="j", exp=0, iat=0,
                                       region="32", sites=("*",))
    national = tokens.Principal(sub="a", role="admin", jti="j", exp=0, iat=0, region="*")
    candidate = tokens.Principal(sub="c", role="candidate", jti="j", exp=0, iat=0, region="32",
                                 sites=("3204",))
    assert region_reviewer.covers("32", "3201") and not region_reviewer.covers("11", "1101")
    assert national.covers("11", "1101")
    assert not candidate.covers("32", "3204")


def test_a_staff_members_area_filters_to_what_they_cover():
    def staff(role, region, *sites):
        return tokens.Principal(sub="s", role=role, jti="j", exp=0, iat=0, region=region, sites=sites)

    assert staff("admin", "*").area() == {}
    assert staff("reviewer", "32", "*").area() == {"region": "32"}
    assert staff("admin", "32").area() == {"region": "32"}  # an administrator named no sites
    assert staff("admin", "32", "3201").area() == {"region": "32", "site": {"$in": ["3201"]}}
    assert staff("reviewer", "32", "3204", "3201").area() == {"region": "32", "site": {"$in": ["3204", "3201"]}}


def test_recording_events_adds_entries_and_raises_the_pending_flag_the_relay_finds_work_by():
    from common import outbox
    deleted = [events.MaterialDeleted(package_id="p", candidate_id="c", material_type="other",
                                      image_id=str(n)) for n in range(2)]
    update = outbox.record(deleted, {"$set": {"status": "draft"}})
    assert update["$inc"]["outbox_n"] == 2 and update["$set"][outbox.PENDING] is True
    assert {f"outbox.{e.event_id}" for e in deleted} <= set(update["$set"])
    assert outbox.pending_filter(0)[outbox.PENDING] is True
    assert outbox.PENDING not in outbox.record([], {"$set": {"status": "draft"}})["$set"]


def test_the_config_file_keeps_no_usable_secret():
    """Every secret's default in config.yaml is empty: locally dev/secrets.py makes them at
    random, production injects them (README, "Secrets"). (The SMS stand-in's demo credentials reach
    no real provider.)"""
    import re
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "config.yaml").read_text()
    for variable in ("SERVICE_CLIENT_SECRET", "PII_ENCRYPTION_KEY", "PII_HASH_KEY", "S3_SECRET_KEY",
                     "S3_READ_SECRET_KEY", "REGISTRATION_SYSTEM_SECRET"):
        default = re.search(r"\$\{%s:([^}]*)\}" % variable, text).group(1)
        assert default == "", (variable, default)


def test_the_same_picture_is_the_same_bytes_or_both_hashes_close_and_nothing_on_a_missing_hash():
    from common import phash
    image = {"sha256": "a" * 64, "phash": "0" * 16, "dhash": "0" * 64}
    assert phash.same_picture(image, dict(image))
    assert phash.same_picture(image, {"sha256": "a" * 64})                     # the very bytes
    copy = {"sha256": "b" * 64, "phash": "0" * 15 + "f", "dhash": "0" * 60 + "ffff"}   # 4 and 16 bits
    assert phash.same_picture(image, copy) and phash.same_picture(copy, image)
    another_page = dict(copy, dhash="0" * 59 + "1ffff")                        # 17 bits apart in detail
    assert not phash.same_picture(image, another_page)
    another_layout = dict(copy, phash="0" * 14 + "ff")                        # 8 bits apart overall
    assert not phash.same_picture(image, another_layout)
    assert not phash.same_picture(image, {"sha256": "b" * 64, "phash": "0" * 16})  # no detail: bytes only
    assert not phash.same_picture({"sha256": ""}, {"sha256": ""})
    assert phash.valid_detail("0" * 64) and not phash.valid_detail("0" * 16) and not phash.valid_detail(None)


def test_the_phash_distance_counts_differing_bits_and_the_format_is_sixteen_hex_digits():
    from common import phash
    assert phash.distance("0" * 16, "0" * 16) == 0
    assert phash.distance("0" * 16, "f" * 16) == 64
    assert phash.distance("00000000000000ff", "000000000000000f") == 4
    assert phash.valid("0123456789abcdef")
    assert not phash.valid("0123456789ABCDEF") and not phash.valid("123") and not phash.valid(None)


def test_config_substitutes_the_environment_and_leaves_yaml_safe_load_alone(tmp_path, monkeypatch):
    import yaml
    from common.config import load_config
    monkeypatch.setenv("EXAM_TEST_SETTING", "from-env")
    path = tmp_path / "config.yaml"
    path.write_text("A: ${EXAM_TEST_SETTING:default}\nB: ${EXAM_TEST_UNSET:7}\n")
    assert load_config(str(path)) == {"A": "from-env", "B": 7}
    assert yaml.safe_load(path.read_text()) == {"A": "${EXAM_TEST_SETTING:default}", "B": "${EXAM_TEST_UNSET:7}"}


def test_nameko_rpc_logs_no_reply_bodies_even_when_the_root_logs_debug():
    """Reply bodies are logged at DEBUG and some carry a phone (auth.get_contact)."""
    import logging
    import common.rpc  # noqa: F401 (every service imports it; it sets the level)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        assert not logging.getLogger("nameko.rpc").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("nameko.rpc").isEnabledFor(logging.INFO)
    finally:
        root.setLevel(level)
