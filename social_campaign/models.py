"""SQLModel tables. Data access lives in ``crud.py`` and the services, not here.

Times are stored as UTC and come back timezone-aware (``UTCDateTime``), on SQLite and PostgreSQL alike.
Secrets (OAuth tokens) are stored only encrypted (``crypto.py``), in columns named ``*_enc``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, Index, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores an aware datetime as naive UTC; returns it aware (UTC). Refuses naive input."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def _ts(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _text() -> Any:
    return Field(default=None, sa_column=Column(Text, nullable=True))


class DeliveryState(StrEnum):
    scheduled = "scheduled"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    needs_reconnect = "needs_reconnect"
    unconfirmed = "unconfirmed"
    cancelled = "cancelled"
    missed = "missed"


#: States a sync from schedule.toml may still change.
OPEN_STATES = frozenset({DeliveryState.scheduled, DeliveryState.cancelled, DeliveryState.missed, DeliveryState.failed})


class Delivery(SQLModel, table=True):
    """One delivery for each post, channel and occurrence. ``occurrence`` is "" for an ``at`` post and the UTC ISO time for a cron one."""

    __table_args__ = (
        UniqueConstraint("campaign", "post_id", "channel", "occurrence", name="uq_delivery_key"),
        Index("ix_delivery_due", "state", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=100)
    post_id: str = Field(max_length=200)
    channel: str = Field(max_length=40)
    occurrence: str = Field(default="", max_length=40)
    kind: str = Field(default="post", max_length=20)  # post | release (a pledge release post)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    state: str = Field(default=DeliveryState.scheduled, max_length=20)
    text: str = Field(sa_column=Column(Text, nullable=False))
    media_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # [{"path":…, "alt":…}]
    content_hash: str = Field(default="", max_length=64)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(index=True)
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = _ts()
    remote_id: str | None = Field(default=None, max_length=200)
    remote_url: str | None = Field(default=None, max_length=500)
    last_error: str | None = _text()
    sent_at: datetime | None = _ts()
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Attempt(SQLModel, table=True):
    """Every try at sending a delivery: what was asked, what came back, how it was classed."""

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    worker: str = Field(default="", max_length=100)
    started_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = _ts()
    request_summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    http_status: int | None = None
    error_code: str | None = Field(default=None, max_length=50)
    outcome: str = Field(default="pending", max_length=30)  # pending | sent | rate_limited | transient | rejected | auth | unknown | reconciled
    reason: str | None = _text()


class OutboxItem(SQLModel, table=True):
    """What the outbox publisher 'posted': exactly the text, media and alt text a real network would have got."""

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int | None = Field(default=None, index=True, unique=True)
    channel: str = Field(max_length=40)
    text: str = Field(sa_column=Column(Text, nullable=False))
    media_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    file: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AccountStatus(StrEnum):
    ok = "ok"
    needs_reconnect = "needs_reconnect"


class Account(SQLModel, table=True):
    """The organisation's account on one channel: its health and (for OAuth 2.0) its encrypted rotating tokens."""

    channel: str = Field(primary_key=True, max_length=40)
    status: str = Field(default=AccountStatus.ok, max_length=20)
    reason: str | None = _text()
    access_token_enc: str | None = _text()
    refresh_token_enc: str | None = _text()
    expires_at: datetime | None = _ts()
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class CampaignRevision(SQLModel, table=True):
    """The last schedule.toml that passed ``check`` and was synced, per campaign."""

    campaign: str = Field(primary_key=True, max_length=100)
    content_hash: str = Field(max_length=64)
    source: str = Field(default="", max_length=500)
    synced_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    last_refused: str | None = _text()  # the first problem of the newest refused edit, if any
    refused_at: datetime | None = _ts()


class TaskRun(SQLModel, table=True):
    """A once-per-period guard for jobs (as e-petitions' Task): inserting the row is the lock."""

    __table_args__ = (UniqueConstraint("name", "period", name="uq_taskrun"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    period: str = Field(max_length=60)
    started_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = _ts()
    result: str | None = _text()


class ManagerNotice(SQLModel, table=True):
    """Something a campaign manager must see (account needs reconnecting, post missed, edit refused)."""

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(default="", max_length=100)
    kind: str = Field(max_length=40)
    message: str = Field(sa_column=Column(Text, nullable=False))
    dedupe_key: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    emailed_at: datetime | None = _ts()  # queued to SOCIAL_CAMPAIGN_MANAGER_EMAIL (or passed over as too old)


# --- pledges, mail and web (owned by pledges/, mail/ and web/) --------------------------------------------------------


class EmailState(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    suppressed = "suppressed"  # over the per-address cap: never sent


class EmailMessage(SQLModel, table=True):
    """One email to send, claimed by mail workers like a delivery. ``dedupe_key`` makes enqueueing idempotent."""

    __table_args__ = (
        Index("ix_email_due", "state", "not_before"),
        # the per-address cap's count (mail.queue.enqueue): without it SQLite scans every email of the campaign
        Index("ix_email_address", "to_canonical", "campaign"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(default="", max_length=100, index=True)
    kind: str = Field(max_length=40)  # confirm | duplicate | release | not_reached | …
    to_addr: str = Field(max_length=320)
    to_canonical: str = Field(max_length=320, index=True)
    subject: str = Field(max_length=500)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str | None = _text()
    headers_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    message_id: str = Field(max_length=300)
    dedupe_key: str = Field(max_length=300, unique=True)
    state: str = Field(default=EmailState.queued, max_length=20)
    attempts: int = 0
    not_before: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = _ts()
    sent_at: datetime | None = _ts()
    last_error: str | None = _text()
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


# --- pledges: intake, rate limits, counter (owned by pledges/intake.py, pledges/abuse.py, pledges/counter.py) ---------


class PledgeStatus(StrEnum):
    pending = "pending"  # waiting for the emailed confirmation link
    confirmed = "confirmed"  # counts toward the goal
    withdrawn = "withdrawn"  # the supporter took it back (before the release)
    fraud = "fraud"  # honeypot filled or over the rate limit: never counted, never emailed


class Pledge(SQLModel, table=True):
    """One pledge. ``active_email`` is the canonical email for non-fraud pledges (unique per campaign) and NULL for
    fraud rows, so a duplicate finds the supporter's row while fraudulent copies never collide with it.

    Tokens: only hashes of the confirm and withdraw tokens are stored (``pledges/tokens.py``); ``share_token`` is the
    random key of the supporter's share page (``/c/{slug}/share/{token}``); ``variant`` picks the message variant.
    """

    __table_args__ = (
        UniqueConstraint("campaign", "active_email", name="uq_pledge_active_email"),
        Index("ix_pledge_campaign_status", "campaign", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=100)
    name: str = Field(max_length=100)
    email: str = Field(max_length=320)
    email_canonical: str = Field(max_length=320, index=True)
    active_email: str | None = Field(default=None, max_length=320)
    country: str | None = Field(default=None, max_length=60)
    postcode: str | None = Field(default=None, max_length=20)
    status: str = Field(default=PledgeStatus.pending, max_length=20)
    fraud_reason: str | None = Field(default=None, max_length=100)
    ip_hash: str = Field(default="", max_length=64)
    confirm_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    withdraw_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    share_token: str | None = Field(default=None, max_length=64, unique=True)
    variant: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    confirmed_at: datetime | None = _ts()
    withdrawn_at: datetime | None = _ts()


class RateHit(SQLModel, table=True):
    """One pledge attempt from one client IP (keyed hash) for one campaign; counted against ``pledge_rate_limits``."""

    __table_args__ = (Index("ix_ratehit_lookup", "campaign", "ip_hash", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=100)
    ip_hash: str = Field(max_length=64)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class CampaignCounter(SQLModel, table=True):
    """The confirmed-pledge count shown publicly: bumped on confirm/withdraw, reconciled to COUNT(*) by the flush job."""

    campaign: str = Field(primary_key=True, max_length=100)
    confirmed: int = 0
    reconciled_at: datetime | None = _ts()
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


# --- release and share links (owned by pledges/release.py and pledges/share.py) -----------------------------------------


class ReleaseState(StrEnum):
    open = "open"  # before the deadline (or not yet evaluated)
    succeeded = "succeeded"  # confirmed >= goal at the deadline
    failed = "failed"  # goal not reached at the deadline


class PledgeRelease(SQLModel, table=True):
    """The all-or-nothing release of one campaign: evaluated once at the deadline, fired once at ``fire_at``.

    ``fanout_cursor`` is the highest pledge id whose email is queued, so an interrupted fan-out resumes where it stopped.
    """

    campaign: str = Field(primary_key=True, max_length=100)
    state: str = Field(default=ReleaseState.open, max_length=20)
    goal: int = 0
    evaluated_at: datetime | None = _ts()
    confirmed_at_evaluation: int | None = None
    fired_at: datetime | None = _ts()
    deliveries_created: bool = False
    fanout_cursor: int = 0
    fanout_done: bool = False
    notified: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ShareClick(SQLModel, table=True):
    """One tap on a share link (counted by the redirect ``/c/{slug}/go/{token}/{channel}``)."""

    __table_args__ = (Index("ix_shareclick_campaign_channel", "campaign", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=100)
    pledge_id: int = Field(index=True)
    channel: str = Field(max_length=40)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


# --- badges (owned by graphics/ and web/routes/badge.py) ----------------------------------------------------------------


class BadgeMaker(SQLModel, table=True):
    """One supporter who made a badge on the web page: a keyed hash of client IP + user agent, never a photo."""

    __table_args__ = (UniqueConstraint("campaign", "maker_hash", name="uq_badgemaker"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=100, index=True)
    maker_hash: str = Field(max_length=64)
    first_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
