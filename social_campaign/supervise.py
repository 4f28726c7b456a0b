"""Supervised background loops: they survive any exception, back off, and report a heartbeat.

Every long-lived loop (delivery worker, mail worker, scheduler jobs, pledge writer) runs under a :class:`Loop`::

    with Loop("mail", role="worker", engine=engine, stop=stop_event, interval=settings.poll_seconds) as loop:
        while loop.running():          # beats
            with loop.guard():         # any exception: logged, counted, backed off; the loop goes on
                ...one round...
            loop.wait(settings.poll_seconds)

An exception is logged with its traceback the first time its cause (type and raising line) is seen in this loop;
later repeats are logged at DEBUG, and at WARNING one line every :data:`SUMMARY_EVERY` repeats. After a failure the
loop waits (capped exponential backoff, :data:`BACKOFF_FIRST` doubling to :data:`BACKOFF_MAX`) without beating, so a
loop that keeps failing goes stale. Transient database errors (:func:`is_transient`: SQLite locked/busy, PostgreSQL
serialization failure, deadlock, lost connection) are logged as one line without a traceback; they are never fatal.

Beats live in memory (:data:`REGISTRY`, read by ``/healthz`` of this process) and are upserted into the ``heartbeat``
table by one background thread every :data:`PERSIST_EVERY` seconds (never by the loops themselves, so a held database
lock cannot stall a loop through its heartbeat), and once more with ``stopped_at`` when a loop stops cleanly. A loop
is *stalled* when its thread died without a clean stop, or when it has not beaten for the stale time plus its interval.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy.engine import Engine

from social_campaign.errors import SocialCampaignError
from social_campaign.models import Heartbeat, utcnow

log = logging.getLogger(__name__)

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
PERSIST_EVERY = 3.0
SUMMARY_EVERY = 100
_TRANSIENT_TEXT = ("database is locked", "database is busy", "database table is locked", "deadlock detected",
                   "could not serialize", "serialization failure", "server closed the connection",
                   "connection refused", "terminating connection")  # fmt: skip
_TRANSIENT_SQLSTATE = ("40001", "40P01", "08", "57P01", "57P02", "57P03")


def is_transient(exc: BaseException) -> bool:
    """A database error worth retrying as it is: locked/busy, serialization failure, deadlock, connection lost."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
    if sqlstate and sqlstate.startswith(_TRANSIENT_SQLSTATE):
        return True
    text = str(exc.orig or exc).lower()
    return isinstance(exc, OperationalError) or any(t in text for t in _TRANSIENT_TEXT)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def _cause(exc: BaseException) -> tuple[str, str]:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return type(exc).__qualname__, where


def process_id() -> str:
    """``host:boot:pid`` of this process (the ``heartbeat`` table's ``process``)."""
    from social_campaign.scheduling.identity import boot_id, host

    return f"{host()}:{boot_id()}:{os.getpid()}"[:100]


@dataclass
class LoopState:
    """What one loop reported. ``last_beat`` is monotonic; ``beat_at`` the same moment in UTC."""

    name: str
    role: str
    db: str | None
    interval: float
    thread: threading.Thread | None
    engine: Engine | None = None
    last_beat: float = field(default_factory=time.monotonic)
    beat_at: datetime = field(default_factory=utcnow)
    errors: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    stopped_at: datetime | None = None
    dirty: bool = True

    def problem(self, stale_seconds: float, now: float | None = None) -> str | None:
        """Why this loop counts as stalled, or None when it is fine (or stopped cleanly)."""
        if self.stopped_at is not None:
            return None
        if self.thread is not None and not self.thread.is_alive():
            return "dead: its thread ended without a clean stop"
        quiet = (now if now is not None else time.monotonic()) - self.last_beat
        if quiet > stale_seconds + self.interval:
            why = f"no heartbeat for {quiet:.0f} s"
            return f"{why} (last error: {self.last_error})" if self.last_error else why
        return None


class Registry:
    """The loops of this process, for ``/healthz``; also what the persister writes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loops: dict[int, LoopState] = {}

    def add(self, state: LoopState) -> None:
        with self._lock:
            self._loops[id(state)] = state

    def remove(self, state: LoopState) -> None:
        with self._lock:
            self._loops.pop(id(state), None)

    def loops(self, db: str | None = None) -> list[LoopState]:
        with self._lock:
            return [s for s in self._loops.values() if db is None or s.db == db]

    def stalled(self, stale_seconds: float, db: str | None = None) -> dict[str, str]:
        """``{loop name: reason}`` of this process's stalled loops (on database ``db`` only, when given)."""
        now = time.monotonic()
        return {s.name: why for s in self.loops(db) if (why := s.problem(stale_seconds, now)) is not None}


REGISTRY = Registry()


def db_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


class Loop:
    """One supervised loop; see the module docstring. Use as a context manager (a clean exit marks it stopped).

    ``thread`` is the thread whose death means the loop is dead: the current one by default, ``False`` for none
    (scheduler jobs, which run on APScheduler's pool).
    """

    def __init__(
        self, name: str, *, role: str = "", engine: Engine | None = None, stop: threading.Event | None = None,
        interval: float = 1.0, thread: threading.Thread | bool | None = True, registry: Registry = REGISTRY,
    ) -> None:  # fmt: skip
        self.name, self.stop = name, stop or threading.Event()
        self.registry = registry
        self.state = LoopState(
            name, role, db_key(engine) if engine is not None else None, interval,
            threading.current_thread() if thread is True else thread or None, engine,
        )  # fmt: skip
        self._failures = 0  # consecutive
        self._seen: dict[tuple[str, str], int] = {}
        self.retry_at = 0.0  # monotonic time before which a job-style loop should not run again
        registry.add(self.state)
        if engine is not None:
            PERSISTER.ensure()

    # --- beating and waiting --------------------------------------------------------------------------------------
    def beat(self) -> None:
        self.state.last_beat, self.state.beat_at, self.state.dirty = time.monotonic(), utcnow(), True

    def running(self) -> bool:
        """Beat, and tell whether the loop should go on (its stop event is not set)."""
        self.beat()
        return not self.stop.is_set()

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` (less when stopped), beating at least every few seconds. True when stopped."""
        deadline = time.monotonic() + max(0.0, seconds)
        while (left := deadline - time.monotonic()) > 0:
            if self.stop.wait(min(left, PERSIST_EVERY)):
                return True
            self.beat()
        return self.stop.is_set()

    # --- failures -------------------------------------------------------------------------------------------------
    @property
    def failing(self) -> bool:
        """The last round failed."""
        return self._failures > 0

    def may_run(self) -> bool:
        """False while backing off after a failure (for job-style loops that do not wait in :meth:`failed`)."""
        return time.monotonic() >= self.retry_at

    def ok(self) -> None:
        self._failures = 0
        self.retry_at = 0.0

    def failed(self, exc: BaseException, *, wait: bool = True) -> float:
        """Record and log ``exc``; then back off (waiting on the stop event unless ``wait`` is False). Returns the delay."""
        self._failures += 1
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2.0 ** min(self._failures - 1, 30))
        self.retry_at = time.monotonic() + delay
        st = self.state
        st.errors, st.last_error, st.last_error_at, st.dirty = st.errors + 1, one_line(exc), utcnow(), True
        cause = _cause(exc)
        seen = self._seen[cause] = self._seen.get(cause, 0) + 1
        if is_transient(exc) or isinstance(exc, SocialCampaignError):  # known causes: one line, no traceback
            level = logging.WARNING if seen == 1 or seen % SUMMARY_EVERY == 0 else logging.DEBUG
            what = "transient database error" if is_transient(exc) else "failed"
            log.log(level, "%s: %s (%s); retrying in %.1f s%s", self.name, what, one_line(exc), delay,
                    f" ({seen} times so far)" if seen > 1 else "")
        elif seen == 1:
            log.error("%s failed; retrying in %.1f s", self.name, delay, exc_info=exc)
        elif seen % SUMMARY_EVERY == 0:
            log.warning("%s: the same failure again (%d times so far): %s", self.name, seen, one_line(exc))
        else:
            log.debug("%s failed again: %s", self.name, one_line(exc))
        if wait:
            self.stop.wait(delay)
        return delay

    @contextmanager
    def guard(self, *, wait: bool = True) -> Iterator[None]:
        """Run the block; any ``Exception`` is recorded and backed off (see :meth:`failed`), never raised."""
        try:
            yield
        except Exception as exc:
            self.failed(exc, wait=wait)
        else:
            self.ok()

    # --- stopping -------------------------------------------------------------------------------------------------
    def close(self) -> None:
        """A clean stop: mark ``stopped_at`` and write it (briefly waiting for the persister)."""
        close_all([self])

    def __enter__(self) -> Loop:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if et is None or not issubclass(et, Exception):  # KeyboardInterrupt/SystemExit: still a stop
            self.close()
        else:  # escaped the guard: the loop is dead (it stays registered so /healthz says so)
            log.error("%s stopped by an unexpected error", self.name, exc_info=ev)


def close_all(loops: list[Loop], timeout: float = 1.0) -> None:
    """Stop ``loops`` cleanly: ``stopped_at`` set, written in one round (waiting at most ``timeout``), unregistered."""
    for loop in loops:
        loop.state.stopped_at, loop.state.dirty = utcnow(), True
    if any(loop.state.engine is not None for loop in loops):
        PERSISTER.flush(timeout)
    for loop in loops:
        loop.registry.remove(loop.state)


class Persister:
    """One daemon thread per process writing the registered loops' beats to the ``heartbeat`` table."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._kick = threading.Event()
        self._done = threading.Condition()
        self._rounds = 0
        self._writing = False

    def ensure(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._kick.set()  # write the first beats at once
                self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
                self._thread.start()

    def flush(self, timeout: float) -> None:
        """Ask for a write now and wait (up to ``timeout``) for one that started after this call to finish."""
        with self._done:
            target = self._rounds + (2 if self._writing else 1)
            self._kick.set()
            self._done.wait_for(lambda: self._rounds >= target, timeout)

    def _run(self) -> None:
        while True:
            self._kick.wait(PERSIST_EVERY)
            with self._done:
                self._kick.clear()
                self._writing = True
            try:
                self.write_all()
            except Exception:  # never let the heartbeat thread die
                log.debug("writing heartbeats failed", exc_info=True)
            with self._done:
                self._writing = False
                self._rounds += 1
                self._done.notify_all()

    def write_all(self) -> None:
        by_engine: dict[int, tuple[Engine, list[LoopState]]] = {}
        for state in self.registry.loops():
            if state.engine is not None and state.dirty:
                by_engine.setdefault(id(state.engine), (state.engine, []))[1].append(state)
        me = process_id()
        for engine, states in by_engine.values():
            for state in states:
                state.dirty = False
            states = list({s.name[:60]: s for s in sorted(states, key=lambda s: s.last_beat)}.values())  # one row each
            try:
                upsert(engine, me, states)
            except Exception as exc:  # locked, gone, …: try again next round
                for state in states:
                    state.dirty = True
                log.debug("heartbeat of %s not written: %s", ", ".join(s.name for s in states), one_line(exc))


PERSISTER = Persister(REGISTRY)


def upsert(engine: Engine, process: str, states: list[LoopState]) -> None:
    """Insert or update the ``heartbeat`` rows of ``states`` for ``process``."""
    if engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    table: Any = Heartbeat.__table__  # type: ignore[attr-defined]
    rows = [
        {"process": process, "loop": s.name[:60], "role": s.role[:40], "beat_at": s.beat_at,
         "interval_seconds": s.interval, "errors": s.errors, "last_error": s.last_error,
         "last_error_at": s.last_error_at, "stopped_at": s.stopped_at}
        for s in states
    ]  # fmt: skip
    stmt = insert(table).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.process, table.c.loop],
        set_={k: stmt.excluded[k] for k in ("role", "beat_at", "interval_seconds", "errors", "last_error",
                                            "last_error_at", "stopped_at")},
    )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(stmt)
