"""services/auth/settings.py: every key auth reads, declared once, and what follows from them."""
from pathlib import Path

import pytest
import yaml

from common.settings import SettingError, declared, load, lookup
from services.auth.settings import AuthSettings


def test_every_key_auth_reads_is_in_config_yaml_where_operators_set_it():
    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "config.yaml").read_text())
    missing = [path for path in declared(AuthSettings) if lookup(config, path) is None]
    assert not missing, f"keys auth reads that config.yaml does not show: {missing}"


def test_each_page_may_be_sent_back_only_to_its_own_callback_on_our_origin():
    settings = load(AuthSettings, {"PUBLIC_URL": "https://exam.example.cn/",
                                   # gone: nothing may widen the allow-list from the config
                                   "OAUTH_EXTRA_REDIRECTS": ["https://evil.example/cb"],
                                   "OAUTH_EXTRA_STAFF_REDIRECTS": ["https://evil.example/cb"]})
    assert settings.redirects == {"upload-web": ["https://exam.example.cn/callback"],
                                  "staff-web": ["https://exam.example.cn/staff/callback"]}


def test_the_federation_callback_is_ours_unless_the_registration_system_registered_another():
    assert load(AuthSettings, {"PUBLIC_URL": "https://exam.example.cn"}).federation_redirect_uri == \
        "https://exam.example.cn/auth/federation/callback"
    assert load(AuthSettings, {"FEDERATION": {"REDIRECT_URI": "https://x.example/cb"}}).federation_redirect_uri == \
        "https://x.example/cb"


def test_the_registration_system_is_a_client_only_with_a_secret_configured():
    assert load(AuthSettings, {}).confidential_clients["registration-system"]["secret"] == ""
    client = load(AuthSettings, {"CLIENTS": {"REGISTRATION_SYSTEM_SECRET": "s3"}}).confidential_clients
    assert client == {"registration-system": {"secret": "s3", "role": "registration"}}


def test_hashing_is_bounded_to_at_least_one_at_a_time_and_environment_strings_are_numbers():
    settings = load(AuthSettings, {"AUTH": {"HASH_CONCURRENCY": "0", "HASH_MEMORY_KIB": "8"},
                                   "TOKENS": {"ACCESS_TTL": "600"}})
    assert (settings.hash_concurrency, settings.hash_memory_kib, settings.access_ttl) == (1, 8, 600)


@pytest.mark.parametrize("exam_day", ["8/20", "08-32", "0820"])
def test_an_exam_day_that_is_no_date_stops_the_start_naming_its_key(exam_day):
    with pytest.raises(SettingError, match="AUTH.EXAM_DAY"):
        load(AuthSettings, {"AUTH": {"EXAM_DAY": exam_day}})
