"""TOTP: one step either side, never the same code twice, enabled only after a right code, encrypted at rest,
turned off only with a current code."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from social_campaign import audit
from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.errors import BadRequest
from social_campaign.models import User
from social_campaign.workspace import accounts, totp

NOW = datetime(2026, 11, 20, 12, 0, 10, tzinfo=UTC)


def _user(engine: Engine) -> User:
    with session_scope(engine) as s:
        return accounts.add(s, "amina@example.org", "owner", None, actor="test", now=NOW)


def _enabled(engine: Engine, settings: Settings) -> tuple[User, str]:
    user, secret = _user(engine), totp.new_secret()
    with session_scope(engine) as s:
        row = s.get(User, user.id)
        assert row is not None
        totp.enable(s, settings, row, secret, pyotp.TOTP(secret).at(NOW - timedelta(seconds=60)),
                    now=NOW - timedelta(seconds=60))
    with Session(engine) as s:
        found = s.get(User, user.id)
        assert found is not None
        return found, secret


def test_codes_one_step_either_side_are_accepted(engine: Engine, settings: Settings) -> None:
    user, secret = _enabled(engine, settings)
    code = pyotp.TOTP(secret)
    assert totp.check(engine, settings, user, code.at(NOW - timedelta(seconds=30)), NOW)
    assert totp.check(engine, settings, user, code.at(NOW + timedelta(seconds=30)), NOW)
    assert not totp.check(engine, settings, user, code.at(NOW + timedelta(seconds=90)), NOW + timedelta(seconds=1))
    assert not totp.check(engine, settings, user, "12345", NOW)
    assert not totp.check(engine, settings, user, "abcdef", NOW)


def test_a_used_code_cannot_be_replayed(engine: Engine, settings: Settings) -> None:
    user, secret = _enabled(engine, settings)
    code = pyotp.TOTP(secret).at(NOW)
    assert totp.check(engine, settings, user, code, NOW)
    assert not totp.check(engine, settings, user, code, NOW + timedelta(seconds=5))
    totp._last_step.clear()  # another process: the database remembers the step too
    assert not totp.check(engine, settings, user, code, NOW + timedelta(seconds=20))
    assert totp.check(engine, settings, user, pyotp.TOTP(secret).at(NOW + timedelta(seconds=30)),
                      NOW + timedelta(seconds=30))


def test_the_secret_is_stored_encrypted(engine: Engine, settings: Settings) -> None:
    user, secret = _enabled(engine, settings)
    assert user.totp_secret_enc is not None and secret not in user.totp_secret_enc
    assert totp.secret_of(settings, user) == secret
    assert base64.b32decode(secret)


@pytest.mark.parametrize("secret", ["JBSWY3DP", "01234567890123456789", "not base32 at all!!"])
def test_enable_refuses_a_secret_that_is_not_one(engine: Engine, settings: Settings, secret: str) -> None:
    user = _user(engine)
    with session_scope(engine) as s, pytest.raises(BadRequest):
        row = s.get(User, user.id)
        assert row is not None
        totp.enable(s, settings, row, secret, "123456", now=NOW)


def test_enable_needs_a_right_code(engine: Engine, settings: Settings) -> None:
    user, secret = _user(engine), totp.new_secret()
    with session_scope(engine) as s, pytest.raises(BadRequest) as exc:
        row = s.get(User, user.id)
        assert row is not None
        totp.enable(s, settings, row, secret, "000000" if pyotp.TOTP(secret).at(NOW) != "000000" else "111111",
                    now=NOW)
    assert exc.value.field == "code"
    with Session(engine) as s:
        found = s.get(User, user.id)
        assert found is not None and found.totp_secret_enc is None


def test_disable_needs_a_current_code_and_is_audited(engine: Engine, settings: Settings) -> None:
    user, secret = _enabled(engine, settings)
    with session_scope(engine) as s, pytest.raises(BadRequest):
        row = s.get(User, user.id)
        assert row is not None
        totp.disable(s, settings, row, "", now=NOW)
    with session_scope(engine) as s:
        row = s.get(User, user.id)
        assert row is not None
        totp.disable(s, settings, row, pyotp.TOTP(secret).at(NOW), now=NOW)
    with Session(engine) as s:
        found = s.get(User, user.id)
        assert found is not None and found.totp_secret_enc is None
        assert [e.action for e in audit.entries(s)][:2] == ["user.totp_off", "user.totp_on"]


def test_the_qr_code_is_an_svg_data_uri_of_the_otpauth_uri(settings: Settings) -> None:
    uri = totp.uri(settings, "amina@example.org", "JBSWY3DPEHPK3PXPJBSWY3DP")
    assert uri.startswith("otpauth://totp/") and "secret=JBSWY3DPEHPK3PXPJBSWY3DP" in uri and "amina%40example.org" in uri
    assert totp.qr_data_uri(uri).startswith("data:image/svg+xml")
