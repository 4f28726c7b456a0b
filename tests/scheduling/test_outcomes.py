"""Each error class end to end: the real X publisher (tweepy) against the fake X API, through claim → send → record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.models import Account, ManagerNotice, utcnow
from social_campaign.scheduling.outcome import account_reconnected
from social_campaign.scheduling.sweeper import sweep
from social_campaign.scheduling.sync import sync_loaded
from social_campaign.scheduling.worker import Worker
from tests.fakes import x_api, x_oauth1_settings
from tests.scheduling.helpers import attempts, campaign, post, rows


@pytest.fixture
def xsettings(tmp_path, fake_x) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", pledge_rate_limits="", request_timeout=1.0, retry_base_seconds=1.0, max_attempts=3,
        _env_file=None, **x_oauth1_settings(fake_x),
    )  # type: ignore[call-arg]  # fmt: skip


def _schedule(settings, engine, tmp_path, *ids: str):
    due = utcnow() - timedelta(seconds=1)
    camp = campaign(tmp_path, [post(i, at=due, channels=("x",), text=f"Post {i}: ratify the #CRC") for i in ids])
    sync_loaded(settings, engine, camp, due - timedelta(minutes=1))
    return due


def _created(fake_x) -> list[str]:
    return [p["sent_text"] for p in fake_x.posts]


def test_success_records_sent_with_remote_id_and_attempt(xsettings, engine, tmp_path, fake_x):
    _schedule(xsettings, engine, tmp_path, "a")
    worker = Worker(xsettings, engine)
    assert worker.run_once() == 1
    (row,) = rows(engine)
    assert row.state == "sent" and row.remote_id == fake_x.posts[0]["id"] and row.sent_at is not None
    (att,) = attempts(engine, row.id)
    assert (att.outcome, att.http_status) == ("sent", 201) and "POST /2/tweets" in att.request_summary
    assert worker.run_once() == 0 and _created(fake_x) == ["Post a: ratify the #CRC (x)"]
    worker.pool.close()


def test_rate_limited_waits_for_the_reset_and_holds_the_channel(xsettings, engine, tmp_path, fake_x):
    _schedule(xsettings, engine, tmp_path, "a", "b")
    fault = fake_x.rate_limit(reset_in=120, times=1)
    worker = Worker(xsettings.model_copy(update={"worker_threads": 1}), engine)
    assert worker.run_once() == 1
    a, b = rows(engine)
    assert a.state == "scheduled"
    assert a.next_attempt_at == datetime.fromtimestamp(int(fault.headers["x-rate-limit-reset"]), UTC)  # X's reset
    assert b.next_attempt_at == a.next_attempt_at  # the other row of the channel is held too
    assert worker.run_once() == 0
    assert attempts(engine, a.id)[0].outcome == "rate_limited" and attempts(engine, a.id)[0].http_status == 429
    assert worker.run_once(a.next_attempt_at) == 1 and worker.run_once(a.next_attempt_at) == 1
    assert sorted(_created(fake_x)) == ["Post a: ratify the #CRC (x)", "Post b: ratify the #CRC (x)"]
    assert [r.state for r in rows(engine)] == ["sent", "sent"]
    worker.pool.close()


def test_transient_retries_with_backoff_then_gives_up(xsettings, engine, tmp_path, fake_x):
    _schedule(xsettings, engine, tmp_path, "a", "b")
    fake_x.add_fault("status", path="/2/tweets$", method="POST", times=1, status=503, body="<html>over capacity</html>")
    worker = Worker(xsettings.model_copy(update={"worker_threads": 1}), engine)
    worker.run_once()  # a: 503
    a = rows(engine)[0]
    (failed,) = attempts(engine, a.id)
    assert a.state == "scheduled" and failed.outcome == "transient" and failed.finished_at is not None
    # the first retry waits retry_base_seconds (1 s) x a jitter of 0.5-1.5, counted from when the failure was recorded
    delay = (a.next_attempt_at - failed.finished_at).total_seconds()
    assert 0.5 - 1e-6 <= delay <= 1.5 + 1e-6
    worker.run_once()  # b goes out meanwhile
    worker.run_once(a.next_attempt_at)
    assert [r.state for r in rows(engine)] == ["sent", "sent"]
    assert [x.outcome for x in attempts(engine, a.id)] == ["transient", "sent"]
    # now every create fails: three attempts, then failed
    fake_x.add_fault("status", path="/2/tweets$", method="POST", times=-1, status=503, body="<html>down</html>")
    _schedule(xsettings, engine, tmp_path, "c")
    when = utcnow()
    for _ in range(3):
        worker.run_once(when)
        c = rows(engine, post_id="c")[0]
        when = c.next_attempt_at or when
    assert c.state == "failed" and c.last_error.startswith("gave up after 3 attempts")
    assert _created(fake_x).count("Post c: ratify the #CRC (x)") == 0
    assert len(_created(fake_x)) == len(set(_created(fake_x))) == 2
    worker.pool.close()


def test_rejected_duplicate_is_final_with_the_reason(xsettings, engine, tmp_path, fake_x):
    _schedule(xsettings, engine, tmp_path, "a")
    fake_x.add_fault("status", path="/2/tweets$", method="POST", status=403, body=x_api.DUPLICATE)
    worker = Worker(xsettings, engine)
    worker.run_once()
    (row,) = rows(engine)
    assert row.state == "failed" and "duplicate" in row.last_error.lower()
    (att,) = attempts(engine, row.id)
    assert (att.outcome, att.http_status) == ("rejected", 403)
    assert worker.run_once(utcnow() + timedelta(minutes=5)) == 0 and fake_x.posts == []
    worker.pool.close()


def test_auth_failure_marks_the_account_and_holds_its_posts(xsettings, engine, tmp_path, fake_x):
    _schedule(xsettings, engine, tmp_path, "a", "b")
    fake_x.add_fault("status", path="/2/tweets$", method="POST", times=1, status=401, body=x_api.UNAUTHORIZED)
    worker = Worker(xsettings.model_copy(update={"worker_threads": 1}), engine)
    worker.run_once()
    a, b = rows(engine)
    assert a.state == "needs_reconnect" and b.state == "scheduled"
    with Session(engine) as session:
        assert session.get(Account, "x").status == "needs_reconnect"
        (notice,) = session.exec(select(ManagerNotice)).all()
        assert notice.kind == "reconnect" and "x account needs reconnecting" in notice.message
    assert worker.run_once() == 0  # the account is not used until reconnected
    assert account_reconnected(engine, "x", utcnow()) == 1
    assert worker.run_once() == 1 and worker.run_once() == 1
    assert [r.state for r in rows(engine)] == ["sent", "sent"] and len(fake_x.posts) == 2
    worker.pool.close()


def test_outcome_unknown_is_reconciled_to_sent_never_resent(xsettings, engine, tmp_path, fake_x):
    _schedule(xsettings, engine, tmp_path, "a")
    fake_x.add_fault("hang", path="/2/tweets$", method="POST", seconds=3)  # accepted, answer never arrives in time
    worker = Worker(xsettings, engine)
    worker.run_once()
    (row,) = rows(engine)
    assert row.state == "unconfirmed" and len(fake_x.posts) == 1
    assert worker.run_once(utcnow() + timedelta(minutes=1)) == 0  # never resent blindly
    report = sweep(xsettings, engine, utcnow(), pool=worker.pool)
    assert report.sent == 1
    (row,) = rows(engine)
    assert row.state == "sent" and row.remote_id == fake_x.posts[0]["id"]
    assert [a.outcome for a in attempts(engine, row.id)] == ["unknown", "reconciled"]
    assert len(fake_x.posts) == 1
    worker.pool.close()


def test_outcome_unknown_not_on_the_network_is_resent_once(xsettings, engine, tmp_path, fake_x):
    _schedule(xsettings, engine, tmp_path, "a")
    fake_x.add_fault("drop", path="/2/tweets$", method="POST")  # the connection dies before the fake stores it
    worker = Worker(xsettings, engine)
    worker.run_once()
    assert rows(engine)[0].state in ("unconfirmed", "scheduled")  # reset: unknown; refused: transient
    if rows(engine)[0].state == "unconfirmed":
        assert sweep(xsettings, engine, utcnow(), pool=worker.pool).rescheduled == 1
    row = rows(engine)[0]
    worker.run_once(row.next_attempt_at or utcnow())
    assert rows(engine)[0].state == "sent" and _created(fake_x) == ["Post a: ratify the #CRC (x)"]
    worker.pool.close()
