from __future__ import annotations

import threading

from sqlmodel import Session, select

from social_campaign.models import TaskRun
from social_campaign.scheduling.jobs import JOBS, call, once_per_period, resolve


def test_once_per_period_runs_a_job_once_across_concurrent_schedulers(engine):
    ran: list[str] = []

    def job(name: str) -> None:
        once_per_period(engine, "release", "2027-11-20T12:00", lambda: ran.append(name) or "done")

    threads = [threading.Thread(target=job, args=(f"s{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ran) == 1
    with Session(engine) as session:
        (row,) = session.exec(select(TaskRun)).all()
        assert row.finished_at is not None
    assert once_per_period(engine, "release", "2027-11-20T12:01", lambda: ran.append("next")) and ran[-1] == "next"


def test_every_job_reference_resolves_and_a_failing_job_does_not_raise(settings, engine):
    for spec in JOBS:
        assert callable(resolve(spec.ref)) and spec.interval(settings) > 0
    missing = settings.model_copy(update={"schedule": settings.data_dir / "nope.toml"})
    assert call("social_campaign.scheduling.jobs:sync", missing, engine) is None  # refused, logged, not raised
