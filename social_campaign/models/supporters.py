"""Tables of supporters' data: consent texts and records, per-pledge data, webhooks and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from social_campaign.models.types import UTCDateTime, _text, _ts, utcnow

# --- supporters' data: consent, erasure, webhooks, audit (owned by supporters/ and webhooks/) --------------------------


class ConsentText(SQLModel, table=True):
    """One exact consent wording as shown on a page, stored once and referred to by its SHA-256 ``hash``.

    ``kind`` is ``pledge`` (the pledge's own consent) or ``updates`` (keep me informed by ``organisation``);
    ``version`` counts the distinct wordings per campaign, kind, organisation and language, from 1.
    """

    hash: str = Field(primary_key=True, max_length=64)
    campaign: str = Field(max_length=100, index=True)
    kind: str = Field(max_length=20)
    organisation: str = Field(default="", max_length=200)
    lang: str = Field(default="en", max_length=20)
    version: int = 1
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ConsentRecord(SQLModel, table=True):
    """One answer to one consent box of one pledge: what was shown (``text_hash``), the answer, when and on which page."""

    __table_args__ = (Index("ix_consent_pledge", "pledge_id"), Index("ix_consent_updates", "campaign", "kind", "given"))

    id: int | None = Field(default=None, primary_key=True)
    pledge_id: int
    campaign: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    organisation: str = Field(default="", max_length=200)
    given: bool = False
    text_hash: str = Field(max_length=64)
    lang: str = Field(default="en", max_length=20)
    page_url: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class PledgeData(SQLModel, table=True):
    """Per-pledge facts added for supporters' data: the page language, the updates opt-in, and erasure.

    Kept beside :class:`Pledge` (one row per pledge, same id) so the hot intake INSERT stays as it is. An erased pledge
    keeps its ``pledge`` row with every personal column blanked, so the counts stay right.
    """

    pledge_id: int = Field(primary_key=True)
    campaign: str = Field(max_length=100, index=True)
    lang: str = Field(default="en", max_length=20)
    updates: bool = Field(default=False, index=True)
    erased_at: datetime | None = _ts()


class WebhookEndpoint(SQLModel, table=True):
    """A receiver of signed webhooks. ``secret_enc`` is the ``whsec_…`` secret, encrypted; ``personal`` allows personal
    data in its payloads. ``paused_at`` is set after ``failures`` consecutive failed deliveries (the manager is told)."""

    name: str = Field(primary_key=True, max_length=100)
    url: str = Field(max_length=2000)
    secret_enc: str = Field(sa_column=Column(Text, nullable=False))
    personal: bool = False
    events: str = Field(default="*", max_length=1000)
    failures: int = 0
    paused_at: datetime | None = _ts()
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """One event to one endpoint, claimed by the webhook worker like an email. ``event_id`` is stable across retries
    (the Standard Webhooks ``webhook-id``), so receivers can de-duplicate."""

    __table_args__ = (
        UniqueConstraint("event_id", "endpoint", name="uq_webhook_event_endpoint"),
        Index("ix_webhook_due", "state", "not_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=60)
    endpoint: str = Field(max_length=100)
    type: str = Field(max_length=60)
    campaign: str = Field(default="", max_length=100, index=True)
    payload_json: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default="queued", max_length=20)  # queued | sending | sent | failed | paused
    attempts: int = 0
    not_before: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = _ts()
    sent_at: datetime | None = _ts()
    last_error: str | None = _text()
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AuditEntry(SQLModel, table=True):
    """Who did what, when: exports, erasures (and, with the managers' workspace, every edit). ``details`` is JSON."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor: str = Field(max_length=320)
    action: str = Field(max_length=60)
    campaign: str = Field(default="", max_length=100)
    target: str = Field(default="", max_length=320)
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))
