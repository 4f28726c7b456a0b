"""Tables of pledges, mail, the release, share clicks and badge makers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from social_campaign.models.types import UTCDateTime, _text, _ts, utcnow

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
        Index("ix_pledge_campaign_status_confirmed", "campaign", "status", "confirmed_at"),  # the dashboard's chart
        Index("ix_pledge_campaign_status_country", "campaign", "status", "country"),  # and its countries
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


