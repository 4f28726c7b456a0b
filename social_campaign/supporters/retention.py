"""Retention: ``SOCIAL_CAMPAIGN_RETENTION_DAYS`` after a campaign's release (or its failure), the personal data of
supporters who are not on an organisation's list is erased.

The clock starts at the release's ``fired_at`` for a campaign that reached its goal (supporters use their share
pages from then on) and at ``evaluated_at`` (the deadline) for one that failed; an open campaign is never purged.
Kept: exactly the supporters an export would list for some organisation (``export.kept_ids``: confirmed, consented
to updates, not opted out of email). Fraud rows are not erased here: ``pledges.abuse.prune`` deletes them whole after
``SOCIAL_CAMPAIGN_FRAUD_RETENTION_DAYS``, and the job calls it too (with the rate-limit buckets).

:func:`purge` is idempotent (erased pledges are skipped) and works in batches of :data:`BATCH`, one transaction and
one audit entry per batch, so a long purge holds no lock for long and resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from social_campaign import audit
from social_campaign.db import session_scope
from social_campaign.models import Pledge, PledgeData, PledgeRelease, PledgeStatus, ReleaseState
from social_campaign.supporters import export
from social_campaign.supporters.erase import erase_pledge, forget_old_copies

P = Pledge.__table__  # type: ignore[attr-defined]
D = PledgeData.__table__  # type: ignore[attr-defined]
R = PledgeRelease.__table__  # type: ignore[attr-defined]
BATCH = 500
ACTOR = "retention"


@dataclass(frozen=True)
class PurgeDue:
    """One campaign's purge: when it is due and how many supporters it erases (as of now)."""

    campaign: str
    due_at: datetime
    count: int


def decided(conn: Connection) -> list[tuple[str, datetime]]:
    """``(campaign, start of the retention period)`` of every campaign whose release was decided."""
    out = []
    for row in conn.execute(select(R.c.campaign, R.c.state, R.c.evaluated_at, R.c.fired_at)):
        start = row.fired_at if row.state == ReleaseState.succeeded else row.evaluated_at
        if row.state in (ReleaseState.succeeded, ReleaseState.failed) and start is not None:
            out.append((row.campaign, start))
    return out


def _erasable(slug: str) -> Any:
    """The pledges of ``slug`` whose data the purge erases: not erased, not fraud, on no organisation's list."""
    return and_(
        P.c.campaign == slug,
        P.c.status != PledgeStatus.fraud.value,
        or_(D.c.pledge_id.is_(None), D.c.erased_at.is_(None)),
        P.c.id.not_in(export.kept_ids(slug)),
    )


def count_erasable(conn: Connection, slug: str) -> int:
    query = select(func.count()).select_from(P.outerjoin(D, D.c.pledge_id == P.c.id)).where(_erasable(slug))
    return int(conn.execute(query).scalar_one())


def plan(engine: Engine, now: datetime, days: int) -> list[PurgeDue]:
    """Every decided campaign with supporters left to erase: its due date and how many (for ``status``)."""
    with engine.connect() as conn:
        dues = [PurgeDue(slug, start + timedelta(days=days), count_erasable(conn, slug)) for slug, start in decided(conn)]
    return sorted((d for d in dues if d.count), key=lambda d: (d.due_at, d.campaign))


def purge(engine: Engine, now: datetime, days: int, *, data_dir: Path | None = None, max_batches: int = 200) -> dict[str, int]:
    """Erase the erasable supporters of every campaign past its retention period; returns how many per campaign."""
    with engine.connect() as conn:
        due = [slug for slug, start in decided(conn) if start + timedelta(days=days) <= now]
    done: dict[str, int] = {}
    batches = 0
    for slug in due:
        while batches < max_batches:
            n = _purge_batch(engine, slug, now, data_dir)
            batches += 1
            if not n:
                break
            done[slug] = done.get(slug, 0) + n
    if done:
        forget_old_copies(engine)
    return done


def _purge_batch(engine: Engine, slug: str, now: datetime, data_dir: Path | None) -> int:
    from sqlmodel import select as orm_select

    with session_scope(engine) as session:
        ids = session.connection().execute(
            select(P.c.id).select_from(P.outerjoin(D, D.c.pledge_id == P.c.id)).where(_erasable(slug))
            .order_by(P.c.id).limit(BATCH)
        ).scalars().all()
        if not ids:
            return 0
        pledges = session.exec(orm_select(Pledge).where(col(Pledge.id).in_(ids)).order_by(col(Pledge.id))).all()
        n = sum(erase_pledge(session, p, now=now, actor=ACTOR, data_dir=data_dir, audit_entry=False) for p in pledges)
        audit.record(session, actor=ACTOR, action="erase", campaign=slug, target=slug, at=now,
                     details={"erased": n, "first_pledge": ids[0], "last_pledge": ids[-1], "reason": "retention"})
    return n


def run(settings: Any, engine: Engine, now: datetime) -> dict[str, Any]:
    """The job: purge what is due, then prune fraud rows and ended rate-limit buckets (``pledges.abuse.prune``)."""
    from social_campaign.pledges.abuse import prune

    erased = purge(engine, now, settings.retention_days, data_dir=settings.data_dir)
    return {"erased": erased, **prune(settings, engine, now)}
