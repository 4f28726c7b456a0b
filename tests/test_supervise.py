"""supervise.py: a loop survives any exception and a transient database error, logs each cause once with its
traceback, keeps beating, and its heartbeat reaches the ``heartbeat`` table (with ``stopped_at`` on a clean stop)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from social_campaign import supervise
from social_campaign.db import make_engine, upgrade
from social_campaign.models import Heartbeat
from social_campaign.supervise import Loop, Registry, is_transient, process_id
from tests.sqlite_lock import impatient_engine, write_lock


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervise, "BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(supervise, "BACKOFF_MAX", 0.05)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'sv.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


def locked_error(path: Path) -> OperationalError:
    """A real SQLite ``database is locked``: another connection holds the write lock, ours does not wait."""
    eng = impatient_engine(f"sqlite:///{path}")
    try:
        with write_lock(path), eng.begin() as conn:
            conn.execute(text("UPDATE heartbeat SET errors = 0"))
    except OperationalError as exc:
        return exc
    finally:
        eng.dispose()
    raise AssertionError("the write did not meet the lock")


def rows(engine: Engine) -> dict[str, Heartbeat]:
    with Session(engine) as session:
        return {r.loop: r for r in session.exec(select(Heartbeat)).all()}


def test_a_loop_survives_any_exception_and_a_locked_database_and_keeps_beating(
    db: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    locked = locked_error(tmp_path / "sv.db")
    assert is_transient(locked) and "database is locked" in str(locked)
    failures: list[BaseException] = [ValueError("bad value"), KeyError("k"), locked, ValueError("bad value"), locked]
    rounds: list[int] = []
    beats: list[float] = []
    stop = threading.Event()

    def body() -> None:
        with Loop("demo-loop", role="test", engine=db, stop=stop, interval=0.01) as loop:
            while loop.running():
                beats.append(loop.state.last_beat)
                with loop.guard():
                    rounds.append(len(rounds))
                    if failures:
                        raise failures.pop(0)
                    if len(rounds) >= 10:
                        stop.set()

    caplog.set_level(logging.DEBUG, logger="social_campaign.supervise")
    thread = threading.Thread(target=body)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert len(rounds) == 10  # every failure was followed by another round
    assert beats == sorted(beats) and beats[-1] > beats[0]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.exc_info[0] for r in errors if r.exc_info] == [ValueError, KeyError]  # one traceback per cause
    transient = [r for r in caplog.records if "transient database error" in r.getMessage()]
    assert [r.levelno for r in transient] == [logging.WARNING, logging.DEBUG]  # the repeat only at DEBUG
    row = rows(db)["demo-loop"]
    assert (row.process, row.role, row.errors) == (process_id(), "test", 5)
    assert row.last_error is not None and "database is locked" in row.last_error
    assert row.stopped_at is not None and row.last_error_at is not None


def test_a_dead_thread_and_a_silent_loop_are_stalled_a_clean_stop_is_not() -> None:
    registry = Registry()
    crash = threading.Thread(target=lambda: None)
    crash.start()
    crash.join()
    Loop("crashed", thread=crash, registry=registry)
    quiet = Loop("quiet", interval=1.0, registry=registry)
    quiet.state.last_beat -= 100  # its last beat was 100 s ago
    quiet.failed(RuntimeError("smtp down"), wait=False)
    done = Loop("done", thread=crash, registry=registry)
    done.close()
    fine = Loop("fine", registry=registry)
    stalled = registry.stalled(stale_seconds=60)
    assert set(stalled) == {"crashed", "quiet"}
    assert stalled["crashed"].startswith("dead")
    assert stalled["quiet"].startswith("no heartbeat for 10") and "smtp down" in stalled["quiet"]
    assert fine.state.stopped_at is None


def test_only_database_errors_of_the_transient_kind_count_as_transient() -> None:
    assert not is_transient(ValueError("database is locked"))
    from sqlalchemy.exc import IntegrityError

    assert not is_transient(IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")))


@pytest.mark.postgres
def test_a_dropped_postgresql_connection_is_transient(pg_url: str) -> None:
    eng = make_engine(pg_url)
    try:
        with eng.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            other = make_engine(pg_url)
            with other.connect() as killer:
                killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.dispose()
            with pytest.raises(OperationalError) as info:
                conn.execute(text("SELECT 1"))
        assert is_transient(info.value)
    finally:
        eng.dispose()
