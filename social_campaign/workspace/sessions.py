"""Workspace login sessions: the cookie holds a random token, the ``user_session`` row only its SHA-256.

A session lasts ``settings.session_hours`` without activity: each request seen more than :data:`TOUCH_EVERY` after
the last one moves ``last_seen_at`` and ``expires_at`` on (so an active manager stays logged in, at most one write a
minute). Logging in always opens a new session and ends the one the browser came with (no fixation).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.models import PasswordReset, User, UserSession

TOUCH_EVERY = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Active:
    """A session found for a cookie: the user, and whether the second factor has been given."""

    user: User
    token_hash: str
    second_factor_ok: bool
    expires_at: datetime


def open_session(
    session: Session, user: User, *, hours: float, now: datetime, second_factor_ok: bool = True,
    replaces: str | None = None,
) -> str:
    """A new session for ``user`` in the caller's transaction; returns the cookie's token. ``replaces`` (the token the
    browser came with) is ended."""
    if replaces:
        session.execute(delete(UserSession).where(col(UserSession.token_hash) == token_hash(replaces)))
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    session.add(UserSession(token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
                            expires_at=now + timedelta(hours=hours), second_factor_ok=second_factor_ok))
    return token


def lookup(engine: Engine, token: str | None, *, hours: float, now: datetime) -> Active | None:
    """The live session of ``token`` (``None``: none, expired or ended); slides its expiry when due."""
    if not token or len(token) > 200:
        return None
    hashed = token_hash(token)
    with Session(engine, expire_on_commit=False) as s:
        row = s.exec(select(UserSession, User).join(User, col(User.id) == UserSession.user_id)
                     .where(UserSession.token_hash == hashed)).first()
        if row is None:
            return None
        found, user = row
        if found.expires_at <= now:
            s.execute(delete(UserSession).where(col(UserSession.token_hash) == hashed))
            s.commit()
            return None
        expires = found.expires_at
        if now - found.last_seen_at >= TOUCH_EVERY:
            expires = now + timedelta(hours=hours)
            s.execute(update(UserSession).where(col(UserSession.token_hash) == hashed)
                      .values(last_seen_at=now, expires_at=expires))
            s.commit()
        s.expunge(user)
        return Active(user=user, token_hash=hashed, second_factor_ok=found.second_factor_ok, expires_at=expires)


def second_factor_done(engine: Engine, hashed: str) -> None:
    with session_scope(engine) as s:
        s.execute(update(UserSession).where(col(UserSession.token_hash) == hashed).values(second_factor_ok=True))


def end(engine: Engine, token: str | None) -> None:
    """End the session of ``token`` (nothing when there is none)."""
    if token:
        with session_scope(engine) as s:
            s.execute(delete(UserSession).where(col(UserSession.token_hash) == token_hash(token)))


def prune(engine: Engine, now: datetime) -> int:
    """Delete expired sessions and password links; returns how many sessions went."""
    with session_scope(engine) as s:
        gone = s.execute(delete(UserSession).where(col(UserSession.expires_at) <= now)).rowcount  # type: ignore[attr-defined]
        s.execute(delete(PasswordReset).where(col(PasswordReset.expires_at) <= now - timedelta(days=1)))
        return int(gone or 0)


def prune_job(settings: Settings, engine: Engine, now: datetime) -> dict[str, int]:
    """Job (``fn(settings, engine, now)``): expired sessions and password links, ended login-throttle buckets and
    old TOTP steps. Idempotent."""
    from social_campaign.workspace import throttle

    return {"sessions": prune(engine, now), "login_buckets": throttle.prune(settings, engine, now)}
