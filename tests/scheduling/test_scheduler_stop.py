"""The scheduler role in process: ``stop`` never deadlocks with a wake-up being armed, and its jobs run supervised
(a locked database is counted per job and retried; the scheduler keeps beating)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from social_campaign import supervise
from social_campaign.config import Settings
from social_campaign.db import make_engine, upgrade
from social_campaign.models import utcnow
from social_campaign.scheduling.scheduler import CampaignScheduler
from tests.scheduling.helpers import rows
from tests.sqlite_lock import impatient_engine, write_lock


def write_campaign(folder: Path, posts: int = 3) -> Path:
    (folder / "messages").mkdir(parents=True, exist_ok=True)
    at = (utcnow() + timedelta(hours=1)).replace(microsecond=0).isoformat()
    text = '[campaign]\nslug = "childrens-day"\nname = "Children\'s Day"\ntimezone = "America/New_York"\n\n'
    for k in range(posts):
        (folder / "messages" / f"p{k}.md").write_text(f"Post {k}: ratify the CRC #ChildrensDay\n")
        text += f'[[post]]\nid = "p{k}"\nat = {at}\nchannels = ["x", "facebook"]\nmessage = "p{k}"\n\n'
    (folder / "schedule.toml").write_text(text, encoding="utf-8")
    return folder / "schedule.toml"


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_stop_never_deadlocks_while_a_sync_arms_the_wake_up(settings: Settings, engine, tmp_path: Path) -> None:
    s = settings.model_copy(update={"schedule": write_campaign(tmp_path / "c"), "sync_seconds": 0.05})
    for _ in range(20):
        scheduler = CampaignScheduler(s, engine, wake=threading.Event())
        scheduler.start()
        sync = scheduler.loops["social_campaign.scheduling.jobs:sync"]
        first = sync.state.last_beat
        wait_for(lambda s=sync, t=first: s.state.last_beat > t, "a sync run")  # syncs and wake-up arming under way
        stopper = threading.Thread(target=scheduler.stop)
        stopper.start()
        stopper.join(60)  # a deadlock never ends: generous, only there so a failure does not hang the suite
        assert not stopper.is_alive(), "CampaignScheduler.stop deadlocked"
        assert not scheduler.scheduler.running and not scheduler.loops
    assert len(rows(engine)) == 6


def test_a_locked_database_is_counted_per_job_and_the_scheduler_keeps_beating(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervise, "BACKOFF_MAX", 0.2)
    monkeypatch.setattr("social_campaign.scheduling.scheduler.TICK", 0.1)
    path = tmp_path / "locked.db"
    engine = impatient_engine(f"sqlite:///{path}", busy_ms=20)
    upgrade(engine)
    s = settings.model_copy(update={"schedule": write_campaign(tmp_path / "c"), "sync_seconds": 0.1})
    scheduler = CampaignScheduler(s, engine)
    try:
        with write_lock(path):
            scheduler.start()
            sync = scheduler.loops["social_campaign.scheduling.jobs:sync"]
            assert scheduler.heartbeat is not None
            beat = scheduler.heartbeat.state.last_beat
            wait_for(lambda: sync.state.errors >= 3, "three locked sync runs")
            assert "database is locked" in (sync.state.last_error or "")
            wait_for(lambda: scheduler.heartbeat.state.last_beat > beat, "a scheduler beat while locked")  # type: ignore[union-attr]
            locked_beat = sync.state.last_beat
        reader = make_engine(f"sqlite:///{path}")  # waits for the lock like the service does; the jobs' engine gives up
        wait_for(lambda: len(rows(reader)) == 6, "the sync once the lock is gone")
        reader.dispose()
        wait_for(lambda: sync.state.last_beat > locked_beat, "the sync job beating again")
    finally:
        scheduler.stop()
        engine.dispose()
