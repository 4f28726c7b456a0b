"""Settings: defaults, placeholders refused, incomplete credentials refused, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from social_campaign.config import Settings, load_settings, parse_rate_limits
from social_campaign.errors import ConfigError


def test_defaults(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert s.resolved_database_url == f"sqlite:///{(tmp_path / 'social-campaign.db').resolve()}"
    assert s.x_api_url == "https://api.twitter.com"
    assert s.facebook_graph_url == "https://graph.facebook.com"
    assert s.grace_minutes == 15
    assert s.rate_limits == [(30, 60.0), (300, 3600.0)] and s.fraud_retention_days == 30


def test_env_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOCIAL_CAMPAIGN_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("SOCIAL_CAMPAIGN_PLEDGE_RATE_LIMITS", "")
    s = load_settings(_env_file=None)
    assert s.data_dir == tmp_path / "d"
    assert s.rate_limits == []


@pytest.mark.parametrize("value", ["changethis", "CHANGEME", " placeholder "])
def test_placeholder_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SOCIAL_CAMPAIGN_FACEBOOK_PAGE_TOKEN", value)
    monkeypatch.setenv("SOCIAL_CAMPAIGN_FACEBOOK_PAGE_ID", "123")
    with pytest.raises(ConfigError, match="SOCIAL_CAMPAIGN_FACEBOOK_PAGE_TOKEN is a placeholder"):
        load_settings(_env_file=None)


def test_incomplete_credentials_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIAL_CAMPAIGN_X_CONSUMER_KEY", "ck-123")
    with pytest.raises(ConfigError, match=r"X \(OAuth 1\.0a\) credentials are incomplete: missing SOCIAL_CAMPAIGN_X_CONSUMER_SECRET"):
        load_settings(_env_file=None)


def test_bad_rate_limits_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIAL_CAMPAIGN_PLEDGE_RATE_LIMITS", "five per minute")
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    assert "SOCIAL_CAMPAIGN_PLEDGE_RATE_LIMITS" in str(info.value)
    assert "\n" not in str(info.value)


def test_parse_rate_limits_units() -> None:
    assert parse_rate_limits("2/1m, 10/1h") == [(2, 60.0), (10, 3600.0)]
    with pytest.raises(ValueError):
        parse_rate_limits("0/60s")


def test_secrets_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIAL_CAMPAIGN_FACEBOOK_PAGE_ID", "123")
    monkeypatch.setenv("SOCIAL_CAMPAIGN_FACEBOOK_PAGE_TOKEN", "EAAB-very-secret-token")
    s = load_settings(_env_file=None)
    assert "EAAB-very-secret-token" not in repr(s)
    assert "EAAB-very-secret-token" not in str(s.model_dump())


def test_secret_key_file_created_once(tmp_path: Path) -> None:
    a = Settings(data_dir=tmp_path, _env_file=None).key  # type: ignore[call-arg]
    b = Settings(data_dir=tmp_path, _env_file=None).key  # type: ignore[call-arg]
    assert a == b and len(a) == 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_crypto_roundtrip_and_hash(tmp_path: Path) -> None:
    from social_campaign.crypto import decrypt, encrypt, keyed_hash

    key = Settings(data_dir=tmp_path, _env_file=None).key  # type: ignore[call-arg]
    token = encrypt(key, "refresh-abc")
    assert "refresh-abc" not in token
    assert decrypt(key, token) == "refresh-abc"
    assert keyed_hash(key, "203.0.113.5", purpose="ip") != keyed_hash(key, "203.0.113.5", purpose="email")
    other = Settings(data_dir=tmp_path / "other", _env_file=None).key  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        decrypt(other, token)
