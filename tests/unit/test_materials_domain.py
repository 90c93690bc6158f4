"""Materials rules, pure: requirements, region rules, refusals, reopening, the view."""
from datetime import datetime, timedelta, timezone

import pytest

from common import errors
from services.materials import domain

CATALOGUE = domain.Catalogue.load()
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=timezone.utc)


def rules(**changes):
    base = dict(region="32", version=1, name="江苏", upload_enabled=True,
                window_start=(NOW - timedelta(days=1)).isoformat(),
                window_end=(NOW + timedelta(days=1)).isoformat(), sites={"3204": "常州"})
    base.update(changes)
    return domain.RegionRules(**base)


def package(status="draft", category="integrated_practitioner", region_rules=None):
    profile = {"candidate_id": "2026320400001", "exam_year": 2026, "name": "考生",
               "region": "32", "site": "3204", "category": category}
    doc = domain.new_package(profile, region_rules or rules(), CATALOGUE, NOW)
    doc["status"] = status
    return doc


def test_the_national_default_requires_four_types_with_their_counts():
    needs = rules().requirements(CATALOGUE, "integrated_practitioner")
    required = {code: (n["min"], n["max"]) for code, n in needs.items() if n["required"]}
    assert required == {"id_card": (2, 2), "degree_certificate": (1, 3),
                        "probation_certificate": (1, 3), "registration_form": (1, 4)}
    assert needs["other"] == {"required": False, "min": 0, "max": 10}


def test_a_region_may_require_more_and_an_optional_type_then_needs_one():
    strict = rules(categories={"integrated_practitioner": {"required": [
        *CATALOGUE.required, "degree_verification"]}})
    assert strict.requirements(CATALOGUE, "integrated_practitioner")["degree_verification"] == {
        "required": True, "min": 1, "max": 2}


def test_a_region_may_not_drop_a_national_requirement():
    with pytest.raises(errors.ValidationError):
        domain.validate_region_config("32", {
            "upload_enabled": True, "window": {"start": "2026-11-01", "end": "2026-12-01"},
            "categories": {"integrated_practitioner": {"required": ["id_card"]}}}, CATALOGUE)


@pytest.mark.parametrize("config", [
    {"window": {"start": "2026-12-01", "end": "2026-11-01"}},
    {"window": {"start": "soon"}},
    {"window": {"start": "2026-11-01", "end": "2026-12-01"}, "max_bytes": "big"},
    {"window": {"start": "2026-11-01", "end": "2026-12-01"}, "sites": {"1101": "北京"}},
    {"window": {"start": "2026-11-01", "end": "2026-12-01"}, "colour": "blue"},
    {"window": {"start": "2026-11-01", "end": "2026-12-01"}, "notice": "长" * 501},
    {"window": {"start": "2026-11-01", "end": "2026-12-01"}, "contact": {"phone": "010"}},
    {"window": {"start": "2026-11-01", "end": "2026-12-01"}, "respond_days": 0},
    {"window": {"start": "2026-11-01", "end": "2026-12-01"}, "respond_days": 181},
    {"window": {"start": "2026-11-01", "end": "2026-12-01"}, "respond_days": "7"},
])
def test_bad_region_configurations_are_refused(config):
    with pytest.raises(errors.ValidationError):
        domain.validate_region_config("32", config, CATALOGUE)


def test_a_region_s_notice_and_contact_reach_the_candidate_s_view():
    settings = domain.validate_region_config("11", {
        "upload_enabled": False, "window": {"start": "2026-11-01", "end": "2026-12-01"},
        "notice": " 现场审核，请携带原件。 ", "contact": "北京考点 010-6000 0000"}, CATALOGUE)
    assert settings["notice"] == "现场审核，请携带原件。"
    view = domain.view(package(), CATALOGUE, rules(upload_enabled=False, notice=settings["notice"],
                                                   contact=settings["contact"]), NOW)
    assert (view["region_notice"], view["region_contact"]) == ("现场审核，请携带原件。", "北京考点 010-6000 0000")


def test_a_bare_local_time_in_a_window_means_beijing_time():
    window = rules(window_start="2026-12-01T08:00:00", window_end="2026-12-02")
    assert not window.window_open(datetime(2026, 11, 30, 23, 59, tzinfo=timezone.utc))
    assert window.window_open(datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc))  # 08:00 in Beijing
    assert not window.window_open(datetime(2026, 12, 1, 16, 1, tzinfo=timezone.utc))  # after midnight there


def test_a_window_is_stored_in_the_offset_the_administrator_gave_and_a_bare_one_in_beijing_time():
    window = {"start": "2026-11-01", "end": "2026-12-01T00:00:00Z"}
    stored = domain.validate_region_config("32", {"window": window}, CATALOGUE)["window"]
    assert stored == {"start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+00:00"}


def test_edits_need_uploading_enabled_and_an_open_window():
    rules().check_edits_allowed(NOW)
    with pytest.raises(errors.UploadDisabled):
        rules(upload_enabled=False).check_edits_allowed(NOW)
    with pytest.raises(errors.UploadClosed):
        rules().check_edits_allowed(NOW + timedelta(days=2))


def test_a_new_package_is_an_unlocked_draft_missing_its_required_types():
    doc = package()
    assert doc["status"] == "draft" and doc["attempt"] == 1
    assert {m["material_type"] for m in domain.missing(doc)} == set(CATALOGUE.required)
    assert not any(item["locked"] for item in doc["items"].values())


@pytest.mark.parametrize("status, locked, count, upload, expected", [
    ("submitted", False, 0, True, errors.PackageLocked),
    ("approved", False, 0, True, errors.PackageLocked),
    ("returned", True, 0, True, errors.ItemLocked),
    ("draft", False, 2, True, errors.SlotFull),
    ("draft", False, 2, False, errors.Conflict),
])
def test_a_refused_edit_is_explained_by_the_package_as_it_is(status, locked, count, upload, expected):
    doc = package(status)
    doc["items"]["id_card"].update(locked=locked, count=count)
    assert type(domain.refusal(doc, "id_card", upload=upload)) is expected


def test_a_refusal_for_an_unknown_type_or_image_is_not_found():
    doc = package()
    assert type(domain.refusal(doc, "passport")) is errors.NotFound
    assert type(domain.refusal(doc, "id_card", image_id="f" * 32)) is errors.NotFound


def test_the_catalogue_refuses_names_that_could_escape_a_key_or_a_path():
    for name in ("../etc", "id_card\x00", "ID_CARD", "a.b", "$where", ""):
        with pytest.raises(errors.NotFound):
            CATALOGUE.get(name)


def test_a_profile_change_reopens_only_newly_required_types():
    doc = package("submitted")
    strict = rules(categories={"clinical_practitioner": {"required": [
        *CATALOGUE.required, "degree_verification"]}})
    updates, reopened = domain.reopen_plan(doc, strict.requirements(CATALOGUE, "clinical_practitioner"))
    assert reopened == ["degree_verification"]
    assert updates["items.degree_verification.required"] is True


def test_a_profile_change_needing_nothing_new_reopens_nothing():
    doc = package("submitted")
    updates, reopened = domain.reopen_plan(doc, rules().requirements(CATALOGUE, "clinical_practitioner"))
    assert reopened == [] and updates == {}


def test_the_view_locks_everything_outside_draft_and_returned():
    view = domain.view(package("submitted"), CATALOGUE, rules(), NOW)
    assert all(item["locked"] for item in view["items"]) and not view["can_submit"]
    assert view["items"][0]["required"]  # required types first
    assert view["candidate"]["site_name"] == "常州"
    assert view["status_name"] == "已提交待审核"
    assert view["candidate"]["category_name"] == "中西医结合执业医师"


def test_a_submitted_event_lists_every_image_by_type():
    doc = package()
    doc["items"]["id_card"]["images"] = {"b" * 32: {}, "a" * 32: {}}
    event = domain.submitted_event(doc, 2, CATALOGUE)
    assert event.attempt == 2
    assert event.type_names["id_card"] == "身份证明" and set(event.type_names) == set(doc["items"])
    assert event.items == [{"material_type": "id_card", "image_ids": ["a" * 32, "b" * 32]}]


def test_object_keys_follow_the_design_layout():
    assert domain.object_key(package(), "id_card", "f" * 32, "png") == \
        f"32/3204/2026320400001/id_card/{'f' * 32}.png"


def complete_package(status="in_review"):
    """A package with every required type filled, as a reviewer would see it."""
    doc = package()
    for code, item in doc["items"].items():
        for n in range(item["min"]):
            image_id = f"{code[:4]}{n}".ljust(32, "0")
            item["images"][image_id] = {"image_id": image_id, "bytes": 1000, "width": 800,
                                        "height": 600, "uploaded_at": f"2026-11-2{n}T08:00:00Z"}
            item["count"] += 1
    doc["status"] = status
    doc["consent"] = {"notice_version": CATALOGUE.consent_notice_version, "at": NOW.isoformat()}
    return doc


def returned(doc, *types):
    """The package after a reviewer returned `types` (as materials applies MaterialReturned)."""
    items = [{"material_type": code, "reason": "照片不清晰"} for code in types]
    for key, value in domain.returned_sets(doc, items).items():
        _, code, field = key.split(".")
        doc["items"][code][field] = value
    doc["status"] = domain.RETURNED
    doc["feedback"] = {"decision": "returned", "items": items}
    return doc


def test_a_returned_type_still_holding_its_returned_images_blocks_resubmission():
    doc = returned(complete_package(), "id_card")
    assert domain.unchanged_returns(doc) == ["id_card"]
    view = domain.view(doc, CATALOGUE, rules(), NOW)
    assert not view["can_submit"] and view["missing"] == []
    assert view["to_fix"] == [{"material_type": "id_card", "name": CATALOGUE.types["id_card"].name}]
    card = next(i for i in view["items"] if i["material_type"] == "id_card")
    assert card["returned"] and not card["replaced"] and not card["locked"]


def test_a_returned_type_whose_images_were_replaced_may_be_resubmitted():
    doc = returned(complete_package(), "id_card", "degree_certificate")
    card = doc["items"]["id_card"]
    old = next(iter(card["images"]))
    card["images"]["new".ljust(32, "0")] = dict(card["images"].pop(old), image_id="new".ljust(32, "0"))
    assert domain.unchanged_returns(doc) == ["degree_certificate"]
    doc["items"]["degree_certificate"]["images"].popitem()  # deleting alone is a change too
    assert domain.unchanged_returns(doc) == []
    view = domain.view(doc, CATALOGUE, rules(), NOW)
    cards = {i["material_type"]: i for i in view["items"]}
    assert cards["id_card"]["replaced"] and not cards["practice_certificate"]["returned"]


def test_a_returned_card_carries_the_code_of_its_reason_and_an_older_return_none():
    doc = complete_package()
    items = [{"material_type": "degree_certificate", "reason_code": "incomplete", "reason": "材料不完整"},
             {"material_type": "id_card", "reason": "照片不清晰"}]  # a return from before codes travelled
    for key, value in domain.returned_sets(doc, items).items():
        _, code, field = key.split(".")
        doc["items"][code][field] = value
    doc.update(status=domain.RETURNED, feedback={"decision": "returned", "items": items})
    cards = {i["material_type"]: i for i in domain.view(doc, CATALOGUE, rules(), NOW)["items"]}
    assert cards["degree_certificate"]["reason_code"] == "incomplete"
    assert cards["degree_certificate"]["reason"] == "材料不完整"
    assert cards["id_card"]["reason_code"] is None and cards["id_card"]["reason"] == "照片不清晰"
    assert cards["other"]["reason_code"] is None and not cards["other"]["returned"]


# -- returned_unchanged judged by content (issue 29) ---------------------------------------------------
PICTURE = {"sha256": "a" * 64, "phash": "00000000ffffffff", "dhash": "0123456789abcdef" * 4}


def with_pictures(doc, material_type, *pictures):
    """`material_type` holding one image per picture (ids made up), in upload order."""
    item = doc["items"][material_type]
    item["images"], item["count"] = {}, 0
    for n, picture in enumerate(pictures):
        image_id = f"{material_type[:3]}{n}{len(str(picture))}".ljust(32, "0")
        item["images"][image_id] = dict(picture, image_id=image_id, bytes=1000, width=1000,
                                        height=700, uploaded_at=f"2026-11-2{n}T08:00:00Z")
        item["count"] += 1
    return doc


def replaced_by(doc, material_type, *pictures):
    """The candidate deleted the type's images and uploaded `pictures` (new image ids)."""
    item = doc["items"][material_type]
    item["images"], item["count"] = {}, 0
    for n, picture in enumerate(pictures):
        image_id = f"new{n}".ljust(32, "f")
        item["images"][image_id] = dict(picture, image_id=image_id, bytes=1000, width=1000,
                                        height=700, uploaded_at=f"2026-11-29T08:0{n}:00Z")
        item["count"] += 1
    return doc


def test_the_very_same_file_uploaded_again_after_a_return_is_still_unchanged():
    doc = returned(with_pictures(complete_package(), "degree_certificate", PICTURE), "degree_certificate")
    assert domain.unchanged_returns(doc) == ["degree_certificate"] and domain.sent_again(doc) == []
    replaced_by(doc, "degree_certificate", PICTURE)
    assert domain.unchanged_returns(doc) == ["degree_certificate"]
    assert domain.sent_again(doc) == ["degree_certificate"]      # told to photograph it afresh
    view = domain.view(doc, CATALOGUE, rules(), NOW)
    assert not view["can_submit"] and [m["material_type"] for m in view["to_fix"]] == ["degree_certificate"]
    degree = next(i for i in view["items"] if i["material_type"] == "degree_certificate")
    assert degree["returned"] and not degree["replaced"]
    assert [image["same_as_returned"] for image in degree["images"]] == [True]


def test_a_re_encoded_copy_of_a_returned_picture_is_still_unchanged():
    doc = returned(with_pictures(complete_package(), "degree_certificate", PICTURE), "degree_certificate")
    copy = {"sha256": "b" * 64, "phash": "00000000fffffff0", "dhash": "0123456789abcdef" * 3 + "0123456789abcd00"}
    replaced_by(doc, "degree_certificate", copy)
    assert domain.unchanged_returns(doc) == ["degree_certificate"]


def test_another_page_of_the_same_form_is_a_change_though_the_coarse_hash_matches():
    doc = returned(with_pictures(complete_package(), "degree_certificate", PICTURE), "degree_certificate")
    new_page = {"sha256": "c" * 64, "phash": PICTURE["phash"], "dhash": "f" * 64}
    replaced_by(doc, "degree_certificate", new_page)
    assert domain.unchanged_returns(doc) == []
    degree = next(i for i in domain.view(doc, CATALOGUE, rules(), NOW)["items"]
                  if i["material_type"] == "degree_certificate")
    assert degree["replaced"] and [image["same_as_returned"] for image in degree["images"]] == [False]


def test_an_id_card_is_unchanged_only_while_both_sides_are_the_returned_pictures_again():
    front, back = PICTURE, {"sha256": "d" * 64, "phash": "ffffffff00000000", "dhash": "fedcba9876543210" * 4}
    doc = returned(with_pictures(complete_package(), "id_card", front, back), "id_card")
    replaced_by(doc, "id_card", back, front)             # both deleted, both uploaded again
    assert domain.unchanged_returns(doc) == ["id_card"]
    new_back = {"sha256": "e" * 64, "phash": "0f0f0f0f0f0f0f0f", "dhash": "0" * 64}
    replaced_by(doc, "id_card", front, new_back)         # the front again, a new back: a change
    assert domain.unchanged_returns(doc) == []
    images = next(i for i in domain.view(doc, CATALOGUE, rules(), NOW)["items"]
                  if i["material_type"] == "id_card")["images"]
    assert [image["same_as_returned"] for image in images] == [True, False]   # told, not refused


def test_a_return_from_before_pictures_were_kept_is_judged_by_its_image_ids_alone():
    doc = returned(with_pictures(complete_package(), "degree_certificate", PICTURE), "degree_certificate")
    del doc["items"]["degree_certificate"]["returned_pictures"]
    replaced_by(doc, "degree_certificate", PICTURE)
    assert domain.unchanged_returns(doc) == []


def test_an_image_is_compared_only_with_the_returned_pictures_of_its_own_type():
    doc = returned(with_pictures(complete_package(), "degree_certificate", PICTURE), "degree_certificate")
    with_pictures(doc, "other", PICTURE)                       # the same file kept as another type
    replaced_by(doc, "degree_certificate", dict(PICTURE, sha256="f" * 64, dhash="f" * 64))
    assert domain.unchanged_returns(doc) == []
    view = domain.view(doc, CATALOGUE, rules(), NOW)
    other = next(i for i in view["items"] if i["material_type"] == "other")
    assert [image["same_as_returned"] for image in other["images"]] == [False]


def test_the_view_says_the_servers_time_for_the_pages_countdown():
    assert domain.view(package(), CATALOGUE, rules(), NOW)["now"] == "2026-11-28T08:00:00.000Z"


def test_only_the_latest_return_counts_and_a_reopening_asks_for_new_types_instead():
    doc = returned(complete_package(), "id_card")
    doc["status"] = "in_review"
    doc = returned(doc, "degree_certificate")
    assert domain.unchanged_returns(doc) == ["degree_certificate"]
    doc["feedback"] = {"decision": "reopened", "items": [{"material_type": "id_card", "reason": "报考信息变更"}]}
    assert domain.unchanged_returns(doc) == []


def test_a_region_sets_the_days_a_candidate_has_to_answer_a_return_seven_by_default():
    window = {"start": "2026-11-01", "end": "2026-12-01"}
    assert domain.validate_region_config("32", {"window": window}, CATALOGUE)["respond_days"] == 7
    assert domain.validate_region_config(
        "32", {"window": window, "respond_days": 14}, CATALOGUE)["respond_days"] == 14
    assert domain.RegionRules(region="32").respond_days == 7


def test_consent_counts_only_for_the_notice_now_in_force():
    doc = package()
    assert not domain.consented(doc, CATALOGUE)
    doc["consent"] = {"notice_version": "an-old-notice", "at": "2026-01-01T00:00:00.000Z"}
    assert not domain.consented(doc, CATALOGUE)
    doc["consent"]["notice_version"] = CATALOGUE.consent_notice_version
    assert domain.consented(doc, CATALOGUE)


@pytest.mark.parametrize("status, change, takes", [
    ("draft", {}, True),
    ("returned", {}, True),
    ("submitted", {}, False),
    ("approved", {}, False),
    ("draft", {"locked": True}, False),
    ("draft", {"count": 2}, False),  # an ID card has two slots, both taken
])
def test_an_upload_goes_in_only_to_an_editable_unlocked_item_with_a_free_slot(status, change, takes):
    doc = package(status)
    doc["items"]["id_card"].update(change)
    assert domain.takes_another_image(doc, "id_card") is takes
    assert not domain.takes_another_image(doc, "no_such_type")


def test_a_reopening_returns_a_package_under_review_with_the_reason_on_each_new_type():
    doc = package("in_review")
    strict = rules(categories={"clinical_practitioner": {"required": [
        *CATALOGUE.required, "degree_verification"]}})
    updates, reopened = domain.reopen_plan(doc, strict.requirements(CATALOGUE, "clinical_practitioner"))
    sets, reopens = domain.reopened_sets(doc, dict({"category": "clinical_practitioner"}, **updates),
                                         reopened, NOW)
    assert reopens and sets["status"] == "returned" and sets["category"] == "clinical_practitioner"
    assert sets["items.degree_verification.locked"] is False
    assert sets["items.degree_verification.reason"] == domain.REOPEN_REASON
    assert sets["feedback"] == {"decision": "reopened", "at": "2026-11-28T08:00:00.000Z", "items": [
        {"material_type": "degree_verification", "reason": domain.REOPEN_REASON}]}


def test_a_type_new_to_the_package_is_reopened_with_its_reason_inside_the_new_item():
    sets, reopens = domain.reopened_sets(package("approved"), {"items.new_type": {"locked": False}},
                                         ["new_type"], NOW)
    assert reopens and sets["items.new_type"] == {"locked": False, "reason": domain.REOPEN_REASON}
    assert "items.new_type.reason" not in sets


@pytest.mark.parametrize("status, reopened", [("draft", ["degree_verification"]),
                                              ("rejected", ["degree_verification"]),
                                              ("in_review", [])])
def test_a_draft_a_rejected_package_or_nothing_new_is_not_reopened(status, reopened):
    sets, reopens = domain.reopened_sets(package(status), {"site": "3201"}, reopened, NOW)
    assert not reopens and sets == {"site": "3201"}


def test_a_reopening_event_names_the_types_it_reopens():
    event = domain.reopened_event(package("approved"), "3201", "32", ["degree_verification"], CATALOGUE)
    assert event.items == ["degree_verification"]
    assert event.type_names == {"degree_verification": "学历认证报告"}


def test_every_category_auth_accepts_has_a_name_in_the_catalogue():
    from services.auth.domain import CATEGORIES
    assert set(CATALOGUE.categories) == CATEGORIES
    assert all(CATALOGUE.categories.values())
