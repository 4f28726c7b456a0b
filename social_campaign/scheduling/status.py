"""The manager's view: counts per state, what is next, what failed and why, accounts to reconnect, refused edits, and
the background loops' heartbeats (``heartbeat`` table, written by ``supervise.py`` in every running process)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from social_campaign.models import (
    Account,
    AccountStatus,
    CampaignRevision,
    Delivery,
    DeliveryState,
    Heartbeat,
    ManagerNotice,
)
from social_campaign.scheduling.identity import is_dead

if TYPE_CHECKING:
    from social_campaign.supporters.retention import PurgeDue

PROBLEM_STATES = (DeliveryState.failed, DeliveryState.missed, DeliveryState.needs_reconnect, DeliveryState.unconfirmed)
SHOW_STOPPED = timedelta(hours=1)  # loops stopped longer ago than this are not shown


@dataclass(frozen=True)
class LoopView:
    """One loop's heartbeat as ``status`` shows it: ``ok``, ``stalled``, ``stopped`` or ``dead (process gone)``."""

    row: Heartbeat
    state: str
    age_seconds: float


def loop_views(engine: Engine, now: datetime, stale_seconds: float) -> list[LoopView]:
    """The heartbeats of running loops (stalled ones included) and of loops stopped within :data:`SHOW_STOPPED`."""
    views = []
    with Session(engine) as session:
        rows = session.exec(select(Heartbeat).order_by(col(Heartbeat.process), col(Heartbeat.loop))).all()
    for row in rows:
        age = (now - row.beat_at).total_seconds()
        if row.stopped_at is not None or is_dead(f"{row.process}:loop"):
            if now - (row.stopped_at or row.beat_at) <= SHOW_STOPPED:
                views.append(LoopView(row, "stopped" if row.stopped_at else "dead (process gone)", age))
            continue
        views.append(LoopView(row, "stalled" if age > stale_seconds + row.interval_seconds else "ok", age))
    return views


@dataclass(frozen=True)
class CampaignLine:
    """One campaign in ``status``: its slug, its file (``None``: only in the database, no longer served) and counts."""

    slug: str
    path: Path | None
    counts: dict[str, int]


@dataclass
class Status:
    campaigns: list[CampaignLine] = field(default_factory=list)  # every campaign served, then the others with rows
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # campaign -> state -> n
    next_due: list[Delivery] = field(default_factory=list)
    problems: list[Delivery] = field(default_factory=list)
    reconnect: list[Account] = field(default_factory=list)
    refused: list[CampaignRevision] = field(default_factory=list)
    notices: list[ManagerNotice] = field(default_factory=list)
    loops: list[LoopView] = field(default_factory=list)
    purges: list[PurgeDue] = field(default_factory=list)  # retention: next purge per campaign (supporters/retention.py)

    @property
    def stalled(self) -> list[LoopView]:
        return [v for v in self.loops if v.state == "stalled"]


def get_status(
    engine: Engine, now: datetime, *, limit: int = 10, stale_seconds: float = 60.0, retention_days: int = 180,
    paths: list[Path] | None = None,
) -> Status:
    """What ``status`` shows; ``paths``: the campaign files served (``workspace.campaigns.campaign_paths``), each listed
    even before its first sync."""
    from social_campaign.supporters.retention import plan
    from social_campaign.workspace.campaigns import read_slug

    status = Status(loops=loop_views(engine, now, stale_seconds), purges=plan(engine, now, retention_days))
    with Session(engine) as session:
        for campaign, state, n in session.exec(
            select(Delivery.campaign, Delivery.state, func.count()).group_by(
                col(Delivery.campaign), col(Delivery.state)
            )
        ).all():
            status.counts.setdefault(campaign, {})[state] = n
        status.next_due = list(
            session.exec(
                select(Delivery)
                .where(Delivery.state == DeliveryState.scheduled)
                .order_by(col(Delivery.due_at))
                .limit(limit)
            ).all()
        )
        status.problems = list(
            session.exec(
                select(Delivery)
                .where(col(Delivery.state).in_(PROBLEM_STATES))
                .order_by(col(Delivery.updated_at).desc())
                .limit(limit * 5)
            ).all()
        )
        status.reconnect = list(
            session.exec(select(Account).where(Account.status == AccountStatus.needs_reconnect)).all()
        )
        status.refused = list(
            session.exec(select(CampaignRevision).where(col(CampaignRevision.last_refused).is_not(None))).all()
        )
        status.notices = list(
            session.exec(select(ManagerNotice).order_by(col(ManagerNotice.created_at).desc()).limit(limit)).all()
        )
    status.campaigns = _campaign_lines(status.counts, paths or [], read_slug)
    return status


def _campaign_lines(
    counts: dict[str, dict[str, int]], paths: list[Path], read_slug: Callable[[Path], str | None]
) -> list[CampaignLine]:
    lines = [CampaignLine(slug, path, counts.get(slug, {})) for path in paths if (slug := read_slug(path) or "?")]
    listed = {line.slug for line in lines}
    return lines + [CampaignLine(slug, None, by) for slug, by in counts.items() if slug not in listed]
