"""The mail worker: claims queued emails in batches, sends them, records the outcome. Several may run at once.

Claiming works like deliveries: one statement moves up to ``CLAIM_BATCH`` due rows from ``queued`` to ``sending``
with ``claimed_by``/``claimed_at`` (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite under ``BEGIN IMMEDIATE``) and is
committed before any SMTP traffic. The transport then calls back :func:`_mark_sent` once per round, *before* the
messages are accepted (see ``transport.py``); that update is fenced on ``claimed_by`` so a row recovered by another
worker is never finished twice. Transient failures go back to ``queued`` with exponential backoff
(``retry_base_seconds``, up to ``max_attempts``); permanent ones become ``failed``. Rows left in ``sending`` by a dead
worker are returned to the queue after ``lease_seconds`` (:func:`recover_stale`): they were never accepted, because a
row is marked sent before its final dot. ``mail_rate`` caps emails per second per worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import SQLAlchemyError

from social_campaign.config import Settings
from social_campaign.db import is_sqlite
from social_campaign.errors import MailError
from social_campaign.mail.mime import message_from_row
from social_campaign.mail.queue import UNSUBSCRIBED, opted_out
from social_campaign.mail.transport import Outgoing, Transport, build_transport
from social_campaign.models import EmailMessage, EmailState, utcnow

log = logging.getLogger(__name__)

CLAIM_BATCH = 200


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def build_message(row: Any, mail_from: str) -> bytes:
    """The MIME message of one queued row (see ``mime.py``): stable ``Message-ID`` and ``Date`` from the row."""
    return message_from_row(row, mail_from)


T = EmailMessage.__table__  # type: ignore[attr-defined]
_RETURNING = (T.c.id, T.c.to_addr, T.c.subject, T.c.body_text, T.c.body_html, T.c.headers_json, T.c.message_id,
              T.c.created_at, T.c.attempts)


def claim(engine: Engine, me: str, now: datetime, limit: int = CLAIM_BATCH) -> list[Row[Any]]:
    """Move up to ``limit`` due queued rows to ``sending`` for ``me`` and return them (committed)."""
    due = (
        select(T.c.id)
        .where(T.c.state == EmailState.queued.value, T.c.not_before <= now)
        .order_by(T.c.not_before)
        .limit(limit)
    )
    if not is_sqlite(engine):
        due = due.with_for_update(skip_locked=True)
    stmt = (
        update(T)
        .where(T.c.id.in_(due.scalar_subquery()))
        .values(state=EmailState.sending.value, claimed_by=me, claimed_at=now, attempts=T.c.attempts + 1)
        .returning(*_RETURNING)
    )
    with engine.begin() as conn:
        rows = conn.execute(stmt).all()
        if rows:  # an address that unsubscribed after this row was queued: never sent (see ``mail.queue.opt_out``)
            dropped = set(conn.execute(
                update(T).where(T.c.id.in_([r.id for r in rows]), opted_out(T))
                .values(state=EmailState.suppressed.value, claimed_by=None, last_error=UNSUBSCRIBED).returning(T.c.id)
            ).scalars())
            rows = [r for r in rows if r.id not in dropped]
    return sorted(rows, key=lambda r: r.id)


def recover_stale(engine: Engine, now: datetime, lease_seconds: float) -> int:
    """Return rows left in ``sending`` longer than the lease to the queue (their worker died before accepting them)."""
    stale = now - timedelta(seconds=lease_seconds)
    with engine.begin() as conn:
        res = conn.execute(
            update(T)
            .where(T.c.state == EmailState.sending.value, T.c.claimed_at < stale)
            .values(state=EmailState.queued.value, claimed_by=None)
        )
        n = res.rowcount or 0
    if n:
        log.warning("recovered %d email(s) left in 'sending' by a stopped worker", n)
    return n


class SentMarker:
    """Marks a round of rows ``sent`` for worker ``me`` (fenced on ``claimed_by``); see ``transport.Commit``.

    SQLite commits inside :meth:`mark` (a local, in-process commit). On PostgreSQL, while the batch's claim is young
    (less than half the lease old, so no other worker can have recovered its rows), :meth:`mark` *sends* one
    autocommit ``UPDATE … WHERE claimed_by = me`` and returns at once, so the transport ends the messages straight
    away; :meth:`settle` reads the answer and checks every row was updated. An older claim takes the slow path: the
    UPDATE runs with ``RETURNING`` first and only the rows still ours go ahead. Should the UPDATE fail, it is retried
    in a new transaction; if that fails too the rows stay ``sending`` and are sent again after the lease (logged).
    """

    def __init__(self, engine: Engine, me: str, lease_seconds: float = 120.0) -> None:
        self.engine, self.me, self.lease = engine, me, lease_seconds
        self.claimed_at = time.monotonic()  # set by the worker when it claims a batch
        self._raw: Any = None
        self._pending: list[int] = []

    def _update(self) -> Any:
        return (
            update(T)
            .where(T.c.state == EmailState.sending.value, T.c.claimed_by == self.me)
            .values(state=EmailState.sent.value, last_error=None)
        )

    def _connection(self) -> Any:
        if self._raw is None:
            self._raw = self.engine.raw_connection()
            self._raw.driver_connection.autocommit = True
        return self._raw.driver_connection

    def mark(self, ids: Sequence[int]) -> set[int]:
        if is_sqlite(self.engine) or time.monotonic() - self.claimed_at > self.lease / 2:
            stmt = self._update().where(T.c.id.in_(list(ids))).values(sent_at=utcnow()).returning(T.c.id)
            with self.engine.begin() as conn:
                return set(conn.execute(stmt).scalars().all())
        from psycopg import sql

        raw = self._connection()
        query = sql.SQL(
            "UPDATE {table} SET state = {sent}, sent_at = (now() AT TIME ZONE 'UTC'), last_error = NULL "
            "WHERE id = ANY({ids}) AND state = {sending} AND claimed_by = {me}"
        ).format(
            table=sql.Identifier(T.name), sent=sql.Literal(EmailState.sent.value), ids=sql.Literal([int(i) for i in ids]),
            sending=sql.Literal(EmailState.sending.value), me=sql.Literal(self.me),
        )
        raw.pgconn.send_query(query.as_bytes(raw))  # on its way; commits by itself; the answer is read in settle()
        self._pending = list(ids)
        return set(ids)

    def settle(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        error = None
        try:
            pgconn = self._raw.driver_connection.pgconn
            updated = 0
            while (res := pgconn.get_result()) is not None:
                if res.status != 1:  # pq.ExecStatus.COMMAND_OK
                    error = (res.error_message or b"").decode(errors="replace").strip() or "UPDATE failed"
                else:
                    updated += res.command_tuples or 0
            if error is None and updated != len(pending):
                log.error("%d of %d email(s) just sent were no longer claimed by this worker (lease %.0f s too short?)",
                          len(pending) - updated, len(pending), self.lease)
                return
        except Exception as exc:  # the driver's own errors: translated here, at the edge
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            return
        self.close()
        log.error("marking %d sent email(s) failed (%s); retrying", len(pending), error.splitlines()[0])
        for _ in range(3):
            try:
                with self.engine.begin() as conn:
                    conn.execute(self._update().where(T.c.id.in_(pending)).values(sent_at=utcnow()))
                return
            except SQLAlchemyError:
                time.sleep(0.5)
        log.error("%d email(s) were accepted by the SMTP server but could not be marked sent; they will be sent "
                  "again after the lease", len(pending))

    def close(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            try:
                raw.driver_connection.autocommit = False
                raw.close()
            except Exception:  # a broken connection: drop it
                log.debug("closing the marker's connection failed", exc_info=True)


def _record_failures(engine: Engine, settings: Settings, me: str, rows: dict[int, Any], errors: dict[int, MailError]) -> None:
    now = utcnow()
    with engine.begin() as conn:
        for row_id, err in errors.items():
            attempts = rows[row_id].attempts
            final = err.permanent or attempts >= settings.max_attempts
            delay = settings.retry_base_seconds * (2 ** max(0, attempts - 1))
            conn.execute(
                update(T)
                .where(T.c.id == row_id, T.c.claimed_by == me)
                .values(state=(EmailState.failed if final else EmailState.queued).value, claimed_by=None,
                        not_before=now + timedelta(seconds=delay), last_error=str(err)[:1000], sent_at=None)
            )
            log.log(logging.ERROR if final else logging.WARNING, "email %s %s: %s", row_id, "failed" if final else "will be retried", err)


def _release_unsent(engine: Engine, me: str, ids: list[int], exc: MailError) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(T)
            .where(T.c.id.in_(ids), T.c.state == EmailState.sending.value, T.c.claimed_by == me)
            .values(state=EmailState.queued.value, claimed_by=None, attempts=T.c.attempts - 1, last_error=str(exc)[:1000])
        )


class Throttle:
    """At most ``rate`` emails per second (0: unlimited)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.start = time.monotonic()
        self.count = 0

    def wait(self, n: int, stop: threading.Event | None = None) -> None:
        if self.rate <= 0:
            return
        due = self.start + (self.count + n) / self.rate - time.monotonic()
        if due > 0:
            if stop is not None:
                stop.wait(due)
            else:
                time.sleep(due)
        self.count += n


def process_batch(
    settings: Settings, engine: Engine, transport: Transport, me: str, *, limit: int = CLAIM_BATCH,
    throttle: Throttle | None = None, stop: threading.Event | None = None, marker: SentMarker | None = None,
) -> int:
    """Claim, send and record one batch. Returns how many rows were claimed (0 when nothing is due)."""
    claimed_at = time.monotonic()
    rows = claim(engine, me, utcnow(), limit)
    if not rows:
        return 0
    by_id = {r.id: r for r in rows}
    mail_from = settings.mail_from
    envelope_from = parseaddr(mail_from)[1] or mail_from
    items: list[Outgoing] = []
    errors: dict[int, MailError] = {}
    for r in rows:
        try:
            items.append(Outgoing(r.id, envelope_from, r.to_addr, build_message(r, mail_from)))
        except (ValueError, TypeError) as exc:  # a header the email package refuses (e.g. a line break)
            errors[r.id] = MailError(f"email {r.id} cannot be built: {exc}", permanent=True)
    step = max(1, transport.round_size)
    own_marker = marker is None
    marker = marker or SentMarker(engine, me, settings.lease_seconds)
    marker.claimed_at = claimed_at
    try:
        for start in range(0, len(items), step):
            chunk = items[start : start + step]
            if throttle is not None:
                throttle.wait(len(chunk), stop)
            if stop is not None and stop.is_set():  # stopping: what is not sent yet goes back to the queue
                _release_unsent(engine, me, [item.id for item in items[start:]], MailError("the worker stopped"))
                break
            results = transport.send_batch(chunk, marker)
            errors.update({i: e for i, e in results.items() if e is not None})
    except MailError as exc:  # server unreachable: give the unsent rows back, attempts not used up
        _release_unsent(engine, me, list(by_id), exc)
        raise
    finally:
        if own_marker:
            marker.close()
    if errors:
        _record_failures(engine, settings, me, by_id, errors)
    return len(rows)


def drain(settings: Settings, engine: Engine, limit: int | None = None, *, transport: Transport | None = None) -> int:
    """Send every due email now (up to ``limit`` rows claimed); for tests, the demo and one-off runs. Returns the count."""
    own = transport is None
    tr = transport or build_transport(settings)
    me = worker_id()
    marker = SentMarker(engine, me, settings.lease_seconds)
    done = 0
    try:
        recover_stale(engine, utcnow(), settings.lease_seconds)
        while limit is None or done < limit:
            try:
                n = process_batch(settings, engine, tr, me, limit=min(CLAIM_BATCH, (limit - done) if limit else CLAIM_BATCH),
                                  marker=marker)
            except MailError as exc:
                log.error("mail: %s", exc)
                break
            if n == 0:
                break
            done += n
    finally:
        marker.close()
        if own:
            tr.close()
    return done


def run_mail_loop(settings: Settings, engine: Engine, stop_event: threading.Event) -> None:
    """Send emails until ``stop_event`` is set: batches back to back while there is work, else poll every ``poll_seconds``.

    Supervised (``supervise.Loop("mail")``): an unreachable SMTP server backs off as an outage; any other exception (a
    locked or lost database, a bug) is logged once per cause and backed off, and the loop goes on.
    """
    from social_campaign.supervise import Loop

    me = worker_id()
    throttle = Throttle(settings.mail_rate)
    next_recovery = 0.0
    outage = 0  # consecutive rounds the SMTP server could not be reached
    marker = SentMarker(engine, me, settings.lease_seconds)
    loop = Loop("mail", role="worker", engine=engine, stop=stop_event, interval=settings.poll_seconds)
    with loop, build_transport(settings) as transport:  # an error escaping here leaves the loop marked dead
        try:
            while loop.running():
                n = -1
                with loop.guard():
                    if time.monotonic() >= next_recovery:
                        recover_stale(engine, utcnow(), settings.lease_seconds)
                        next_recovery = time.monotonic() + max(1.0, settings.lease_seconds / 4)
                    try:
                        n = process_batch(settings, engine, transport, me, throttle=throttle, stop=stop_event,
                                          marker=marker)
                        outage = 0
                    except MailError as exc:
                        outage += 1
                        wait = min(60.0, settings.poll_seconds * 2**outage)
                        log.error("mail worker: %s; trying again in %.0f s", exc, wait)
                        loop.wait(wait)
                if n == 0:
                    loop.wait(settings.poll_seconds)
        finally:
            marker.close()
