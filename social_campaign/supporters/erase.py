"""Erasure of a supporter's personal data (GDPR art. 17), keeping an anonymous pledge row so every count stays right.

:func:`erase_pledge` works in the caller's transaction. For one pledge it:

* blanks the pledge's name, email, canonical email and postcode, its IP hash and every token (confirm and withdraw
  hashes, ``share_token``); ``active_email`` becomes NULL, so the address may pledge again later. ``status``,
  ``country``, ``variant`` and the times stay: counts by status and by country are anonymous;
* deletes every email of that campaign to that address that was not sent (queued, sending, failed, suppressed),
  and blanks the ones that were sent (address, subject, bodies, headers, errors) without deleting them, so the
  "notified" count stays right; after the commit their copies in the mail folder (``DATA_DIR/mail/<id>.eml``,
  written when no SMTP server is set) are deleted when ``data_dir`` is given;
* deletes the address's opt-out row (with every token and queued email gone, nothing can be sent to it any more);
* removes the name and address from stored webhook payloads of the campaign (``pledge.confirmed`` sent to an
  endpoint allowed personal data carries them);
* sets ``PledgeData.erased_at`` (the row is created if missing), writes an audit entry (``target`` is
  ``pledge:<id>``, never the address) and emits ``pledge.erased`` (no personal data in it: receivers match on the
  pledge id they got with ``pledge.confirmed``).

Kept, because they hold nothing personal: consent records (which text, the answer, the time, the page URL), share
clicks (counts keyed by pledge id). Auto-share tokens do not exist yet; when they land, revoke them here.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlmodel
from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from social_campaign import audit
from social_campaign.db import session_scope
from social_campaign.errors import InputError, NotFound
from social_campaign.models import (
    EmailMessage,
    EmailState,
    MailOptOut,
    Pledge,
    PledgeData,
    WebhookDelivery,
    WebhookEndpoint,
)

E = EmailMessage.__table__  # type: ignore[attr-defined]
P = Pledge.__table__  # type: ignore[attr-defined]
OPT = MailOptOut.__table__  # type: ignore[attr-defined]
W = WebhookDelivery.__table__  # type: ignore[attr-defined]
EP = WebhookEndpoint.__table__  # type: ignore[attr-defined]


def erase_pledge(
    session: Session, pledge: Pledge, *, now: datetime, actor: str, data_dir: Path | None = None, audit_entry: bool = True
) -> bool:
    """Erase the personal data of ``pledge`` in the caller's transaction. False (and nothing changes) when it was
    already erased. ``audit_entry=False`` leaves the audit entry to the caller (the retention job writes one per run)."""
    assert pledge.id is not None
    conn = session.connection()
    if conn.dialect.name == "sqlite":  # freed bytes are zeroed, not left in free pages of the file
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
    else:  # two erasures of one pledge at once: the second waits, then sees it erased
        conn.execute(select(P.c.id).where(P.c.id == pledge.id).with_for_update())
    data = session.exec(
        sqlmodel.select(PledgeData).where(PledgeData.pledge_id == pledge.id).execution_options(populate_existing=True)
    ).first()
    if data is not None and data.erased_at is not None:
        return False
    slug, canonical, name = pledge.campaign, pledge.email_canonical, pledge.name
    addresses = sorted({a for a in (canonical, pledge.active_email) if a})
    mine = (E.c.campaign == slug) & E.c.to_canonical.in_(addresses)  # every path sets to_canonical (indexed)
    ids = [int(r.id) for r in conn.execute(select(E.c.id).where(mine))]
    deleted = conn.execute(delete(E).where(mine, E.c.state != EmailState.sent.value)).rowcount if ids else 0
    blanked = conn.execute(
        update(E).where(mine, E.c.state == EmailState.sent.value)
        .values(to_addr="", to_canonical="", subject="", body_text="", body_html=None, headers_json="{}", last_error=None)
    ).rowcount if ids else 0
    if addresses:
        conn.execute(delete(OPT).where(OPT.c.campaign == slug, OPT.c.email_canonical.in_(addresses)))
    scrubbed = _scrub_webhooks(conn, slug, addresses, pledge.email, name)
    pledge.name, pledge.email, pledge.email_canonical, pledge.active_email = "", "", "", None
    pledge.postcode, pledge.ip_hash = None, ""
    pledge.confirm_token_hash = pledge.withdraw_token_hash = pledge.share_token = None
    session.add(pledge)
    if data is None:
        data = PledgeData(pledge_id=pledge.id, campaign=slug)
    data.erased_at = now
    session.add(data)
    session.flush()
    if audit_entry:
        audit.record(session, actor=actor, action="erase", campaign=slug, target=f"pledge:{pledge.id}", at=now,
                     details={"emails_deleted": int(deleted), "emails_blanked": int(blanked), "webhooks_scrubbed": scrubbed})
    from social_campaign.webhooks.events import emit

    emit(session, "pledge.erased", {"pledge_id": pledge.id, "status": pledge.status}, campaign=slug, now=now)
    if data_dir is not None and ids:
        _delete_files_after_commit(session, [data_dir / "mail" / f"{i:09d}.eml" for i in ids])
    return True


def erase_email(engine: Engine, email: str, *, now: datetime, actor: str, data_dir: Path | None = None) -> int:
    """Erase every pledge of ``email`` (by canonical address, every campaign) in one transaction; returns how many.
    An unknown address, or one already erased, is :class:`NotFound` naming it, and nothing changes."""
    from social_campaign.supporters.person import find_pledges

    address = check_address(email)
    with session_scope(engine) as session:
        pledges = find_pledges(session, address)
        if not pledges:
            raise NotFound(f"no supporter with the email {address} (unknown, or already erased)")
        n = sum(erase_pledge(session, p, now=now, actor=actor, data_dir=data_dir) for p in pledges)
    forget_old_copies(engine)
    return n


def forget_old_copies(engine: Engine) -> bool:
    """SQLite keeps earlier versions of changed pages in its ``-wal`` file until a checkpoint resets it: copy them
    back and truncate it now (True when complete; a reader still holding an old snapshot makes it partial, and the
    next automatic checkpoint finishes the job). Nothing to do on PostgreSQL (autovacuum reclaims dead rows)."""
    if engine.dialect.name != "sqlite":
        return True
    raw = engine.raw_connection()  # outside any transaction (SQLAlchemy's would hold a lock the checkpoint needs)
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = cur.fetchone()
        cur.close()
    finally:
        raw.close()
    return busy is None or not busy[0]


def check_address(email: str) -> str:
    """``email`` stripped, or :class:`InputError` naming it when it cannot be an address."""
    address = email.strip()
    local, at, domain = address.rpartition("@")
    if not (at and local and domain) or len(address) > 320 or any(c.isspace() for c in address):
        raise InputError(f"{email!r} is not an email address")
    return address


def _scrub_webhooks(conn: Connection, slug: str, addresses: list[str], pledge_email: str, name: str) -> int:
    """Blank the name and addresses in stored webhook payloads of ``slug`` that carry one of the addresses. Scans the
    campaign's deliveries to endpoints allowed personal data (the payload is not indexed)."""
    personal = conn.execute(select(EP.c.name).where(EP.c.personal.is_(True))).scalars().all()
    if not addresses or not personal:  # only endpoints allowed personal data ever got the name and address
        return 0
    carrying = or_(*(W.c.payload_json.contains(a, autoescape=True) for a in [*addresses, pledge_email] if a))
    rows = conn.execute(
        select(W.c.id, W.c.payload_json).where(W.c.campaign == slug, W.c.endpoint.in_(personal), carrying)
    ).all()
    lowered = {a.lower() for a in (*addresses, pledge_email) if a}
    for row in rows:
        payload = _blank(json.loads(row.payload_json), lowered, name)
        conn.execute(update(W).where(W.c.id == row.id).values(
            payload_json=json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        ))
    return len(rows)


def _blank(value: Any, addresses: set[str], name: str) -> Any:
    """``value`` with every string equal to an address or to the name (or containing an address) made ``""``."""
    if isinstance(value, dict):
        return {k: _blank(v, addresses, name) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v, addresses, name) for v in value]
    if isinstance(value, str):
        low = value.lower()
        if (name and value == name) or any(a in low for a in addresses):
            return ""
    return value


def _delete_files_after_commit(session: Session, paths: list[Path]) -> None:
    """Delete ``paths`` once the session's transaction commits (never when it rolls back)."""

    def unlink(_session: Any) -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    event.listen(session, "after_commit", unlink, once=True)


def erased(session: Session, pledge_id: int) -> bool:
    """Whether the pledge's personal data was erased."""
    stamp = session.exec(sqlmodel.select(col(PledgeData.erased_at)).where(PledgeData.pledge_id == pledge_id)).first()
    return stamp is not None
