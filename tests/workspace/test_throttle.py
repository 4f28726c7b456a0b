"""Login throttling: only failures count, per account and per client, in fixed windows; nothing readable stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.models import RateBucket
from social_campaign.workspace import throttle

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a multiple of 300 s and of 3600 s since the epoch


def _settings(tmp_path: Path, limits: str = "3/300s,5/3600s") -> Settings:
    return Settings(data_dir=tmp_path / "data", login_rate_limits=limits, _env_file=None)


def test_failures_block_the_account_until_the_window_ends(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    key = throttle.keys(settings, "amina@example.org", "203.0.113.7")
    assert throttle.record_failure(engine, settings, key, START) is None
    assert throttle.record_failure(engine, settings, key, START + timedelta(seconds=10)) is None
    assert throttle.blocked_until(engine, settings, key, START + timedelta(seconds=20)) is None
    assert throttle.record_failure(engine, settings, key, START + timedelta(seconds=30)) == START + timedelta(seconds=300)
    assert throttle.blocked_until(engine, settings, key, START + timedelta(seconds=299)) == START + timedelta(seconds=300)
    assert throttle.blocked_until(engine, settings, key, START + timedelta(seconds=300)) is None  # next window


def test_the_longer_window_holds_after_the_short_one(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    key = throttle.keys(settings, "amina@example.org", "203.0.113.7")
    for minute in (0, 1, 6, 7, 12):
        throttle.record_failure(engine, settings, key, START + timedelta(minutes=minute))
    assert throttle.blocked_until(engine, settings, key, START + timedelta(minutes=20)) == START + timedelta(hours=1)


def test_account_and_client_count_apart(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    attacker = "198.51.100.9"
    for n in range(3):  # three accounts from one client
        throttle.record_failure(engine, settings, throttle.keys(settings, f"user{n}@example.org", attacker), START)
    assert throttle.blocked_until(engine, settings, throttle.keys(settings, "other@example.org", attacker), START)
    # the same account from another client is not blocked by that client's failures
    assert throttle.blocked_until(engine, settings, throttle.keys(settings, "user0@example.org", "192.0.2.1"), START) is None
    for n in range(3):  # an account guessed at from many clients
        throttle.record_failure(engine, settings, throttle.keys(settings, "target@example.org", f"192.0.2.{n}"), START)
    assert throttle.blocked_until(engine, settings, throttle.keys(settings, "Target@example.org", "192.0.2.99"), START)


def test_buckets_hold_keyed_hashes_only(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    throttle.record_failure(engine, settings, throttle.keys(settings, "amina@example.org", "203.0.113.7"), START)
    with Session(engine) as s:
        rows = s.exec(select(RateBucket)).all()
    assert {r.campaign for r in rows} == {throttle.ACCOUNT, throttle.CLIENT}
    assert all("amina" not in r.ip_hash and "203.0" not in r.ip_hash and len(r.ip_hash) == 64 for r in rows)


def test_empty_limits_turn_throttling_off(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(tmp_path, limits="")
    key = throttle.keys(settings, "amina@example.org", "203.0.113.7")
    for _ in range(10):
        assert throttle.record_failure(engine, settings, key, START) is None
    assert throttle.blocked_until(engine, settings, key, START) is None


def test_prune_deletes_ended_login_windows_and_old_totp_steps(engine: Engine, tmp_path: Path) -> None:
    from social_campaign.pledges.abuse import count_attempts
    from social_campaign.workspace import sessions

    settings = _settings(tmp_path)
    key = throttle.keys(settings, "amina@example.org", "203.0.113.7")
    throttle.record_failure(engine, settings, key, START)
    with engine.begin() as conn:
        count_attempts(conn, [(throttle.TOTP_USED, "user:1", START)], [(1, 30.0)])
        count_attempts(conn, [("childrens-day", "pledger", START)], [(30, 60.0)])
    assert throttle.prune(settings, engine, START + timedelta(seconds=60)) == 0
    assert sessions.prune_job(settings, engine, START + timedelta(seconds=300)) == {"sessions": 0, "login_buckets": 3}
    assert throttle.prune(settings, engine, START + timedelta(hours=1)) == 2
    with Session(engine) as s:
        assert [r.campaign for r in s.exec(select(RateBucket)).all()] == ["childrens-day"]  # not ours


def test_the_pledge_prune_leaves_login_counts(engine: Engine, tmp_path: Path) -> None:
    from social_campaign.pledges.abuse import prune

    settings = _settings(tmp_path)
    key = throttle.keys(settings, "amina@example.org", "203.0.113.7")
    for _ in range(3):
        throttle.record_failure(engine, settings, key, START)
    prune(settings, engine, START + timedelta(seconds=61))
    assert throttle.blocked_until(engine, settings, key, START + timedelta(seconds=61)) is not None
