"""The counter: bumps, reconciliation against COUNT(*) by the flush job, the cache."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from social_campaign.config import Settings
from social_campaign.models import CampaignCounter, Pledge, PledgeStatus
from social_campaign.pledges import counter


def _pledges(engine: Engine, slug: str, statuses: list[str]) -> None:
    with Session(engine) as s:
        for i, status in enumerate(statuses):
            s.add(Pledge(campaign=slug, name="n", email=f"{slug}{i}@example.org", email_canonical=f"{slug}{i}@example.org",
                         active_email=None if status == "fraud" else f"{slug}{i}@example.org", status=status))
        s.commit()


def test_flush_reconciles_drift(any_engine: Engine, settings: Settings) -> None:
    _pledges(any_engine, "a", ["confirmed", "confirmed", "pending", "fraud", "withdrawn"])
    _pledges(any_engine, "b", ["confirmed"])
    now = datetime.now(UTC)
    with Session(any_engine) as s:
        s.add(CampaignCounter(campaign="a", confirmed=17))  # drifted
        s.commit()
    assert counter.flush(settings, any_engine, now) == {"a": 2, "b": 1}
    with Session(any_engine) as s:
        assert s.get(CampaignCounter, "a").confirmed == 2  # type: ignore[union-attr]
    assert counter.flush(settings, any_engine, now) == {"a": 2, "b": 1}  # idempotent


def test_bump_creates_the_row_from_count(any_engine: Engine) -> None:
    _pledges(any_engine, "c", ["confirmed", "confirmed"])
    with Session(any_engine) as s:
        counter.bump(s, "c", +1)  # no row yet: reconciles to COUNT(*) (the caller's change is already in it)
        s.commit()
        assert counter.read(s, "c") == 2
        counter.bump(s, "c", -1)
        s.commit()
        assert counter.read(s, "c") == 1


def test_cache_computes_once_per_interval_across_threads() -> None:
    cache = counter.ProgressCache(ttl=60)
    calls: list[int] = []
    barrier = threading.Barrier(8)

    def compute() -> int:
        calls.append(1)
        return 42

    def hit() -> None:
        barrier.wait()
        assert cache.get("x", compute) == 42

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    cache.invalidate("x")
    assert cache.get("x", compute) == 42 and len(calls) == 2


def test_status_values() -> None:
    assert {s.value for s in PledgeStatus} == {"pending", "confirmed", "withdrawn", "fraud"}
