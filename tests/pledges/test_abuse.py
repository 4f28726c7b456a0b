"""Rate limits in upserted buckets (one row per client, campaign and window, never one per attempt), the in-process
gate, and the pruning job (ended buckets, old fraud rows), on SQLite and PostgreSQL with an explicit ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.models import Pledge, PledgeStatus, RateBucket
from social_campaign.pledges.abuse import RateGate, count_attempts, prune, retry_after, window_start, windows

NOW = datetime(2027, 3, 1, 12, 0, 10, tzinfo=UTC)  # 10 s into a minute, 10 s into an hour
A, B = "a" * 64, "b" * 64
LIMITS = [(3, 60.0), (10, 3600.0)]


def buckets(engine: Engine) -> list[RateBucket]:
    with Session(engine) as s:
        return list(s.exec(select(RateBucket).order_by(RateBucket.ip_hash, RateBucket.window_seconds)).all())  # type: ignore[arg-type]


def attempt(engine: Engine, *who: tuple[str, str], at: datetime = NOW) -> list[datetime | None]:
    with engine.begin() as conn:
        return count_attempts(conn, [(slug, ip_hash, at) for slug, ip_hash in who], LIMITS)


def test_attempts_upsert_one_row_per_window_and_refuse_past_the_count(any_engine: Engine) -> None:
    verdicts = [attempt(any_engine, ("c", A), at=NOW + timedelta(seconds=i))[0] for i in range(25)]
    minute_end, hour_end = datetime(2027, 3, 1, 12, 1, tzinfo=UTC), datetime(2027, 3, 1, 13, 0, tzinfo=UTC)
    assert verdicts[:3] == [None] * 3
    assert verdicts[3:10] == [minute_end] * 7  # over 3 a minute
    assert verdicts[10:] == [hour_end] * 15  # over 10 an hour too: the later end
    rows = buckets(any_engine)
    assert [(b.window_seconds, b.window_start, b.hits) for b in rows] == [
        (60, datetime(2027, 3, 1, 12, 0, tzinfo=UTC), 25), (3600, datetime(2027, 3, 1, 12, 0, tzinfo=UTC), 25),
    ]
    # the next minute starts a new bucket; the hour's is still full
    assert attempt(any_engine, ("c", A), at=NOW + timedelta(minutes=1)) == [hour_end]
    assert len(buckets(any_engine)) == 3


def test_a_batch_counts_like_attempts_one_at_a_time(any_engine: Engine) -> None:
    order = [("c", A), ("c", B), ("c", A), ("d", A), ("c", A), ("c", A), ("c", B)]
    assert attempt(any_engine, *order) == [None, None, None, None, None, NOW.replace(second=0) + timedelta(minutes=1), None]
    hits = {(b.ip_hash[0], b.window_seconds): b.hits for b in buckets(any_engine) if b.campaign == "c"}
    assert hits == {("a", 60): 4, ("a", 3600): 4, ("b", 60): 2, ("b", 3600): 2}
    assert len(buckets(any_engine)) == 6  # 2 clients x 2 windows on "c", 1 client x 2 windows on "d"


def test_windows_and_retry_after() -> None:
    assert windows([(5, 60.0), (2, 60.0), (100, 3600.0), (1, 0.2)]) == {60: 2, 3600: 100, 1: 1}
    assert window_start(NOW, 3600) == datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    assert retry_after(NOW + timedelta(seconds=49.2), NOW) == 50
    assert retry_after(NOW - timedelta(seconds=5), NOW) == 1


def test_gate_remembers_a_client_until_its_window_ends() -> None:
    gate = RateGate(max_entries=2)
    until = NOW + timedelta(seconds=50)
    gate.block("c", A, until, NOW)
    assert gate.blocked("c", A, NOW) == until and gate.blocked("c", B, NOW) is None and gate.blocked("d", A, NOW) is None
    assert gate.blocked("c", A, until) is None and len(gate) == 0  # ended: forgotten
    gate.block("c", A, NOW + timedelta(seconds=1), NOW)
    gate.block("c", B, until, NOW)
    gate.block("d", A, until, NOW)  # full of live entries: not remembered (the database still decides)
    assert gate.blocked("d", A, NOW) is None and len(gate) == 2
    later = NOW + timedelta(seconds=2)
    gate.block("d", A, until, later)  # the ended entry makes room
    assert gate.blocked("d", A, later) == until and gate.blocked("c", A, later) is None


def _settings(settings: Settings, **changes: object) -> Settings:
    return Settings(**{**settings.model_dump(), **changes}, _env_file=None)  # type: ignore[call-arg]


def test_prune_deletes_ended_buckets_and_old_fraud_rows(any_engine: Engine, settings: Settings) -> None:
    limited = _settings(settings, pledge_rate_limits="3/60s,10/3600s", fraud_retention_days=30)
    minute = NOW.replace(second=0)
    with Session(any_engine) as s:
        for seconds, start in ((60, minute - timedelta(minutes=2)), (60, minute - timedelta(minutes=1)), (60, minute),
                               (3600, minute - timedelta(hours=1)), (3600, minute), (300, minute)):
            s.add(RateBucket(campaign="c", ip_hash=A, window_seconds=seconds, window_start=start, hits=1))
        for i, (status, reason, age) in enumerate((
            ("fraud", "honeypot", timedelta(days=31)), ("fraud", "rate limit", timedelta(days=45)),
            ("fraud", "honeypot", timedelta(days=29)), ("pending", None, timedelta(days=60)),
        )):
            email = f"p{i}@example.org"
            s.add(Pledge(campaign="c", name="n", email=email, email_canonical=email, status=status, fraud_reason=reason,
                         active_email=None if status == "fraud" else email, created_at=NOW - age))
        s.commit()
    assert prune(limited, any_engine, NOW) == {"rate_buckets": 4, "fraud_pledges": 2}
    assert [(b.window_seconds, b.window_start) for b in buckets(any_engine)] == [(60, minute), (3600, minute)]
    with Session(any_engine) as s:
        left = s.exec(select(Pledge.email, Pledge.status).order_by(Pledge.email)).all()  # type: ignore[arg-type]
    assert [tuple(r) for r in left] == [("p2@example.org", PledgeStatus.fraud), ("p3@example.org", PledgeStatus.pending)]
    assert prune(limited, any_engine, NOW) == {"rate_buckets": 0, "fraud_pledges": 0}  # idempotent
    # with limits turned off every bucket goes
    assert prune(_settings(settings, pledge_rate_limits=""), any_engine, NOW)["rate_buckets"] == 2


def test_the_scheduler_runs_the_prune_job(settings: Settings, engine: Engine) -> None:
    from social_campaign.scheduling.jobs import JOBS, call

    (spec,) = [s for s in JOBS if s.ref == "social_campaign.scheduling.jobs:pledge_prune"]
    assert spec.interval(settings) == 60.0
    assert call(spec.ref, settings, engine) == {"rate_buckets": 0, "fraud_pledges": 0}
