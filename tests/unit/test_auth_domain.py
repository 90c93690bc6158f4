"""Auth rules, pure."""
import pytest

from services.auth import domain
from support import candidate


def test_a_valid_record_parses_with_an_uppercased_id_number():
    raw = candidate("2026320400001")
    record = domain.parse_record(dict(raw, id_number=raw["id_number"].lower()))
    assert record.id_number == raw["id_number"].upper()
    assert record.site == "3204" and record.exam_year == 2026


@pytest.mark.parametrize("field, value", [
    ("id_number", "11010519491231002Y"), ("id_number", "110105194912310021"),
    ("phone", "2380000001"), ("region", "11"),
    ("category", "astronaut"), ("registration_number", "abc"), ("exam_year", "26"),
    ("name", ""),
])
def test_a_record_with_a_bad_field_is_refused(field, value):
    with pytest.raises(domain.RecordInvalid):
        domain.parse_record(candidate("2026320400001", **{field: value}))


def test_every_error_of_a_record_is_named_not_only_the_first():
    with pytest.raises(domain.RecordInvalid) as refused:
        domain.parse_record(candidate("2026320400001", phone="123", region="1", exam_year="26"))
    assert refused.value.messages == ["手机号格式错误", "考区代码格式错误", "考点代码格式错误", "考试年度错误"]
    assert str(refused.value) == "手机号格式错误；考区代码格式错误；考点代码格式错误；考试年度错误"


def test_a_category_may_be_written_by_the_name_the_catalogue_uses():
    record = domain.parse_record(candidate("2026320400001", category="中西医结合执业医师"))
    assert record.category == "integrated_practitioner"
    assert domain.parse_record(candidate("2026320400001", category=" 口腔执业助理医师 ")).category == "dental_assistant"


def test_an_unknown_category_is_refused_with_the_accepted_names_and_codes():
    with pytest.raises(domain.RecordInvalid) as refused:
        domain.parse_record(candidate("2026320400001", category="中西医结合医师"))
    message = str(refused.value)
    assert message.startswith("考试类别未知：中西医结合医师")
    assert "中西医结合执业医师（integrated_practitioner）" in message and "公共卫生执业助理医师" in message


@pytest.mark.parametrize("field, value", [("password", "Demo@2026"), ("password_hash", "$argon2id$v=19$x"),
                                          ("password", 12345678)])
def test_a_record_carrying_a_password_or_its_hash_is_refused_whole(field, value):
    with pytest.raises(domain.RecordInvalid) as refused:
        domain.parse_record(candidate("2026320400001", **{field: value}))
    assert str(refused.value) == domain.PASSWORD_REFUSED


def test_a_record_without_any_password_parses_and_keeps_none():
    record = domain.parse_record(candidate("2026320400001", password=""))  # an empty column: nothing carried
    assert not hasattr(record, "password") and not hasattr(record, "password_hash")


NOW = 1_800_000_000


def claims(**overrides):
    return dict({"iss": "https://op", "aud": "exam-upload", "sub": "2026320400001", "nonce": "n-1",
                 "iat": NOW - 5, "exp": NOW + 300}, **overrides)


@pytest.mark.parametrize("overrides, problem", [
    ({}, None),
    ({"nonce": "n-2"}, "nonce"), ({"nonce": None}, "nonce"),
    ({"iat": NOW - 3600}, "iat"), ({"iat": NOW + 3600}, "iat"), ({"iat": "yesterday"}, "iat"),
    ({"aud": ["exam-upload", "other"]}, "azp"), ({"aud": ["exam-upload", "other"], "azp": "exam-upload"}, None),
    ({"sub": "someone@example"}, "sub"), ({"sub": 2026320400001}, "sub"),
])
def test_an_id_token_signs_in_only_with_our_nonce_a_fresh_iat_our_azp_and_a_registration_number(
        overrides, problem):
    assert domain.id_token_problem(claims(**overrides), "n-1", "exam-upload", NOW) == problem


def test_only_a_refused_consent_reaches_the_page_as_such():
    assert domain.provider_error("access_denied") == "access_denied"
    assert domain.provider_error("temporarily_unavailable") == "server_error"
    assert domain.provider_error("<script>") == "server_error"


def test_the_id_check_character_follows_gb_11643():
    assert domain.valid_id_number("11010519491231002X")
    assert not domain.valid_id_number("110105194912310021")


def test_profile_changes_name_only_the_fields_that_changed():
    stored = {"region": "32", "site": "3204", "category": "integrated_practitioner",
              "phone": {"hash": "h1"}}
    record = domain.parse_record(candidate("2026320400001", site="3201"))
    assert domain.changed_profile_fields(stored, record, "h1") == ["site"]
    assert domain.changed_profile_fields(stored, record, "h2") == ["site", "phone"]


def test_pkce_s256_matches_the_rfc_7636_example():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert domain.s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert domain.pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert not domain.pkce_matches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


def test_throttling_starts_at_five_per_account_or_twenty_per_address():
    assert not domain.throttled(4, 19)
    assert domain.throttled(5, 0) and domain.throttled(0, 20)


@pytest.mark.parametrize("role, region, sites, ok", [
    ("reviewer", "32", ["3204"], True), ("reviewer", "32", ["*"], True),
    ("reviewer", "32", ["1101"], False), ("reviewer", "32", [], False),
    ("admin", "*", [], True), ("admin", "32", [], True), ("admin", "", [], False),
    ("root", "32", [], False),
])
def test_staff_scopes_are_checked(role, region, sites, ok):
    if ok:
        domain.validate_staff_scope(role, region, sites)
    else:
        with pytest.raises(domain.RecordInvalid):
            domain.validate_staff_scope(role, region, sites)


PKCE_REQUEST = {"response_type": "code", "code_challenge_method": "S256",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}


def test_a_code_request_with_an_s256_challenge_is_one_the_client_need_not_be_told_of():
    assert domain.request_error(PKCE_REQUEST) is None


@pytest.mark.parametrize("change, told", [
    ({"response_type": "token"}, ("unsupported_response_type", None)),
    ({"code_challenge_method": "plain"}, ("invalid_request", "PKCE S256 required")),
    ({"code_challenge": ""}, ("invalid_request", "PKCE S256 required")),
    ({"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"}, ("invalid_request", "PKCE S256 required")),
])
def test_an_authorization_request_without_the_code_flow_or_pkce_s256_is_told_why(change, told):
    assert domain.request_error(dict(PKCE_REQUEST, **change)) == told


def test_the_staff_forms_csrf_token_must_be_its_cookies_and_any_text_is_compared_safely():
    assert domain.csrf_matches("tok-en_1", "tok-en_1")
    assert not domain.csrf_matches("tok-en_1", "tok-en_2")
    assert not domain.csrf_matches("", "") and not domain.csrf_matches(None, "x")
    assert not domain.csrf_matches("tok-en_1", None)
    assert not domain.csrf_matches("tok-en_1", "令牌")  # non-ASCII text: refused, never a 500
