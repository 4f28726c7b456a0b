"""Tables that keep the service up: heartbeats of background loops, rate-limit buckets, mail opt-outs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from social_campaign.models.types import UTCDateTime, _text, _ts, utcnow

# --- hardening: heartbeats, rate buckets, unsubscribes (owned by supervise.py, pledges/abuse.py, mail/) ----------------


class Heartbeat(SQLModel, table=True):
    """The last beat of one background loop in one process (``supervise.py``), read by ``status``.

    ``process`` is ``host:boot:pid`` of the beating process, ``loop`` the loop's name (``mail``, ``delivery``,
    ``scheduler``, ``pledge-writer``, …). ``last_error`` is the newest exception's one-line summary, if any.
    """

    process: str = Field(primary_key=True, max_length=100)
    loop: str = Field(primary_key=True, max_length=60)
    role: str = Field(default="", max_length=40)
    beat_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    interval_seconds: float = 0.0
    errors: int = 0
    last_error: str | None = _text()
    last_error_at: datetime | None = _ts()
    stopped_at: datetime | None = _ts()


class RateBucket(SQLModel, table=True):
    """Attempts from one client (keyed hash) for one campaign in one fixed window: one upserted row, not one per hit."""

    campaign: str = Field(primary_key=True, max_length=100)
    ip_hash: str = Field(primary_key=True, max_length=64)
    window_seconds: int = Field(primary_key=True)
    window_start: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    hits: int = 0


class MailOptOut(SQLModel, table=True):
    """An address that asked for no more email about one campaign (List-Unsubscribe, "stop these emails")."""

    campaign: str = Field(primary_key=True, max_length=100)
    email_canonical: str = Field(primary_key=True, max_length=320)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


