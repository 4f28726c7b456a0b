"""The public confirmed count: a counter row per campaign, cheap to read under load.

* A confirmation or withdrawal bumps :class:`CampaignCounter` by ±1 in its own transaction (confirmations are human
  clicks, so the row is never hot), and the web process drops its cached figure at once.
* :func:`flush` (the scheduler job ``pledges.counter:flush``, every ``progress_interval`` seconds) reconciles each row
  against ``COUNT(*)`` of confirmed pledges, so a lost bump heals within one interval.
* :class:`ProgressCache` keeps the figure in process for ``progress_interval`` seconds: progress.json under load costs one
  small read per interval per process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.models import CampaignCounter, Pledge, PledgeStatus, utcnow

T = TypeVar("T")


def count_confirmed(session: Session, campaign: str) -> int:
    return int(
        session.exec(
            select(func.count()).select_from(Pledge).where(Pledge.campaign == campaign, Pledge.status == PledgeStatus.confirmed)
        ).one()
    )


def reconcile(session: Session, campaign: str, now: datetime | None = None) -> int:
    """Set the counter row to ``COUNT(*)`` (creating it) and return the figure."""
    now = now or utcnow()
    actual = count_confirmed(session, campaign)
    row = session.get(CampaignCounter, campaign)
    if row is None:
        try:
            with session.begin_nested():
                session.add(CampaignCounter(campaign=campaign, confirmed=actual, reconciled_at=now, updated_at=now))
            return actual
        except IntegrityError:  # created concurrently
            row = session.get(CampaignCounter, campaign)
            assert row is not None
    if row.confirmed != actual or row.reconciled_at is None or row.reconciled_at < now:
        row.confirmed, row.reconciled_at, row.updated_at = actual, now, now
        session.add(row)
    return actual


def bump(session: Session, campaign: str, delta: int) -> None:
    """Add ``delta`` to the counter in the caller's transaction (after the pledge row changed)."""
    result = session.execute(
        update(CampaignCounter)
        .where(CampaignCounter.campaign == campaign)  # type: ignore[arg-type]
        .values(confirmed=CampaignCounter.confirmed + delta, updated_at=utcnow())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        reconcile(session, campaign)


def read(session: Session, campaign: str) -> int:
    row = session.get(CampaignCounter, campaign)
    return row.confirmed if row is not None else reconcile(session, campaign)


def flush(settings: Settings, engine: Engine, now: datetime) -> dict[str, int]:
    """Job: reconcile every campaign's counter against COUNT(*). Idempotent."""
    out: dict[str, int] = {}
    with session_scope(engine) as session:
        campaigns = set(session.exec(select(Pledge.campaign).distinct()).all())
        campaigns |= set(session.exec(select(CampaignCounter.campaign)).all())
        for campaign in sorted(campaigns):
            out[campaign] = reconcile(session, campaign, now)
    return out


class ProgressCache:
    """Values per campaign (the progress figure, its JSON) kept for ``ttl`` seconds in this process. Thread-safe:
    one thread computes an expired value while the others wait for it, so the database sees one read per interval."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._values: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def fresh(self, key: str) -> Any | None:
        hit = self._values.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        return None

    def get(self, key: str, compute: Callable[[], T]) -> T:
        value = self.fresh(key)
        if value is not None:
            return value  # type: ignore[no-any-return]
        with self._lock:
            value = self.fresh(key)
            if value is None:
                value = compute()
                self._values[key] = (time.monotonic(), value)
        return value

    def invalidate(self, key: str) -> None:
        """Drop ``key`` and everything derived from it (``key.json``)."""
        self._values.pop(key, None)
        self._values.pop(f"{key}.json", None)
