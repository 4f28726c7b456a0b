"""A worker SIGKILLed after the fake accepted the post: after restart the post exists once and the row says sent."""

from __future__ import annotations

import signal
from datetime import timedelta

import pytest

from social_campaign.models import utcnow
from social_campaign.scheduling.sync import sync_loaded
from tests.scheduling.helpers import attempts, campaign, post, rows
from tests.scheduling.procs import start_worker, stop, wait_for, worker_env

pytestmark = pytest.mark.slow


def test_kill_9_after_acceptance_then_restart_posts_exactly_once(settings, engine, tmp_path, fake_x):
    due = utcnow() - timedelta(seconds=1)
    sync_loaded(settings, engine, campaign(tmp_path, [post("only-country", at=due, channels=("x",), text="US stands alone #CRC")]), due)
    fake_x.add_fault("hang", path="/2/tweets$", method="POST", seconds=600)  # accept, then never answer
    env = worker_env(settings.data_dir, fake_x.url, SOCIAL_CAMPAIGN_REQUEST_TIMEOUT="300")
    log = tmp_path / "worker.log"
    first = start_worker(env, log)
    try:
        wait_for(lambda: len(fake_x.posts) == 1, 30, "the fake to accept the post")
        (row,) = rows(engine)
        assert row.state == "sending" and row.claimed_by and f":{first.pid}:" in row.claimed_by
    finally:
        assert stop(first, signal.SIGKILL) == -signal.SIGKILL
    fake_x.clear_faults()
    second = start_worker(env, log)
    try:
        wait_for(lambda: rows(engine)[0].state == "sent", 30, "the restarted worker to reconcile the row")
    finally:
        assert stop(second) == 0, log.read_text()  # SIGTERM: a clean shutdown
    (row,) = rows(engine)
    assert len(fake_x.posts) == 1 and row.remote_id == fake_x.posts[0]["id"]
    assert [a.outcome for a in attempts(engine, row.id)] == ["unknown", "reconciled"]
    assert len(fake_x.requests_to("/2/tweets$")) == 1  # never resent
    assert "Traceback" not in log.read_text()
