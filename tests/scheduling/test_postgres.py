"""Four worker processes on PostgreSQL and 2,000 due deliveries: every post is created exactly once on the fake X API."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.db import make_engine, upgrade
from social_campaign.models import Attempt, Delivery, utcnow
from social_campaign.scheduling.sync import sync_loaded
from tests.scheduling.helpers import campaign, post
from tests.scheduling.procs import (
    FakeXProcess,
    start_worker,
    stop,
    wait_for,
    worker_env,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
N = 2000


def test_four_worker_processes_send_each_of_2000_posts_exactly_once(pg_url, tmp_path):
    engine = make_engine(pg_url)
    upgrade(engine)
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url, _env_file=None)  # type: ignore[call-arg]
    due = utcnow() - timedelta(seconds=1)
    posts = [post(f"p{i:04d}", at=due, channels=("x",), text=f"Supporter wave {i} #CRC") for i in range(N)]
    sync_loaded(settings, engine, campaign(tmp_path, posts), due)
    fake = FakeXProcess()
    env = worker_env(tmp_path / "data", fake.url, SOCIAL_CAMPAIGN_DATABASE_URL=pg_url, SOCIAL_CAMPAIGN_WORKER_THREADS="16")
    workers = [start_worker(env, tmp_path / f"worker{i}.log") for i in range(4)]

    def sent() -> bool:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(Delivery).where(Delivery.state == "sent")).one() == N

    try:
        wait_for(sent, 150, f"{N} deliveries to be sent")
    finally:
        codes = [stop(w) for w in workers]
        created = fake.posts()
        fake.close()
    assert codes == [0, 0, 0, 0]
    texts = Counter(p["sent_text"] for p in created)
    assert len(created) == N and set(texts.values()) == {1}
    assert set(texts) == {f"Supporter wave {i} #CRC (x)" for i in range(N)}
    with Session(engine) as session:
        remote = {d.remote_id for d in session.exec(select(Delivery)).all()}
        assert remote == {p["id"] for p in created}
        claimers = Counter(d.claimed_by.split(":")[2] for d in session.exec(select(Delivery)).all())
        attempts = session.exec(select(Attempt)).all()
        # on a loaded machine a send may time out and be reconciled or retried; never a second accepted post
        assert {a.outcome for a in attempts} <= {"sent", "reconciled", "unknown", "transient"}
        accepted = Counter(a.delivery_id for a in attempts if a.outcome == "sent")
        assert len(accepted) <= N and set(accepted.values()) <= {1}
    assert len(claimers) >= 2  # the work really was shared between processes
    engine.dispose()
