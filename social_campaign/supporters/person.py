"""What we hold about one person: their pledges (by canonical email) and, per pledge, everything stored about them.

:func:`find_pledges` answers "which pledges are this person's" (a data-subject request names an address);
:func:`person_data` gathers what one pledge's person has in the database for that campaign, as plain JSON values, for
the supporter's own page (``/c/{slug}/me/{token}``, its ``data.json``) and ``supporters show`` / ``export-person``.
Token hashes are left out (credentials, not data about the person); the keyed IP hash is shown as what it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from social_campaign.models import (
    ConsentRecord,
    ConsentText,
    EmailMessage,
    MailOptOut,
    Pledge,
    PledgeData,
    ShareClick,
)
from social_campaign.pledges.emails import canonical_email

#: The pledge's columns shown as they are (tokens and the IP hash are described, not listed).
PLEDGE_FIELDS = (
    "campaign", "name", "email", "country", "postcode", "status", "created_at", "confirmed_at", "withdrawn_at",
)


def find_pledges(session: Session, email: str) -> list[Pledge]:
    """Every pledge of ``email`` (by canonical address), in every campaign, not erased, oldest first. Fraud (honeypot)
    rows count: they hold the address too."""
    canonical = canonical_email(email.strip())
    if not canonical:
        return []
    query = (
        select(Pledge)
        .join(PledgeData, col(PledgeData.pledge_id) == col(Pledge.id), isouter=True)
        .where(Pledge.email_canonical == canonical, col(PledgeData.erased_at).is_(None))
        .order_by(col(Pledge.id))
    )
    return list(session.exec(query).all())


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _plain(value: Any) -> Any:
    return _iso(value) if isinstance(value, datetime) else value


def person_data(session: Session, pledge: Pledge) -> dict[str, Any]:
    """Everything held about ``pledge``'s person in its campaign: the pledge, its data row, each consent answer with
    the exact words shown, the emails (queued or sent: kind, subject, state, times), share clicks and an email opt-out.
    JSON-serialisable; times are ISO 8601 UTC."""
    assert pledge.id is not None
    slug = pledge.campaign
    data = session.get(PledgeData, pledge.id)
    out: dict[str, Any] = {
        "pledge": {"id": pledge.id, **{f: _plain(getattr(pledge, f)) for f in PLEDGE_FIELDS}},
        "held": {
            "ip_address": "not stored; only a keyed hash of it, to limit abuse" if pledge.ip_hash else "not stored",
            "links": "your personal links (confirm, withdraw, share) work through random tokens we keep only as hashes",
        },
        "data": None if data is None else {
            "language": data.lang, "updates": data.updates, "erased_at": _iso(data.erased_at),
        },
    }
    records = session.exec(
        select(ConsentRecord, ConsentText)
        .join(ConsentText, col(ConsentText.hash) == col(ConsentRecord.text_hash), isouter=True)
        .where(ConsentRecord.pledge_id == pledge.id)
        .order_by(col(ConsentRecord.id))
    ).all()
    out["consents"] = [
        {
            "kind": r.kind, "organisation": r.organisation, "given": r.given, "text": t.text if t else None,
            "text_sha256": r.text_hash, "version": t.version if t else None, "language": r.lang,
            "page_url": r.page_url, "at": _iso(r.at),
        }
        for r, t in records
    ]
    addresses = sorted({a for a in (pledge.email_canonical, pledge.email) if a})
    emails = session.exec(
        select(EmailMessage)
        .where(EmailMessage.campaign == slug,
               or_(col(EmailMessage.to_canonical).in_(addresses), col(EmailMessage.to_addr).in_(addresses)))
        .order_by(col(EmailMessage.id))
    ).all() if addresses else []
    out["emails"] = [
        {"kind": e.kind, "to": e.to_addr, "subject": e.subject, "state": e.state, "queued_at": _iso(e.created_at),
         "sent_at": _iso(e.sent_at)}
        for e in emails
    ]
    clicks = session.exec(
        select(ShareClick).where(ShareClick.pledge_id == pledge.id).order_by(col(ShareClick.id))
    ).all()
    out["share_clicks"] = [{"channel": c.channel, "at": _iso(c.at)} for c in clicks]
    opt_out = session.get(MailOptOut, (slug, pledge.email_canonical)) if pledge.email_canonical else None
    out["emails_stopped_at"] = None if opt_out is None else _iso(opt_out.at)
    return out
