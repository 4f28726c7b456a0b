"""Anti-abuse for pledge intake: form validation, the honeypot, and rate limits per client IP per campaign.

Rate limits come from ``settings.rate_limits`` (``SOCIAL_CAMPAIGN_PLEDGE_RATE_LIMITS``, default ``1/60s,5/300s``, empty
turns them off). Every attempt is stored as a :class:`RateHit` keyed by the keyed hash of the IP, so the limits hold
across processes; a pledge over any limit is *accepted* and stored as fraudulent (the answer never changes).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from social_campaign.errors import BadRequest
from social_campaign.models import RateHit
from social_campaign.pledges.emails import is_valid_email

NAME_MAX = 100
FORMULA_STARTS = ("=", "+", "-", "@")


@dataclass(frozen=True)
class PledgeForm:
    """A validated pledge form. ``website`` is the honeypot (people leave it empty)."""

    name: str
    email: str
    country: str | None = None
    postcode: str | None = None
    website: str = ""


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value)


def _optional(field: str, value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    if len(value) > limit:
        raise BadRequest(f"{field}: at most {limit} characters, please")
    if _has_control(value):
        raise BadRequest(f"{field}: contains characters that are not allowed")
    return value or None


def validate_form(
    *, name: str | None, email: str | None, consent: str | None, country: str | None = None,
    postcode: str | None = None, website: str | None = None,
) -> PledgeForm:
    """Check the fields; raise :class:`BadRequest` naming the first bad field in one line."""
    name = (name or "").strip()
    if not name:
        raise BadRequest("name: please enter your name")
    if len(name) > NAME_MAX:
        raise BadRequest(f"name: at most {NAME_MAX} characters, please")
    if name.startswith(FORMULA_STARTS):
        raise BadRequest("name: may not start with = + - or @")
    if _has_control(name):
        raise BadRequest("name: contains characters that are not allowed")
    email = (email or "").strip()
    if not is_valid_email(email):
        raise BadRequest("email: please enter a valid email address")
    if not consent:
        raise BadRequest("consent: please tick the box so we may email you the confirmation link and the call to act")
    return PledgeForm(
        name=name,
        email=email,
        country=_optional("country", country, 60),
        postcode=_optional("postcode", postcode, 20),
        website=(website or "").strip(),
    )


def over_limit(conn: Connection, *, campaign: str, ip_hash: str, limits: list[tuple[int, float]], now: datetime) -> bool:
    """Record this attempt and say whether it exceeds any ``(count, window_seconds)`` limit (attempts before it count).

    Runs in the caller's transaction: one indexed SELECT of the recent attempts and one INSERT (SQLAlchemy Core).
    """
    if not limits:
        return False
    widest = max(window for _, window in limits)
    since = now - timedelta(seconds=widest)
    times = conn.execute(_RECENT_HITS, {"q_campaign": campaign, "q_ip_hash": ip_hash, "q_since": since}).scalars().all()
    conn.execute(_INSERT_HIT, {"campaign": campaign, "ip_hash": ip_hash, "at": now})
    for count, window in limits:
        start = now - timedelta(seconds=window)
        if sum(1 for t in times if t > start) >= count:
            return True
    return False


_HITS = RateHit.__table__  # type: ignore[attr-defined]
_RECENT_HITS = select(_HITS.c.at).where(
    _HITS.c.campaign == bindparam("q_campaign"), _HITS.c.ip_hash == bindparam("q_ip_hash"), _HITS.c.at > bindparam("q_since")
)
_INSERT_HIT = insert(_HITS)


def prune_hits(session: Session, *, limits: list[tuple[int, float]], now: datetime) -> int:
    """Delete hits older than the widest window (all of them when limits are off). Returns how many went."""
    widest = max((window for _, window in limits), default=0.0)
    cutoff = now - timedelta(seconds=widest)
    before = session.exec(select(func.count()).select_from(RateHit).where(RateHit.at <= cutoff)).one()
    if before:
        session.execute(delete(RateHit).where(RateHit.at <= cutoff))  # type: ignore[arg-type]
    return int(before)
