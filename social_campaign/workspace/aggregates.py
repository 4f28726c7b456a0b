"""Every count the dashboard shows, from grouped queries, and a cache that keeps them at most :data:`MAX_AGE` old.

:func:`compute` runs three groups of GROUP BYs at once on three connections (pledges by hour; by country; the
counts: pledges by status, result emails sent, distinct pledges clicked, deliveries by state and by hour). On 100,000
pledges each pass over the confirmed rows costs tens of milliseconds of the database's time, so the page, ``live.json``
and the API share one result per campaign for up to 2 seconds: a request that finds it older than
:data:`REFRESH_AFTER` still uses it and starts one background refresh, so while someone watches the dashboard the
figures are never more than 2 seconds old and no request waits for them; a request that finds nothing fresh enough
(the first look after a quiet spell) computes in line. Retry and cancel call :func:`forget`, so their own page
shows the change at once. Lists (failures, next posts, accounts) are never cached.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from social_campaign.models import Delivery, EmailMessage, Pledge, ShareClick

log = logging.getLogger(__name__)
P = Pledge.__table__  # type: ignore[attr-defined]
D = Delivery.__table__  # type: ignore[attr-defined]
E = EmailMessage.__table__  # type: ignore[attr-defined]
S = ShareClick.__table__  # type: ignore[attr-defined]
MAX_AGE = 2.0
REFRESH_AFTER = 1.0
NOTIFY_KINDS = ("release", "not_reached")
_pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="dashboard")


@dataclass(frozen=True)
class Counts:
    """``by_status``: pledges per status; ``notified``: result emails sent; ``clicked``: distinct pledges with a share
    click; ``delivery_states``: deliveries per state; ``hours``: (``YYYY-MM-DD HH`` UTC, confirmed pledges);
    ``countries``: (country as typed, confirmed pledges); ``delivery_hours``: (``YYYY-MM-DD HH`` UTC, state, count)."""

    by_status: dict[str, int]
    notified: int
    clicked: int
    delivery_states: dict[str, int]
    hours: list[tuple[str, int]]
    countries: list[tuple[str | None, int]]
    delivery_hours: list[tuple[str, str, int]]


def hour_text(dialect: str, column: Any) -> ColumnElement[Any]:
    """``YYYY-MM-DD HH`` of a UTC timestamp column, in SQL: on SQLite the first 13 characters of the stored text
    (``YYYY-MM-DD HH:MM:SS.ffffff``; several times cheaper than ``strftime``), on PostgreSQL ``to_char``."""
    if dialect == "sqlite":
        return func.substr(column, 1, 13)
    return func.to_char(column, "YYYY-MM-DD HH24")


def read(engine: Engine, *queries: Any) -> list[list[tuple[Any, ...]]]:
    """The rows of each query, on one connection. On SQLite straight from the driver, outside any SQLAlchemy
    transaction: this project's engines begin theirs ``IMMEDIATE`` (the write lock), which would hold pledge intake
    while the dashboard counts; each SELECT alone reads one snapshot of the WAL and takes no lock. The columns need no
    result processing (texts and counts)."""
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            return [[tuple(row) for row in conn.execute(q).all()] for q in queries]
        driver = conn.connection.driver_connection
        assert driver is not None
        out = []
        for q in queries:
            compiled = q.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            cursor = driver.cursor()
            try:
                cursor.execute(str(compiled), [compiled.params[k] for k in compiled.positiontup or ()])
                out.append(cursor.fetchall())
            finally:
                cursor.close()
        return out


def _hours(engine: Engine, slug: str) -> list[tuple[str, int]]:
    hour = hour_text(engine.dialect.name, P.c.confirmed_at)
    [rows] = read(engine, select(hour, func.count()).where(P.c.campaign == slug, P.c.status == "confirmed",
                                                           P.c.confirmed_at.is_not(None)).group_by(hour))
    return [(str(h), int(n)) for h, n in rows]


def _countries(engine: Engine, slug: str) -> list[tuple[str | None, int]]:
    [rows] = read(engine, select(P.c.country, func.count()).where(P.c.campaign == slug, P.c.status == "confirmed")
                  .group_by(P.c.country))
    return [(c, int(n)) for c, n in rows]


def _small(engine: Engine, slug: str) -> dict[str, Any]:
    due = hour_text(engine.dialect.name, D.c.due_at)
    statuses, notified, clicked, states, by_hour = read(
        engine,
        select(P.c.status, func.count()).where(P.c.campaign == slug).group_by(P.c.status),
        select(func.count()).select_from(E).where(E.c.campaign == slug, E.c.kind.in_(NOTIFY_KINDS), E.c.state == "sent"),
        select(func.count(distinct(S.c.pledge_id))).where(S.c.campaign == slug),
        select(D.c.state, func.count()).where(D.c.campaign == slug).group_by(D.c.state),
        select(due, D.c.state, func.count()).where(D.c.campaign == slug).group_by(due, D.c.state),
    )
    return {
        "by_status": {str(s): int(n) for s, n in statuses}, "notified": int(notified[0][0]),
        "clicked": int(clicked[0][0]), "delivery_states": {str(s): int(n) for s, n in states},
        "delivery_hours": [(str(h), str(s), int(n)) for h, s, n in by_hour],
    }


def compute(engine: Engine, slug: str) -> Counts:
    """Every count, now: the three groups of queries run at the same time on three connections (SQLite reads in
    parallel in WAL mode, and its driver releases the GIL while a query runs)."""
    hours = _pool.submit(_hours, engine, slug)
    countries = _pool.submit(_countries, engine, slug)
    small = _small(engine, slug)
    return Counts(hours=hours.result(), countries=countries.result(), **small)


@dataclass
class _Entry:
    started: float  # time.monotonic() when the computation began: the age of what it saw
    value: Counts
    refreshing: bool = False


_lock = threading.Lock()
_cache: weakref.WeakKeyDictionary[Engine, dict[str, _Entry]] = weakref.WeakKeyDictionary()


def cached(engine: Engine, slug: str, max_age: float = MAX_AGE) -> Counts:
    """:func:`compute`'s result at most ``max_age`` seconds old (``0``: always computed now)."""
    if max_age <= 0:
        return compute(engine, slug)
    now = time.monotonic()
    with _lock:
        entry = _cache.get(engine, {}).get(slug)
        if entry is not None and now - entry.started < max_age:
            if now - entry.started >= min(REFRESH_AFTER, max_age / 2) and not entry.refreshing:
                entry.refreshing = True
                threading.Thread(target=_refresh, args=(engine, slug), daemon=True, name="dashboard-refresh").start()
            return entry.value
    return _store(engine, slug)


def forget(engine: Engine, slug: str) -> None:
    """Drop the cached counts of ``slug`` (after a change made from the dashboard itself)."""
    with _lock:
        _cache.get(engine, {}).pop(slug, None)


def _store(engine: Engine, slug: str) -> Counts:
    started = time.monotonic()
    value = compute(engine, slug)
    with _lock:
        slot = _cache.setdefault(engine, {})
        current = slot.get(slug)
        if current is None or current.started < started:
            slot[slug] = _Entry(started, value)
    return value


def _refresh(engine: Engine, slug: str) -> None:
    try:
        _store(engine, slug)
    except Exception as exc:  # a background refresh must not die loudly; the next request computes in line
        log.warning("dashboard refresh of %s failed: %s", slug, type(exc).__name__)
        with _lock:
            entry = _cache.get(engine, {}).get(slug)
            if entry is not None:
                entry.refreshing = False
