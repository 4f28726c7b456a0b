"""Retention, with a frozen clock: RETENTION_DAYS after the release (or failure) the supporters on no organisation's
list are erased in batches, the others kept; fraud rows and ended rate buckets are pruned; `status` shows what is due."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.mail.queue import opt_out
from social_campaign.models import AuditEntry, Pledge, PledgeRelease, PledgeStatus, RateBucket
from social_campaign.pledges.share import funnel
from social_campaign.scheduling.jobs import JOBS, resolve
from social_campaign.scheduling.status import get_status
from social_campaign.supporters import retention
from tests.supporters.seed import seed

SLUG = "childrens-day"
DEADLINE = datetime(2026, 2, 1, 17, 0, tzinfo=UTC)
FIRED = DEADLINE + timedelta(days=2)


def scene(engine: Engine) -> None:
    """childrens-day released (p0..p9, evens opted in, p0 opted out of email, p10..p11 pending, one fraud row);
    a failed campaign with two supporters (one opted in); an open campaign with two."""
    seed(engine, 10)
    seed(engine, 2, start=10, status=PledgeStatus.pending)
    seed(engine, 1, start=20, status=PledgeStatus.fraud)
    seed(engine, 2, start=30, campaign="failed-one")
    seed(engine, 2, start=40, campaign="still-open")
    with session_scope(engine) as s:
        opt_out(s.connection(), campaign=SLUG, to_canonical="p0@example.org", now=DEADLINE)
        s.add(PledgeRelease(campaign=SLUG, state="succeeded", goal=5, evaluated_at=DEADLINE, fired_at=FIRED, updated_at=FIRED))
        s.add(PledgeRelease(campaign="failed-one", state="failed", goal=99, evaluated_at=DEADLINE, updated_at=DEADLINE))
        s.add(PledgeRelease(campaign="still-open", state="open", goal=99, updated_at=DEADLINE))
        s.connection().execute(insert(RateBucket.__table__), [  # type: ignore[attr-defined]
            {"campaign": SLUG, "ip_hash": "h", "window_seconds": 60, "window_start": DEADLINE, "hits": 3}])


def names(engine: Engine, campaign: str) -> dict[str, str]:
    with Session(engine) as s:
        rows = s.exec(select(Pledge).where(Pledge.campaign == campaign).order_by(col(Pledge.id))).all()
    return {f"{p.status}:{p.id}": p.name for p in rows}


def test_retention_with_a_frozen_clock(any_engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "BATCH", 3)  # several batches
    settings = settings.model_copy(update={"retention_days": 180})
    scene(any_engine)
    with Session(any_engine) as s:
        before = funnel(s, SLUG)

    early = FIRED + timedelta(days=180) - timedelta(seconds=1)
    plan = get_status(any_engine, early, retention_days=180).purges
    assert [(d.campaign, d.due_at, d.count) for d in plan] == [
        ("failed-one", DEADLINE + timedelta(days=180), 1),  # the failed campaign's clock started at its deadline
        (SLUG, FIRED + timedelta(days=180), 8),  # p0 (opted out of email), odd ones, two pending
    ]
    result = retention.run(settings, any_engine, early)
    assert result["erased"] == {"failed-one": 1}
    assert result["fraud_pledges"] == 1 and result["rate_buckets"] == 1  # pledges.abuse.prune, reused

    due = FIRED + timedelta(days=180)
    assert retention.run(settings, any_engine, due)["erased"] == {SLUG: 8}
    kept = {k: v for k, v in names(any_engine, SLUG).items() if v}
    assert sorted(kept.values()) == ["Supporter 2", "Supporter 4", "Supporter 6", "Supporter 8"]
    assert all(k.startswith("confirmed:") for k in kept)
    assert all(v for v in names(any_engine, "still-open").values())  # undecided: never purged
    with Session(any_engine) as s:
        assert funnel(s, SLUG) == {**before, "fraud": 0}  # the fraud row was pruned; every other count is the same
        entries = s.exec(select(AuditEntry).where(AuditEntry.campaign == SLUG)).all()
        assert {e.actor for e in entries} == {"retention"}
        assert sum(json.loads(e.details)["erased"] for e in entries) == 8 and len(entries) == 3  # batches of 3

    again = retention.run(settings, any_engine, due + timedelta(days=1))  # idempotent
    assert again["erased"] == {} and get_status(any_engine, due, retention_days=180).purges == []


def test_the_job_is_scheduled() -> None:
    (spec,) = [j for j in JOBS if j.ref == "social_campaign.scheduling.jobs:retention"]
    assert resolve(spec.ref).__name__ == "retention"
