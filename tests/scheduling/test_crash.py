"""A worker SIGKILLed after the fake accepted the post: after restart the post exists once and the row says sent."""

from __future__ import annotations

import signal
import time
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


def test_sigterm_with_a_send_stuck_in_the_network_stops_at_once_and_never_resends(settings, engine, tmp_path, fake_x):
    """A send hanging on a platform that accepted the post but never answers does not hold the stop: the process
    ends within the stop budget (not the 300 s request timeout), the row is left ``sending`` for the sweeper, and the
    next worker reconciles it instead of posting again."""
    due = utcnow() - timedelta(seconds=1)
    sync_loaded(settings, engine, campaign(tmp_path, [post("stuck", at=due, channels=("x",), text="US stands alone #CRC")]), due)
    fake_x.add_fault("hang", path="/2/tweets$", method="POST", seconds=600)
    env = worker_env(settings.data_dir, fake_x.url, SOCIAL_CAMPAIGN_REQUEST_TIMEOUT="300")
    log = tmp_path / "worker.log"
    first = start_worker(env, log)
    wait_for(lambda: len(fake_x.posts) == 1, 30, "the fake to accept the post")
    started = time.monotonic()
    assert stop(first, timeout=60) == 0, log.read_text()
    assert time.monotonic() - started < 10  # the stop budget, far below the 300 s request timeout
    (row,) = rows(engine)
    assert row.state == "sending"  # left for the sweeper, not marked failed or sent
    assert "leaving 1 send(s) in flight to the sweeper" in log.read_text()
    fake_x.clear_faults()
    second = start_worker(env, log)
    try:
        wait_for(lambda: rows(engine)[0].state == "sent", 30, "the restarted worker to reconcile the row")
    finally:
        assert stop(second) == 0, log.read_text()
    assert len(fake_x.requests_to("/2/tweets$")) == 1  # never resent
    assert "Traceback" not in log.read_text()
