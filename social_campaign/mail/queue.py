"""Putting emails on the queue. Email is never sent inside a web request: callers enqueue, mail workers send.

:func:`enqueue` is idempotent on ``dedupe_key`` and enforces the per-address cap (``max_emails_per_address`` per
campaign): an email over the cap is stored as ``suppressed`` and never sent.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from social_campaign.models import EmailMessage, EmailState, utcnow


def enqueue(
    session: Session,
    *,
    campaign: str,
    kind: str,
    to_addr: str,
    to_canonical: str,
    subject: str,
    body_text: str,
    body_html: str | None,
    dedupe_key: str,
    max_per_address: int,
    headers: dict[str, str] | None = None,
    not_before: datetime | None = None,
    domain: str = "social-campaign.local",
) -> EmailMessage | None:
    """Queue one email in the caller's transaction. Returns the row, or ``None`` when ``dedupe_key`` was queued before.

    The caller commits. The row is ``suppressed`` instead of ``queued`` when the address already has
    ``max_per_address`` emails for this campaign (suppressed ones do not count).
    """
    existing = session.exec(select(EmailMessage.id).where(EmailMessage.dedupe_key == dedupe_key)).first()
    if existing is not None:
        return None
    sent_or_queued = session.exec(
        select(func.count())
        .select_from(EmailMessage)
        .where(
            EmailMessage.campaign == campaign,
            EmailMessage.to_canonical == to_canonical,
            EmailMessage.state != EmailState.suppressed,
        )
    ).one()
    row = EmailMessage(
        campaign=campaign,
        kind=kind,
        to_addr=to_addr,
        to_canonical=to_canonical,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        headers_json=json.dumps(headers or {}, sort_keys=True),
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
        dedupe_key=dedupe_key,
        state=EmailState.suppressed if sent_or_queued >= max_per_address else EmailState.queued,
        not_before=not_before or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent enqueue of the same key won
        return None
    return row
