"""The webhook worker: claims queued deliveries in batches, POSTs them signed, records the outcome. Several may run.

Claiming works like the mail worker: one statement moves up to :data:`CLAIM_BATCH` due ``queued`` rows of endpoints
that are not paused to ``sending`` (``claimed_by``/``claimed_at``, ``attempts`` + 1; PostgreSQL ``FOR UPDATE SKIP
LOCKED``, SQLite under ``BEGIN IMMEDIATE``) and is committed before any HTTP traffic. The batch is sent on a thread
pool (``webhook_concurrency``) over one pooled session, then recorded in one transaction fenced on ``claimed_by``:
2xx → ``sent``; anything else → ``queued`` again at the next step of :data:`BACKOFF`, ``failed`` after
:data:`MAX_ATTEMPTS`. An endpoint's ``failures`` counts failed deliveries in a row (any success resets it); at
``webhook_pause_after`` the endpoint is paused (its rows wait as ``paused``) and the manager gets a notice.

At least once per event id: a row is marked sent only after its receiver answered 2xx, so a worker killed in between
leaves it ``sending``; a restarted worker on this host takes back a dead predecessor's rows at once (``identity``),
others after ``lease_seconds`` (:func:`recover`), and they are sent again with the same ``webhook-id``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.engine import Engine, Row

from social_campaign.config import Settings
from social_campaign.db import is_sqlite, session_scope
from social_campaign.models import WebhookDelivery, WebhookEndpoint, utcnow
from social_campaign.scheduling.identity import is_dead, new_worker_id
from social_campaign.scheduling.notices import notify
from social_campaign.webhooks import endpoints as eps
from social_campaign.webhooks.sender import Result, Sender

log = logging.getLogger(__name__)
CLAIM_BATCH = 200
#: Seconds before the next attempt, after the 1st, 2nd, … failure; the row fails for good after MAX_ATTEMPTS.
BACKOFF = (5, 30, 120, 600, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)
MAX_ATTEMPTS = len(BACKOFF) + 1
IDLE_LOOK_SECONDS = 10.0  # with no endpoint configured, the loop looks for one this often
SKIPPED = Result(False, error="not attempted")  # stopping, or its endpoint already failed too often in this batch
D = WebhookDelivery.__table__  # type: ignore[attr-defined]
EP = WebhookEndpoint.__table__  # type: ignore[attr-defined]


def claim(engine: Engine, me: str, now: datetime, limit: int = CLAIM_BATCH) -> list[Row[Any]]:
    """Move up to ``limit`` due rows of unpaused endpoints to ``sending`` for ``me``; returns them (committed)."""
    paused = select(EP.c.name).where(EP.c.paused_at.is_not(None))
    due = (select(D.c.id).where(D.c.state == "queued", D.c.not_before <= now, D.c.endpoint.not_in(paused))
           .order_by(D.c.not_before, D.c.id).limit(limit))
    if not is_sqlite(engine):
        due = due.with_for_update(of=D, skip_locked=True)
    stmt = (update(D).where(D.c.id.in_(due.scalar_subquery()))
            .values(state="sending", claimed_by=me, claimed_at=now, attempts=D.c.attempts + 1)
            .returning(D.c.id, D.c.event_id, D.c.endpoint, D.c.campaign, D.c.payload_json, D.c.attempts))
    with engine.begin() as conn:
        rows = conn.execute(stmt).all()
    return sorted(rows, key=lambda r: r.id)


def recover(engine: Engine, now: datetime, lease_seconds: float) -> int:
    """Rows left ``sending`` by a dead worker of this host, or past the lease, go back to the queue (the attempt that
    may or may not have reached the receiver is not counted: it is sent again with the same id)."""
    with engine.begin() as conn:
        owners = conn.execute(select(D.c.claimed_by).where(D.c.state == "sending").distinct()).scalars().all()
        dead = [o for o in owners if is_dead(o)]
        stale = D.c.claimed_at < now - timedelta(seconds=lease_seconds)
        cond = or_(stale, D.c.claimed_by.in_(dead)) if dead else stale
        n = conn.execute(update(D).where(D.c.state == "sending", cond)
                         .values(state="queued", claimed_by=None, attempts=D.c.attempts - 1)).rowcount or 0
    if n:
        log.warning("webhooks: %d delivery(ies) left in 'sending' by a stopped worker queued again", n)
    return n


def process_batch(
    settings: Settings, engine: Engine, sender: Sender, pool: ThreadPoolExecutor, me: str, *,
    stop: threading.Event | None = None, limit: int = CLAIM_BATCH,
) -> int:  # fmt: skip
    """Claim, send and record one batch; returns how many rows were claimed (0: nothing due)."""
    rows = claim(engine, me, utcnow(), limit)
    if not rows:
        return 0
    known = eps.load(engine, settings.key)
    failing: Counter[str] = Counter()
    lock = threading.Lock()

    def send(row: Row[Any]) -> Result:
        ep = known.get(row.endpoint)
        if ep is None:
            return Result(False, error="endpoint removed")
        with lock:
            if (stop is not None and stop.is_set()) or failing[ep.name] >= settings.webhook_pause_after:
                return SKIPPED
        try:
            result = sender.post(ep.url, ep.secret, row.event_id, row.payload_json, utcnow())
        except Exception as exc:  # never let one delivery end the batch
            log.error("webhook %s to %s: unexpected error", row.event_id, ep.name, exc_info=exc)
            result = Result(False, error=f"{type(exc).__name__}")
        if not result.ok:
            with lock:
                failing[ep.name] += 1
        return result

    results = list(pool.map(send, rows))
    record(settings, engine, me, rows, results, utcnow())
    return len(rows)


def record(settings: Settings, engine: Engine, me: str, rows: list[Row[Any]], results: list[Result], now: datetime) -> None:
    """One transaction: sent rows, retries, skipped rows back unchanged, endpoint failure counts, pauses, notices."""
    fence = (D.c.state == "sending", D.c.claimed_by == me)
    sent = [r.id for r, res in zip(rows, results, strict=True) if res.ok]
    skipped = [r.id for r, res in zip(rows, results, strict=True) if res is SKIPPED]
    failed = [(r, res) for r, res in zip(rows, results, strict=True) if not res.ok and res is not SKIPPED]
    by_endpoint: dict[str, tuple[int, int, str]] = {}  # name -> (successes, failures, a campaign)
    for r, res in zip(rows, results, strict=True):
        if res is not SKIPPED:
            ok, bad, _ = by_endpoint.get(r.endpoint, (0, 0, r.campaign))
            by_endpoint[r.endpoint] = (ok + res.ok, bad + (not res.ok), r.campaign)
    with session_scope(engine) as session:
        conn = session.connection()
        if sent:
            conn.execute(update(D).where(D.c.id.in_(sent), *fence)
                         .values(state="sent", sent_at=now, claimed_by=None, last_error=None))
        if skipped:
            conn.execute(update(D).where(D.c.id.in_(skipped), *fence)
                         .values(state="queued", claimed_by=None, attempts=D.c.attempts - 1))
        if failed:
            retry = [{"i": r.id, "s": "failed" if r.attempts >= MAX_ATTEMPTS else "queued",
                      "nb": now + timedelta(seconds=BACKOFF[min(r.attempts, len(BACKOFF)) - 1]),
                      "e": (res.error or "failed")[:1000]} for r, res in failed]  # fmt: skip
            conn.execute(update(D).where(D.c.id == bindparam("i"), *fence)
                         .values(state=bindparam("s"), not_before=bindparam("nb"), last_error=bindparam("e"),
                                 claimed_by=None), retry)  # fmt: skip
            for r, res in failed:
                final = r.attempts >= MAX_ATTEMPTS
                log.log(logging.ERROR if final else logging.WARNING, "webhook %s (%s) to %s %s: %s", r.event_id,
                        r.id, r.endpoint, "failed for good" if final else "will be retried", res.error)
        for name, (ok, bad, campaign) in by_endpoint.items():
            if ok:
                conn.execute(update(EP).where(EP.c.name == name, EP.c.failures != 0).values(failures=0))
            elif bad:
                failures = conn.execute(update(EP).where(EP.c.name == name).values(failures=EP.c.failures + bad)
                                        .returning(EP.c.failures)).scalar()
                if failures is not None and failures >= settings.webhook_pause_after and eps.pause(conn, name, now):
                    _tell(session, name, campaign, failures, failed, now)


def _tell(session: Any, name: str, campaign: str, failures: int, failed: list[tuple[Row[Any], Result]], now: datetime) -> None:
    last = next((res.error for r, res in reversed(failed) if r.endpoint == name), None) or "failed"
    message = (f"webhook endpoint {name!r} paused after {failures} failed deliveries in a row (last: {last}); its "
               f"events are kept and go out once it is resumed (fix the receiver, then restart the worker)")
    notify(session, campaign=campaign, kind="webhook", message=message, dedupe_key=f"webhook-paused:{name}:{now.isoformat()}")
    log.error("%s", message)


def run_webhook_loop(settings: Settings, engine: Engine, stop_event: threading.Event) -> None:
    """Deliver webhooks until ``stop_event`` is set: batches back to back while there is work, else poll every
    ``poll_seconds`` (one indexed query when nothing is queued; with no endpoint configured, one look at the endpoint
    table every :data:`IDLE_LOOK_SECONDS` and nothing else). Syncs the settings endpoint first. Supervised
    (``supervise.Loop("webhooks")``)."""
    from social_campaign.supervise import Loop

    me = new_worker_id("h")
    next_recovery = next_look = 0.0
    synced = active = False
    loop = Loop("webhooks", role="worker", engine=engine, stop=stop_event, interval=settings.poll_seconds)
    sender = Sender(settings.webhook_timeout_seconds, settings.webhook_concurrency)
    pool = ThreadPoolExecutor(settings.webhook_concurrency, thread_name_prefix="webhook")
    with loop:
        try:
            while loop.running():
                n = -1
                with loop.guard():
                    if not synced:
                        eps.sync_from_settings(settings, engine, utcnow())
                        synced = True
                    if time.monotonic() >= next_look:  # no endpoint at all: look again now and then, claim nothing
                        active = _any_endpoint(engine)
                        next_look = time.monotonic() + IDLE_LOOK_SECONDS
                    if active and time.monotonic() >= next_recovery:
                        recover(engine, utcnow(), settings.lease_seconds)
                        next_recovery = time.monotonic() + max(1.0, settings.lease_seconds / 4)
                    n = process_batch(settings, engine, sender, pool, me, stop=stop_event) if active else 0
                if n == 0:
                    loop.wait(settings.poll_seconds)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            sender.close()


def _any_endpoint(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(EP.c.name).limit(1)).first() is not None


def drain(settings: Settings, engine: Engine, *, sender: Sender | None = None) -> int:
    """Send every due webhook now (tests, one-off runs); returns how many rows were claimed."""
    own = sender is None
    sender = sender or Sender(settings.webhook_timeout_seconds, settings.webhook_concurrency)
    me = new_worker_id("h")
    done = 0
    with ThreadPoolExecutor(settings.webhook_concurrency, thread_name_prefix="webhook") as pool:
        recover(engine, utcnow(), settings.lease_seconds)
        while (n := process_batch(settings, engine, sender, pool, me)) > 0:
            done += n
    if own:
        sender.close()
    return done
