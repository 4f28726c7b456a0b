"""Putting emails on the queue. Email is never sent inside a web request: callers enqueue, mail workers send.

:func:`enqueue` is idempotent on ``dedupe_key`` and enforces the per-address cap (``max_emails_per_address`` per
campaign): an email over the cap is stored as ``suppressed`` and never sent.

Opt-outs: an address that asked for no more email about a campaign (``MailOptOut``, recorded by :func:`opt_out` from
the unsubscribe link) gets nothing more about it. Every enqueue path stores its emails as ``suppressed`` (they do not
count toward the cap), :func:`opt_out` suppresses what is already queued, and the mail worker's claim drops any row
that slipped in between (:func:`opted_out`); the release fan-out skips opted-out supporters.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlmodel import Session

from social_campaign.models import EmailMessage, EmailState, MailOptOut, utcnow

_TABLE = EmailMessage.__table__  # type: ignore[attr-defined]
_OPT_OUT = MailOptOut.__table__  # type: ignore[attr-defined]
_SUPPRESSED = EmailState.suppressed.value
UNSUBSCRIBED = "unsubscribed: the address asked for no more email about this campaign"


def opted_out(table: Any = _TABLE) -> ColumnElement[bool]:
    """SQL condition: the email row of ``table`` (``EmailMessage``) goes to an address opted out of its campaign."""
    return exists().where(_OPT_OUT.c.campaign == table.c.campaign, _OPT_OUT.c.email_canonical == table.c.to_canonical)


def opt_out(conn: Connection, *, campaign: str, to_canonical: str, now: datetime) -> int:
    """Record that ``to_canonical`` wants no more email about ``campaign`` (idempotent) and suppress its queued emails,
    in ``conn``'s transaction. Returns how many queued emails were suppressed."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        dialect_insert(_OPT_OUT).values(campaign=campaign, email_canonical=to_canonical, at=now).on_conflict_do_nothing()
    )
    res = conn.execute(
        update(_TABLE)
        .where(_TABLE.c.campaign == campaign, _TABLE.c.to_canonical == to_canonical,
               _TABLE.c.state == EmailState.queued.value)
        .values(state=_SUPPRESSED, last_error=UNSUBSCRIBED)
    )
    return int(res.rowcount or 0)


def is_opted_out(conn: Connection, campaign: str, to_canonical: str) -> bool:
    return conn.execute(_OPTED_OUT, {"q_campaign": campaign, "q_canonicals": [to_canonical]}).first() is not None


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
    ``max_per_address`` emails for this campaign (suppressed ones do not count). The returned row is not attached to
    the session (it is written with a Core INSERT, see :func:`enqueue_values`).
    """
    session.flush()  # anything the caller added (ORM) reaches the database before our Core statements
    values = enqueue_values(
        session.connection(), campaign=campaign, kind=kind, to_addr=to_addr, to_canonical=to_canonical, subject=subject,
        body_text=body_text, body_html=body_html, dedupe_key=dedupe_key, max_per_address=max_per_address,
        headers=headers, not_before=not_before, domain=domain,
    )
    return None if values is None else EmailMessage.model_validate(values)


def enqueue_values(
    conn: Connection,
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
) -> dict[str, Any] | None:
    """:func:`enqueue` on a Core connection, in two statements: the per-address count (index ``ix_email_address``)
    and ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`` (no savepoint; a concurrent enqueue of the same
    key simply inserts nothing). Returns the stored values with ``id``, or ``None`` when the key was queued before."""
    sent_or_queued = conn.execute(_COUNT, {"q_canonical": to_canonical, "q_campaign": campaign}).scalar_one()
    unsubscribed = is_opted_out(conn, campaign, to_canonical)
    now = utcnow()
    values: dict[str, Any] = {
        "campaign": campaign, "kind": kind, "to_addr": to_addr, "to_canonical": to_canonical, "subject": subject,
        "body_text": body_text, "body_html": body_html, "headers_json": json.dumps(headers or {}, sort_keys=True),
        "message_id": f"<{uuid.uuid4().hex}@{domain}>", "dedupe_key": dedupe_key,
        "state": _SUPPRESSED if unsubscribed or sent_or_queued >= max_per_address else EmailState.queued.value,
        "attempts": 0, "not_before": not_before or now, "created_at": now, "last_error": UNSUBSCRIBED if unsubscribed else None,
    }
    new_id = conn.execute(_insert_ignoring_duplicates(conn.dialect.name), values).scalar()
    if new_id is None:  # the key was queued before (or concurrently)
        return None
    values["id"] = new_id
    return values


def enqueue_many(conn: Connection, emails: list[dict[str, Any]], *, max_per_address: int) -> None:
    """Queue several emails in ``conn``'s transaction with the semantics of :func:`enqueue_values` called for each in
    order (the cap counts the list's earlier emails to the same address; a ``dedupe_key`` queued before is skipped),
    in a few statements whatever their number: one SELECT of the keys queued before, one aggregated count per campaign
    and one multi-row INSERT … ON CONFLICT DO NOTHING. Each item holds :func:`enqueue_values`' keyword arguments except
    ``conn`` and ``max_per_address``."""
    if not emails:
        return
    seen: set[str] = set(conn.execute(_KEYS_QUEUED, {"q_keys": sorted({e["dedupe_key"] for e in emails})}).scalars())
    emails = [e for e in emails if e["dedupe_key"] not in seen]
    used: dict[tuple[str, str], int] = {}
    unsubscribed: set[tuple[str, str]] = set()
    for slug in {e["campaign"] for e in emails}:
        canonicals = sorted({e["to_canonical"] for e in emails if e["campaign"] == slug})
        rows = conn.execute(_COUNT_MANY, {"q_campaign": slug, "q_canonicals": canonicals}).all()
        used.update({(slug, canonical): int(n) for canonical, n in rows})
        params = {"q_campaign": slug, "q_canonicals": canonicals}
        unsubscribed.update((slug, canonical) for canonical in conn.execute(_OPTED_OUT, params).scalars())
    now = utcnow()
    rows_out: list[dict[str, Any]] = []
    for e in emails:
        if e["dedupe_key"] in seen:
            continue
        seen.add(e["dedupe_key"])
        address = (e["campaign"], e["to_canonical"])
        out = address in unsubscribed
        over = out or used.get(address, 0) >= max_per_address
        if not over:
            used[address] = used.get(address, 0) + 1
        rows_out.append({
            "campaign": e["campaign"], "kind": e["kind"], "to_addr": e["to_addr"], "to_canonical": e["to_canonical"],
            "subject": e["subject"], "body_text": e["body_text"], "body_html": e.get("body_html"),
            "headers_json": json.dumps(e.get("headers") or {}, sort_keys=True),
            "message_id": f"<{uuid.uuid4().hex}@{e.get('domain', 'social-campaign.local')}>", "dedupe_key": e["dedupe_key"],
            "state": _SUPPRESSED if over else EmailState.queued.value, "attempts": 0,
            "not_before": e.get("not_before") or now, "created_at": now, "last_error": UNSUBSCRIBED if out else None,
        })
    if rows_out:
        conn.execute(_insert_many_ignoring_duplicates(conn.dialect.name), rows_out)


# Built once: a statement object reused with new parameters skips SQLAlchemy's per-call construction and cache keys.
_COUNT = (
    select(func.count())
    .select_from(_TABLE)
    .where(
        _TABLE.c.to_canonical == bindparam("q_canonical"),
        _TABLE.c.campaign == bindparam("q_campaign"),
        _TABLE.c.state != _SUPPRESSED,
    )
)


_OPTED_OUT = select(_OPT_OUT.c.email_canonical).where(
    _OPT_OUT.c.campaign == bindparam("q_campaign"),
    _OPT_OUT.c.email_canonical.in_(bindparam("q_canonicals", expanding=True)),
)
_KEYS_QUEUED = select(_TABLE.c.dedupe_key).where(_TABLE.c.dedupe_key.in_(bindparam("q_keys", expanding=True)))
_COUNT_MANY = (
    select(_TABLE.c.to_canonical, func.count())
    .where(
        _TABLE.c.campaign == bindparam("q_campaign"),
        _TABLE.c.to_canonical.in_(bindparam("q_canonicals", expanding=True)),
        _TABLE.c.state != _SUPPRESSED,
    )
    .group_by(_TABLE.c.to_canonical)
)


@cache
def _insert_many_ignoring_duplicates(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (dedupe_key) DO NOTHING`` in ``dialect``, for executemany."""
    dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return dialect_insert(_TABLE).on_conflict_do_nothing(index_elements=["dedupe_key"])


@cache
def _insert_ignoring_duplicates(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`` in ``dialect`` (SQLite and PostgreSQL)."""
    dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return dialect_insert(_TABLE).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(_TABLE.c.id)
