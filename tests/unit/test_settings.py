"""common/settings.py: each key declared once with its type, default and bounds."""
from dataclasses import dataclass

import pytest

from common.settings import SettingError, declared, load, setting


@dataclass(frozen=True)
class Example:
    lease_s: float = setting("REVIEW.LEASE_S", float, 900.0, minimum=1.0)
    senders: int = setting("NOTIFY.SENDERS", int, 10, minimum=1, maximum=50)
    local: bool = setting("WEBHOOKS.LOCAL_DEVELOPMENT", bool, False)
    keys: tuple = setting("NOTIFY.CURSOR_KEYS", tuple, ())
    nested: str = setting("A.B.C", str, "d")


def test_a_key_left_out_or_empty_takes_its_declared_default():
    assert load(Example, {}) == Example()
    assert load(Example, {"REVIEW": {"LEASE_S": ""}, "NOTIFY": None}) == Example()


def test_values_are_read_as_their_keys_types_and_brought_inside_their_bounds():
    settings = load(Example, {"REVIEW": {"LEASE_S": "0"}, "NOTIFY": {"SENDERS": "500", "CURSOR_KEYS": "k2, k1,"},
                              "WEBHOOKS": {"LOCAL_DEVELOPMENT": "true"}, "A": {"B": {"C": 7}}})
    assert settings == Example(lease_s=1.0, senders=50, local=True, keys=("k2", "k1"), nested="7")


def test_a_value_of_the_wrong_type_stops_the_start_naming_its_key():
    with pytest.raises(SettingError, match="NOTIFY.SENDERS must be int"):
        load(Example, {"NOTIFY": {"SENDERS": "ten"}})


def test_the_keys_a_settings_class_reads_are_listed_with_their_defaults():
    assert declared(Example) == {"REVIEW.LEASE_S": 900.0, "NOTIFY.SENDERS": 10,
                                 "WEBHOOKS.LOCAL_DEVELOPMENT": False, "NOTIFY.CURSOR_KEYS": (), "A.B.C": "d"}
