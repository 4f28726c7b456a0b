"""Claiming due deliveries atomically, and marking the ones too late to send as ``missed``.

A claim moves rows from ``scheduled`` to ``sending`` (``claimed_by``/``claimed_at`` set, ``attempts`` + 1) and adds a
pending ``Attempt`` per row, in one transaction:

* PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED LIMIT n``, so any number of workers claim disjoint rows;
* SQLite: the same select inside the ``BEGIN IMMEDIATE`` transaction ``db.py`` opens (one writer at a time).

A row is due when ``due_at <= now`` and ``next_attempt_at`` is empty or ``<= now``. A row due more than
``grace`` ago is never claimed: :func:`mark_missed` turns it into ``missed`` and tells the manager.

Accounts marked ``needs_reconnect`` are not used: rows of that channel are not claimed and stay ``scheduled`` (they go
out if the account is reconnected within the grace window, and become ``missed`` otherwise). Only the row whose send
failed with ``AuthFailed`` is parked as ``needs_reconnect``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from social_campaign.db import is_sqlite, session_scope
from social_campaign.models import (
    Account,
    AccountStatus,
    Attempt,
    Delivery,
    DeliveryState,
)
from social_campaign.scheduling.notices import notify


@dataclass(frozen=True)
class Claim:
    """A claimed delivery (detached copy) and the id of its pending attempt."""

    delivery: Delivery
    attempt_id: int


def claim_due(engine: Engine, worker_id: str, now: datetime, limit: int, *, grace: timedelta) -> list[Claim]:
    """Claim up to ``limit`` due rows for ``worker_id``; oldest first."""
    if limit <= 0:
        return []
    with session_scope(engine) as session:
        blocked = session.exec(select(Account.channel).where(Account.status == AccountStatus.needs_reconnect)).all()
        query = (
            select(Delivery)
            .where(
                Delivery.state == DeliveryState.scheduled,
                Delivery.due_at <= now,
                Delivery.due_at >= now - grace,
                or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
            )
            .order_by(col(Delivery.due_at), col(Delivery.id))
            .limit(limit)
        )
        if blocked:
            query = query.where(col(Delivery.channel).not_in(blocked))
        if not is_sqlite(engine):
            query = query.with_for_update(skip_locked=True)
        rows = session.exec(query).all()
        attempts = []
        for row in rows:
            row.state, row.claimed_by, row.claimed_at = DeliveryState.sending, worker_id, now
            row.attempts, row.updated_at = row.attempts + 1, now
            session.add(row)
            attempt = Attempt(delivery_id=row.id, worker=worker_id, started_at=now, outcome="pending")  # type: ignore[arg-type]
            session.add(attempt)
            attempts.append(attempt)
        session.flush()
        return [Claim(row, attempt.id) for row, attempt in zip(rows, attempts, strict=True)]  # type: ignore[arg-type]


def mark_missed(engine: Engine, now: datetime, *, grace: timedelta, limit: int = 500) -> int:
    """Rows still ``scheduled`` more than ``grace`` after their due time → ``missed`` with a notice. Returns the count."""
    with session_scope(engine) as session:
        query = (
            select(Delivery)
            .where(Delivery.state == DeliveryState.scheduled, Delivery.due_at < now - grace)
            .order_by(col(Delivery.due_at))
            .limit(limit)
        )
        if not is_sqlite(engine):
            query = query.with_for_update(skip_locked=True)
        rows = session.exec(query).all()
        for row in rows:
            late = now - row.due_at
            reason = f"not sent: {_minutes(late)} late, past the {_minutes(grace)} grace window"
            if row.last_error:
                reason += f" (last problem: {row.last_error})"
            row.state, row.last_error, row.updated_at = DeliveryState.missed, reason, now
            session.add(row)
            notify(
                session,
                campaign=row.campaign,
                kind="missed",
                message=f"{row.post_id} on {row.channel} due {row.due_at:%Y-%m-%d %H:%M} UTC was missed: {reason}",
                dedupe_key=f"missed:{row.id}:{row.due_at.isoformat()}",
            )
        return len(rows)


def next_due(engine: Engine, now: datetime) -> datetime | None:
    """The earliest time a ``scheduled`` row becomes claimable after ``now`` (None when nothing is waiting)."""
    with session_scope(engine) as session:
        a = session.exec(
            select(func.min(Delivery.due_at)).where(Delivery.state == DeliveryState.scheduled, Delivery.due_at > now)
        ).one()
        b = session.exec(
            select(func.min(Delivery.next_attempt_at)).where(
                Delivery.state == DeliveryState.scheduled, col(Delivery.next_attempt_at) > now
            )
        ).one()
    times = [t for t in (a, b) if t is not None]
    return min(times) if times else None


def _minutes(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes >= 1 else f"{delta.total_seconds():.0f} s"
