"""The delivery worker: claim due rows in batches and send them on a thread pool.

One :class:`Worker` per process (``settings.worker_threads`` concurrent sends). The loop claims as many rows as it has
free threads, submits them, and sleeps until the next due time, ``poll_seconds``, a freed thread, or a wake-up from the
scheduler in the same process (``wake`` event), whichever comes first. On stop it claims nothing more and waits (up to
``STOP_WAIT``) for the sends in flight to be recorded; a send still running then is settled by the sweeper.

The loop runs under ``supervise.Loop("delivery")``: any exception (a locked or lost database included) is logged once
per cause, backed off and retried; the loop beats its heartbeat every round.

At start-up it first runs the sweeper once, recovering rows its crashed predecessors left in ``sending``.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from social_campaign.config import Settings
from social_campaign.errors import OutcomeUnknown, PublishError, SocialCampaignError
from social_campaign.models import utcnow
from social_campaign.scheduling.claim import Claim, claim_due, next_due
from social_campaign.scheduling.identity import new_worker_id
from social_campaign.scheduling.outcome import record_failure, record_sent
from social_campaign.scheduling.pool import PublisherPool, summary, to_outgoing
from social_campaign.supervise import Loop

log = logging.getLogger(__name__)
SWEEP_EVERY = 15.0
STOP_WAIT = 4.0  # seconds a stopping worker waits for its sends in flight


class Worker:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        wake: threading.Event | None = None,
        pool: PublisherPool | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.settings, self.engine = settings, engine
        self.wake = wake or threading.Event()
        self.pool = pool or PublisherPool(settings, engine)
        self.worker_id = worker_id or new_worker_id("w")
        self.grace = timedelta(minutes=settings.grace_minutes)
        self._in_flight = 0
        self.in_flight_at_stop = 0  # sends still running when a stop gave up waiting (``roles.leave_stragglers``)
        self._lock = threading.Lock()

    # --- one send -----------------------------------------------------------------------------------------------
    def send(self, claim: Claim) -> str:
        """Publish one claimed row and record the outcome; returns the row's new state. Never raises."""
        row = claim.delivery
        post = to_outgoing(row)
        asked = summary(post)
        try:
            publisher = self.pool.get(row.channel)
            result = publisher.publish(post)
        except PublishError as exc:
            return record_failure(
                self.settings, self.engine, row, claim.attempt_id, self.worker_id, exc, utcnow(), asked
            )
        except Exception as exc:  # a bug in a publisher: the request may have gone out, so never resend blindly
            log.exception("publisher %s raised %s for delivery %s", row.channel, type(exc).__name__, row.id)
            unknown = OutcomeUnknown(f"unexpected {type(exc).__name__} in the {row.channel} publisher")
            return record_failure(
                self.settings, self.engine, row, claim.attempt_id, self.worker_id, unknown, utcnow(), asked
            )
        record_sent(self.engine, row, claim.attempt_id, self.worker_id, result, utcnow())
        return "sent"

    # --- the loop -------------------------------------------------------------------------------------------------
    def run_once(self, now: datetime | None = None) -> int:
        """Claim one batch (up to ``worker_threads``) and send it, waiting for every send. Returns the count."""
        claims = claim_due(self.engine, self.worker_id, now or utcnow(), self.settings.worker_threads, grace=self.grace)
        if not claims:
            return 0
        with ThreadPoolExecutor(max_workers=min(len(claims), self.settings.worker_threads)) as ex:
            list(ex.map(self.send, claims))
        return len(claims)

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set, then finish the sends in flight (waiting up to :data:`STOP_WAIT` seconds)."""
        from social_campaign.scheduling.sweeper import sweep

        executor = ThreadPoolExecutor(max_workers=self.settings.worker_threads, thread_name_prefix="send")
        log.info("worker %s started with %d threads", self.worker_id, self.settings.worker_threads)
        loop = Loop("delivery", role="worker", engine=self.engine, stop=stop, interval=self.settings.poll_seconds)
        last_sweep = None  # the first round sweeps at once (start-up recovery of dead predecessors' rows)
        try:
            while loop.running():
                if last_sweep is None or time.monotonic() - last_sweep >= SWEEP_EVERY:
                    startup, last_sweep = last_sweep is None, time.monotonic()
                    with loop.guard(wait=False):  # a failed sweep is logged and counted; claiming goes on
                        sweep(self.settings, self.engine, utcnow(), pool=self.pool, startup=startup)
                with loop.guard():
                    self.wake.clear()
                    free = self._free_slots()
                    claims = claim_due(self.engine, self.worker_id, utcnow(), free, grace=self.grace) if free else []
                    for claim in claims:
                        self._acquire()
                        executor.submit(self._send_and_release, claim)
                    if free and len(claims) == free:
                        continue  # there may be more due rows: claim again as threads free up
                    self.wake.wait(self._sleep_seconds())
            loop.close()  # a clean stop (an error escaping the loop leaves it marked dead for /healthz)
        finally:
            self._finish(executor)
            self.pool.close()
            log.info("worker %s stopped", self.worker_id)

    def _finish(self, executor: ThreadPoolExecutor) -> None:
        deadline = time.monotonic() + STOP_WAIT
        while self._free_slots() < self.settings.worker_threads and time.monotonic() < deadline:
            self.wake.wait(0.1)
            self.wake.clear()
        busy = self.in_flight_at_stop = self.settings.worker_threads - self._free_slots()
        if busy:
            log.warning("%d send(s) still in flight at stop; the sweeper settles them after the lease", busy)
        executor.shutdown(wait=False, cancel_futures=True)

    def _sleep_seconds(self) -> float:
        wait = self.settings.poll_seconds
        if self._free_slots() == 0:
            return wait  # a finished send sets wake
        try:
            nxt = next_due(self.engine, utcnow())
        except (SocialCampaignError, SQLAlchemyError):
            return wait
        if nxt is not None:
            wait = min(wait, max(0.0, (nxt - utcnow()).total_seconds()))
        return wait

    def _free_slots(self) -> int:
        with self._lock:
            return self.settings.worker_threads - self._in_flight

    def _acquire(self) -> None:
        with self._lock:
            self._in_flight += 1

    def _send_and_release(self, claim: Claim) -> None:
        try:
            self.send(claim)
        except Exception:  # recording failed (database gone): the sweeper recovers the row after the lease
            log.exception("could not record delivery %s", claim.delivery.id)
        finally:
            with self._lock:
                self._in_flight -= 1
            self.wake.set()
