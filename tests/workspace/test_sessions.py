"""Sessions: only the token's hash is stored, inactivity ends them, activity slides them (one write a minute at
most), and a login replaces the browser's previous session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.db import session_scope
from social_campaign.models import User, UserSession
from social_campaign.workspace import accounts, sessions

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _user(engine: Engine) -> User:
    with session_scope(engine) as s:
        return accounts.add(s, "amina@example.org", "editor", None, actor="test", now=NOW)


def _open(engine: Engine, user: User, **kw: object) -> str:
    with session_scope(engine) as s:
        return sessions.open_session(s, user, hours=2, now=NOW, **kw)  # type: ignore[arg-type]


def test_only_the_hash_of_the_token_is_stored(engine: Engine) -> None:
    token = _open(engine, _user(engine))
    with Session(engine) as s:
        row = s.exec(select(UserSession)).one()
    assert row.token_hash == sessions.token_hash(token) != token
    assert len(token) >= 40


def test_a_session_ends_after_its_hours_without_activity(engine: Engine) -> None:
    token = _open(engine, _user(engine))
    assert sessions.lookup(engine, token, hours=2, now=NOW + timedelta(hours=1, minutes=59)) is not None
    token = _open(engine, _user_again(engine))
    assert sessions.lookup(engine, token, hours=2, now=NOW + timedelta(hours=2)) is None
    with Session(engine) as s:  # the expired row is gone
        assert sessions.token_hash(token) not in {r.token_hash for r in s.exec(select(UserSession)).all()}


def _user_again(engine: Engine) -> User:
    with Session(engine) as s:
        return s.exec(select(User)).one()


def test_activity_slides_the_expiry_at_most_once_a_minute(engine: Engine) -> None:
    token = _open(engine, _user(engine))
    soon = sessions.lookup(engine, token, hours=2, now=NOW + timedelta(seconds=30))
    assert soon is not None and soon.expires_at == NOW + timedelta(hours=2)  # not written
    later = sessions.lookup(engine, token, hours=2, now=NOW + timedelta(hours=1))
    assert later is not None and later.expires_at == NOW + timedelta(hours=3)
    assert sessions.lookup(engine, token, hours=2, now=NOW + timedelta(hours=2, minutes=30)) is not None
    with Session(engine) as s:
        assert s.exec(select(UserSession)).one().last_seen_at == NOW + timedelta(hours=2, minutes=30)


def test_a_login_replaces_the_session_the_browser_came_with(engine: Engine) -> None:
    user = _user(engine)
    old = _open(engine, user)
    new = _open(engine, user, replaces=old)
    assert new != old
    assert sessions.lookup(engine, old, hours=2, now=NOW) is None
    assert sessions.lookup(engine, new, hours=2, now=NOW) is not None


def test_second_factor_pending_until_done(engine: Engine) -> None:
    token = _open(engine, _user(engine), second_factor_ok=False)
    active = sessions.lookup(engine, token, hours=2, now=NOW)
    assert active is not None and not active.second_factor_ok
    sessions.second_factor_done(engine, active.token_hash)
    again = sessions.lookup(engine, token, hours=2, now=NOW)
    assert again is not None and again.second_factor_ok


def test_end_and_prune(engine: Engine) -> None:
    user = _user(engine)
    first, second = _open(engine, user), _open(engine, user)
    sessions.end(engine, first)
    sessions.end(engine, None)
    assert sessions.lookup(engine, first, hours=2, now=NOW) is None
    assert sessions.prune(engine, NOW + timedelta(hours=3)) == 1
    assert sessions.lookup(engine, second, hours=2, now=NOW) is None
    assert sessions.lookup(engine, "x" * 500, hours=2, now=NOW) is None
