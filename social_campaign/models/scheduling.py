"""Tables of the scheduler: deliveries, attempts, the outbox, accounts, campaign revisions, task runs, notices."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from social_campaign.models.types import UTCDateTime, _text, _ts, utcnow


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


