"""The sweeper: recovers rows a crashed worker left in ``sending`` and reconciles ``unconfirmed`` rows.

A ``sending`` row is recovered when its lease (``settings.lease_seconds``) has run out, or at once when its
``claimed_by`` names a process on this host that no longer exists (see ``identity.py``). Recovery moves it to
``unconfirmed`` (the create request may have gone out) and reconciliation decides from the network. Runs every ~15 s
from the scheduler role and the worker loop, and once when a worker starts. Idempotent and safe to run concurrently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.models import Attempt, Delivery, DeliveryState
from social_campaign.scheduling.claim import mark_missed
from social_campaign.scheduling.identity import is_dead
from social_campaign.scheduling.pool import PublisherPool
from social_campaign.scheduling.reconcile import reconcile_row

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    recovered: int = 0
    sent: int = 0
    rescheduled: int = 0
    unknown: int = 0
    missed: int = 0


def recover_stale(engine: Engine, now: datetime, lease: timedelta) -> int:
    """``sending`` rows past their lease or of a dead local process → ``unconfirmed``. Returns the count."""
    with session_scope(engine) as session:
        rows = session.exec(select(Delivery).where(Delivery.state == DeliveryState.sending)).all()
        stale = [r for r in rows if (r.claimed_at is None or r.claimed_at < now - lease) or is_dead(r.claimed_by)]
        count = 0
        for row in stale:
            why = "its worker died" if is_dead(row.claimed_by) else "its lease ran out"
            changed = session.exec(
                update(Delivery)
                .where(
                    col(Delivery.id) == row.id,
                    col(Delivery.state) == DeliveryState.sending,
                    col(Delivery.claimed_by) == row.claimed_by,
                )
                .values(
                    state=DeliveryState.unconfirmed,
                    last_error=f"left in sending ({why}); checking the network",
                    updated_at=now,
                )
            ).rowcount
            if not changed:
                continue
            count += 1
            for attempt in session.exec(
                select(Attempt).where(Attempt.delivery_id == row.id, Attempt.outcome == "pending")
            ).all():
                attempt.outcome, attempt.finished_at, attempt.reason = "unknown", now, f"no answer recorded: {why}"
                session.add(attempt)
            log.warning("delivery %s left in sending by %s (%s): reconciling", row.id, row.claimed_by, why)
        return count


def sweep(
    settings: Settings,
    engine: Engine,
    now: datetime,
    *,
    pool: PublisherPool | None = None,
    startup: bool = False,
    limit: int = 200,
) -> SweepReport:
    """Recover stale rows, reconcile ``unconfirmed`` ones, then mark rows past the grace window ``missed``."""
    report = SweepReport()
    report.recovered = recover_stale(engine, now, timedelta(seconds=settings.lease_seconds))
    with session_scope(engine) as session:
        rows = session.exec(
            select(Delivery)
            .where(Delivery.state == DeliveryState.unconfirmed)
            .order_by(col(Delivery.updated_at))
            .limit(limit)
        ).all()
    own_pool = pool is None
    pool = pool or PublisherPool(settings, engine)
    try:
        for row in rows:
            outcome = reconcile_row(engine, row, pool, now)
            if outcome == "sent":
                report.sent += 1
            elif outcome == "scheduled":
                report.rescheduled += 1
            else:
                report.unknown += 1
    finally:
        if own_pool:
            pool.close()
    report.missed = mark_missed(engine, now, grace=timedelta(minutes=settings.grace_minutes))
    if startup and (report.recovered or rows):
        log.info("start-up sweep: %s", report)
    return report
