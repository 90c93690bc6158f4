"""common.privacy.mask_text (DESIGN §8): ID numbers and mobile numbers in free text are
masked however they are typed, and ordinary text stays exactly as written.

Hypothesis writes numbers the way people and evasive people do: digits in groups
joined by spaces, dashes, dots and the like, full-width or other-script digits,
zero-width characters anywhere inside, inside arbitrary text."""
import os
import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.idnumber import check_character as id_check_char
from common.privacy import mask_phone, mask_text

EXAMPLES = int(os.environ.get("MASK_FUZZ_EXAMPLES", "300"))


@pytest.mark.parametrize("typed, masked", [
    ("tel 13800000001 id 32040219900101123X", "tel 138****0001 id 3204**********123X"),
    ("证件号 320401 19900101 1234 与报名信息不符", "证件号 3204**********1234 与报名信息不符"),
    ("号码320401199\u200b001011234有误", "号码3204**********1234有误"),
    ("3204 0119 9001 0112 34", "3204**********1234"),
    ("身份证ID320401199001011235x", "身份证ID3204**********1235x"),  # any check character
    ("请联系 138 0000 0001 核实", "请联系 138****0001 核实"),
    ("电话138-0000-0001无人接听", "电话138****0001无人接听"),
    ("电话１３８．００００．０００１", "电话138****0001"),
    ("+86 138 0000 0001", "+86 138****0001"),
    ("8613800000001", "86138****0001"),
    ("2026-05-20 13800000001", "2026-05-20 138****0001"),
])
def test_a_number_is_masked_in_the_shape_it_was_typed_and_nothing_else_changes(typed, masked):
    assert mask_text(typed) == masked


@pytest.mark.parametrize("text", [
    "第2页不清晰", "请于2026年5月20日前重新上传", "2026-05-20 18:00 之前", "2026.05.20",
    "共3页，第1、3、5页反光", "报名号 2026320400001", "请上传 2 张，每张不超过 200 KB",
    "813800000001", "12345678901", "20260520 20260601 09",
])
def test_ordinary_text_with_numbers_stays_as_written(text):
    assert mask_text(text) == text


# -- fuzzing --------------------------------------------------------------------------------
SCRIPTS = (0x30, 0xFF10, 0x660, 0x966, 0x1D7CE)  # ASCII, full-width, Arabic-Indic, Devanagari, bold
BRIDGES = (" ", "-", ".", "\u3000", "\u00a0", "\t", "－", "—", "–", "‐", "·", "・", "。", ",", "，",
           "、", "/", "_", "．")
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")


def no_digits(char):
    return not any(c.isdigit() for c in unicodedata.normalize("NFKC", char))


surroundings = st.text(st.characters(blacklist_categories=("Cs",)).filter(no_digits), max_size=12)


@st.composite
def id_numbers(draw):
    first17 = (draw(st.sampled_from("123456789")) + draw(st.text("0123456789", min_size=5, max_size=5))
               + draw(st.dates(date(1900, 1, 1), date(2030, 12, 31))).strftime("%Y%m%d")
               + draw(st.text("0123456789", min_size=3, max_size=3)))
    check = draw(st.sampled_from([id_check_char(first17), *"0123456789X"]))
    return first17 + check, first17  # what a reader must not be able to read back: the first 17


@st.composite
def phones(draw):
    number = "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    return number, number


@st.composite
def typed(draw, number):
    """`number` as typed: in groups, in some script, with invisible characters inside."""
    script = draw(st.sampled_from(SCRIPTS))
    out = []
    for n, char in enumerate(number):
        if n and draw(st.integers(0, 3)) == 0:
            out.append(draw(st.text(st.sampled_from(BRIDGES), min_size=1, max_size=3)))
        if n and draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(INVISIBLE)))
        out.append(chr(script + int(char)) if char.isdigit() else char)
    return "".join(out)


def digits_of(text):
    return "".join(c for c in unicodedata.normalize("NFKC", text) if c.isdigit())


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.data(), st.one_of(id_numbers(), phones()), surroundings, surroundings)
def test_no_typing_of_a_number_survives_masking(data, number, before, after):
    full, secret = number
    text = before + data.draw(typed(full)) + after
    masked = mask_text(text)
    assert secret not in digits_of(masked), (text, masked)
    assert masked.startswith(before) and masked.endswith(after), (text, masked)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(max_size=80))
def test_text_with_too_few_digits_for_a_number_is_left_alone(text):
    if len(digits_of(text)) < 11:
        assert mask_text(text) == text


@pytest.mark.parametrize("phone, masked", [
    ("13800000001", "138****0001"),
    ("+8613800000001", "+86138****0001"),
    ("008613800000001", "0086138****0001"),
    ("8613800000001", "86138****0001"),
    ("1380001", "****"),  # too short to be a phone: nothing of it shows, not even its length
    ("123", "****"),
    ("", ""),
    (None, ""),
])
def test_a_phone_keeps_its_country_code_first_three_and_last_four_digits_only(phone, masked):
    assert mask_phone(phone) == masked
