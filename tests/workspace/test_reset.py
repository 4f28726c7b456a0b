"""Password links: single use, one hour, only the hash stored; using one ends every session; emailed ones are
queued only for an existing account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign import audit
from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.errors import BadRequest
from social_campaign.models import EmailMessage, PasswordReset, User, UserSession
from social_campaign.workspace import accounts, reset, sessions

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NEW = "a brand new passphrase"


def _user(engine: Engine) -> User:
    with session_scope(engine) as s:
        return accounts.add(s, "amina@example.org", "editor", "the old passphrase", actor="test", now=NOW)


def _token(engine: Engine, user: User, now: datetime = NOW) -> str:
    with session_scope(engine) as s:
        return reset.create(s, user, actor="cli:test", now=now)


def test_a_link_works_once(engine: Engine) -> None:
    user = _user(engine)
    token = _token(engine, user)
    with session_scope(engine) as s:
        sessions.open_session(s, user, hours=1, now=NOW)
    assert reset.user_for(engine, token, NOW) is not None
    reset.use(engine, token, NEW, NEW, now=NOW + timedelta(minutes=5))
    with Session(engine) as s:
        assert s.exec(select(UserSession)).all() == []
        row = s.exec(select(PasswordReset)).one()
        assert row.used_at == NOW + timedelta(minutes=5) and row.token_hash != token
        assert audit.entries(s, action="user.password")[0].actor == "amina@example.org"
    with session_scope(engine) as s:
        assert accounts.authenticate(s, "amina@example.org", NEW, NOW) is not None
    with pytest.raises(BadRequest, match="used already"):
        reset.use(engine, token, "yet another passphrase", "yet another passphrase", now=NOW + timedelta(minutes=6))


def test_a_link_expires_after_an_hour(engine: Engine) -> None:
    token = _token(engine, _user(engine))
    assert reset.user_for(engine, token, NOW + timedelta(minutes=59)) is not None
    assert reset.user_for(engine, token, NOW + timedelta(hours=1)) is None
    with pytest.raises(BadRequest) as exc:
        reset.use(engine, token, NEW, NEW, now=NOW + timedelta(hours=1))
    assert exc.value.field is None


def test_mismatched_or_weak_passwords_change_nothing(engine: Engine) -> None:
    user = _user(engine)
    token = _token(engine, user)
    with pytest.raises(BadRequest) as exc:
        reset.use(engine, token, NEW, NEW + "x", now=NOW)
    assert exc.value.field == "password2"
    with pytest.raises(BadRequest) as exc:
        reset.use(engine, token, "short", "short", now=NOW)
    assert exc.value.field == "password"
    assert reset.user_for(engine, token, NOW) is not None  # still usable
    with session_scope(engine) as s:
        assert accounts.authenticate(s, "amina@example.org", "the old passphrase", NOW) is not None


def test_email_link_queues_a_mail_only_for_an_account(engine: Engine, settings: Settings) -> None:
    _user(engine)
    assert reset.email_link(engine, settings, "nobody@example.org", now=NOW) is False
    assert reset.email_link(engine, settings, "Amina@example.org", now=NOW) is True
    with Session(engine) as s:
        mail = s.exec(select(EmailMessage)).one()
    assert mail.to_addr == "amina@example.org" and mail.kind == "password_reset"
    link = next(w for w in mail.body_text.split() if "/login/reset/" in w)
    assert link.startswith(f"{settings.public_url}/login/reset/")
    token = link.rsplit("/", 1)[1]
    assert mail.body_html is not None and link in mail.body_html
    reset.use(engine, token, NEW, NEW, now=NOW)
