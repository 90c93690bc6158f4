"""The ID card cross-check's rules: the GB 11643 number check, what a photo's text boxes
yield, auth's verdicts, and what a package's reads add up to (issue 21)."""
from datetime import date

import pytest

from common import clock, idnumber
from services.auth import domain as auth
from services.review.idcheck import idcard
from services.review.idcheck.checks import IdChecks, check_record
from services.review.idcheck.reader import OcrPool, cpu_pressure, prefetch
from services.review.settings import ReviewSettings

NUMBER = "11010519491231002X"


def box(text, score=0.99, left=0, top=0, width=200, height=40):
    corners = [[left, top], [left + width, top], [left + width, top + height], [left, top + height]]
    return [corners, text, score]


def test_a_number_with_the_right_check_character_is_valid():
    assert idnumber.check_character(NUMBER[:17]) == "X"
    assert idnumber.is_valid(NUMBER)


@pytest.mark.parametrize("position", range(17))
def test_any_single_misread_digit_breaks_the_check_character(position):
    for digit in "0123456789":
        if digit != NUMBER[position]:
            changed = NUMBER[:position] + digit + NUMBER[position + 1:]
            assert not idnumber.is_valid(changed)


def test_a_swap_of_two_neighbouring_digits_breaks_the_check_character():
    swaps = [NUMBER[:i] + NUMBER[i + 1] + NUMBER[i] + NUMBER[i + 2:] for i in range(16)
             if NUMBER[i] != NUMBER[i + 1]]
    assert swaps and not any(idnumber.is_valid(s) for s in swaps)


def test_short_lower_case_or_lettered_numbers_are_not_valid():
    assert not idnumber.is_valid(NUMBER[:17])
    assert not idnumber.is_valid(NUMBER.lower())
    assert not idnumber.is_valid("A" + NUMBER[1:])
    assert not idnumber.is_valid(None)


def test_the_front_yields_the_number_and_the_name_in_the_next_box():
    fields = idcard.read([box("姓 名", left=70, top=60), box("欧阳思雨", 0.97, left=190, top=62),
                          box("公民身份号码", top=600), box(f"{NUMBER[:6]} {NUMBER[6:]}", 0.95, top=600)])
    assert fields == {"side": "front", "id_number": NUMBER, "name": "欧阳思雨", "expires": None,
                      "confidence": 0.95}


def test_a_name_in_the_label_box_itself_is_read():
    assert idcard.read([box("姓名王伟")])["name"] == "王伟"


def test_a_name_on_another_row_is_not_taken_for_the_name():
    assert idcard.read([box("姓名", top=60), box("汉", left=300, top=160)])["name"] is None


def test_doubtful_reads_are_left_out():
    assert idcard.read([box(NUMBER, 0.5)])["id_number"] is None
    assert idcard.read([box("姓名张三", 0.7)])["name"] is None
    assert idcard.read([box(NUMBER[:-1] + "1")])["id_number"] is None  # check character wrong
    two = idcard.read([box(NUMBER), box("110105194912310038")])
    assert idnumber.is_valid("110105194912310038") and two["id_number"] is None


def test_the_back_yields_the_end_of_the_validity_period():
    fields = idcard.read([box("有效期限"), box("2015.01.01-2035.01.01", 0.96)])
    assert (fields["side"], fields["expires"], fields["confidence"]) == ("back", "2035-01-01", 0.96)
    assert idcard.read([box("有效期限 2015.01.01-长期")])["expires"] == idcard.LONG_TERM
    assert idcard.read([box("2015.01.01-2015.13.01")])["expires"] is None
    assert idcard.read([box("2035.01.01-2015.01.01")])["expires"] is None


def test_a_photo_without_card_text_is_unknown():
    assert idcard.read([box("毕业证书")]) == {"side": "unknown", "id_number": None, "name": None,
                                              "expires": None, "confidence": None}


def test_auth_calls_the_number_by_its_comparison_and_unreadable_without_one():
    assert auth.number_verdict(NUMBER, True) == "match"
    assert auth.number_verdict(NUMBER, False) == "mismatch"
    assert auth.number_verdict(None, False) == "unreadable"
    assert auth.number_verdict(NUMBER[:-1] + "1", False) == "unreadable"


def test_auth_compares_names_ignoring_spaces_width_and_middle_dots():
    assert auth.name_verdict("阿依 古丽", "阿依·古丽") == "match"
    assert auth.name_verdict("王伟", "王伟") == "match"
    assert auth.name_verdict("王玮", "王伟") == "mismatch"
    assert auth.name_verdict(None, "王伟") == "unreadable"


def test_a_card_ending_before_the_exam_is_expired():
    exam_on = auth.exam_date(2026, "08-20")
    assert exam_on == date(2026, 8, 20)
    assert auth.expired_by("2026-08-19", exam_on) is True
    assert auth.expired_by("2026-08-20", exam_on) is False
    assert auth.expired_by(idcard.LONG_TERM, exam_on) is False
    assert auth.expired_by(None, exam_on) is None
    assert auth.expired_by("not a date", exam_on) is None


def check(side="front", number="match", name="match", expires=None, expired=None, confidence=0.9):
    return {"side": side, "id_number": number, "name": name, "expires": expires,
            "expired": expired, "engine": "e 1", "confidence": confidence}


def test_a_package_not_yet_read_has_no_id_check_and_no_flags():
    assert idcard.summary([None, None]) is None
    assert idcard.flags(None) == []


def test_front_and_back_add_up_to_one_id_check():
    result = idcard.summary([
        check(), check("back", "unreadable", "unreadable", "2035-01-01", False, 0.8)])
    assert result == {"id_number": "match", "name": "match", "expires": "2035-01-01",
                      "long_term": False, "expired": False, "engine": "e 1", "confidence": 0.8,
                      "images": 2}
    assert idcard.flags(result) == []


def test_a_mismatch_on_any_image_is_flagged():
    result = idcard.summary([check(number="mismatch", name="mismatch"), check("back", "unreadable")])
    assert idcard.flags(result) == ["证件号与报名信息不一致", "姓名与报名信息不一致"]


def test_an_expired_card_and_an_unread_number_are_flagged():
    result = idcard.summary([check("unknown", "unreadable", "unreadable"),
                             check("back", "unreadable", "unreadable", "2020-01-01", True)])
    assert idcard.flags(result) == ["证件已过期", "无法识别"]


class Untouchable:
    """Whatever the check must not reach when the reader is off."""

    def __getattr__(self, name):
        raise AssertionError(f"{name} used with the reader switched off")


def test_a_check_keeps_the_verdicts_and_its_time_in_the_systems_format_not_what_was_read():
    event = {"image_id": "i1", "package_id": "p1", "candidate_id": "c1"}
    fields = {"side": "front", "id_number": NUMBER, "name": "张三", "expires": None, "confidence": 0.97}
    verdicts = {"id_number": "match", "name": "mismatch", "expired": None}
    record = check_record(event, "engine 1", fields, verdicts)
    assert (record["id_number"], record["name"]) == ("match", "mismatch")
    assert NUMBER not in str(record) and "张三" not in str(record)
    assert record["checked_at"].endswith("Z") and clock.parse_iso(record["checked_at"]) <= clock.utcnow()
    assert record["checked_at"] == clock.iso(clock.parse_iso(record["checked_at"]))  # ms and `Z`, as clock.iso


def test_with_the_reader_switched_off_an_id_card_is_neither_fetched_nor_read():
    off = OcrPool(ReviewSettings(ocr_workers=0))  # OCR.WORKERS: 0 starts no worker process
    checks = IdChecks(checks=Untouchable(), bucket=Untouchable(), reader=off, profiles=Untouchable())
    assert checks.uploaded({"material_type": "id_card", "image_id": "i1"}) is None
    assert not off.live
    assert prefetch({"OCR": {"WORKERS": 0}}) == 3 and prefetch({"OCR": {"WORKERS": 2}}) == 6


def test_a_read_waits_while_the_cpu_is_contended_and_starts_once_it_is_not():
    figures = iter([85.0, 40.0, 9.5, 99.0])
    pool = OcrPool(ReviewSettings(ocr_defer_above=10, ocr_max_defer_s=60), pressure=lambda: next(figures), poll_s=0.001)
    assert pool.wait_for_quiet() == pytest.approx(0.002)
    assert next(figures) == 99.0  # it stopped asking once the figure fell under 10 %


def test_a_machine_never_quiet_defers_a_read_only_so_long():
    pool = OcrPool(ReviewSettings(ocr_defer_above=10, ocr_max_defer_s=0.005), pressure=lambda: 100.0, poll_s=0.001)
    assert pool.wait_for_quiet() == pytest.approx(0.005)


def test_without_a_pressure_figure_a_read_does_not_wait():
    pool = OcrPool(ReviewSettings(), pressure=lambda: None, poll_s=10)
    assert pool.wait_for_quiet() == 0


def test_the_pressure_figure_is_a_percentage_where_linux_gives_one():
    figure = cpu_pressure()
    assert figure is None or 0.0 <= figure <= 100.0
