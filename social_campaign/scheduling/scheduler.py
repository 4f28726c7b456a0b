"""The scheduler role: APScheduler 3.x ``BackgroundScheduler`` running :data:`jobs.JOBS`, plus on-time wake-ups.

The job store is in memory: what must be posted lives in the ``Delivery`` table, so nothing is lost with the process.
After every sync and every wake-up the next due time is looked up and a ``DateTrigger`` job set for it, which wakes
the worker in the same process (``wake`` event) exactly then instead of at its next poll.

Each job runs supervised (``supervise.Loop`` named ``job:<name>``): a failure is logged once per cause, counted, and
the job backs off; a ``scheduler`` heartbeat beats every :data:`TICK` seconds from the job pool. Late runs are never
skipped: runs missed while the pool was busy are coalesced into one (``misfire_grace_time=None``), and a run due
while the previous one still goes is run right after it. :meth:`CampaignScheduler.stop` stops arming wake-ups, shuts
APScheduler down without waiting (its ``shutdown(wait=True)`` holds the job-store lock while a job thread may wait
for it in ``add_job``), then waits up to ``timeout`` for the jobs in flight.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from social_campaign.config import Settings
from social_campaign.errors import SocialCampaignError
from social_campaign.models import utcnow
from social_campaign.scheduling.claim import next_due
from social_campaign.scheduling.jobs import JOBS, call
from social_campaign.supervise import Loop, close_all

log = logging.getLogger(__name__)
TICK = 5.0  # seconds between the scheduler's own heartbeats


class CampaignScheduler:
    def __init__(self, settings: Settings, engine: Engine, *, wake: threading.Event | None = None) -> None:
        self.settings, self.engine, self.wake = settings, engine, wake
        self.scheduler = BackgroundScheduler(
            timezone="UTC", job_defaults={"coalesce": True, "max_instances": 2, "misfire_grace_time": None}
        )
        self.stopping = threading.Event()
        self.loops: dict[str, Loop] = {}
        self.heartbeat: Loop | None = None
        self._in_flight = 0
        self._idle = threading.Condition()
        self._running: set[str] = set()  # jobs with a run under way
        self._rerun: set[str] = set()  # jobs due again: the run under way runs them once more

    def start(self) -> None:
        for spec in JOBS:
            name = "job:" + spec.ref.rpartition(":")[2]
            self.loops[spec.ref] = Loop(
                name, role="scheduler", engine=self.engine, stop=self.stopping, interval=spec.interval(self.settings),
                thread=False,
            )  # fmt: skip
            self.scheduler.add_job(
                self._run_job,
                IntervalTrigger(seconds=spec.interval(self.settings), timezone="UTC"),
                args=[spec.ref],
                id=spec.ref,
                name=spec.ref,
                next_run_time=utcnow(),
            )
        self.scheduler.add_listener(self._on_job, EVENT_JOB_EXECUTED)
        self.scheduler.start()
        self.heartbeat = Loop(
            "scheduler", role="scheduler", engine=self.engine, stop=self.stopping, interval=TICK,
            thread=getattr(self.scheduler, "_thread", False),
        )  # fmt: skip
        self.scheduler.add_job(self._tick, IntervalTrigger(seconds=TICK, timezone="UTC"), id="tick", name="tick")
        self.arm_wakeup()
        log.info("scheduler started with %d jobs", len(JOBS))

    @contextmanager
    def _job_in_flight(self) -> Iterator[None]:
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _run_job(self, ref: str) -> None:
        """One run of job ``ref``. A run due while the previous one is still going is not skipped: that one runs the
        job once more as soon as it ends (``max_instances=2`` lets the late run get here and say so)."""
        loop = self.loops.get(ref)
        if loop is None or self.stopping.is_set() or not loop.may_run():  # stopping, or backing off after failures
            return
        with self._idle:
            self._rerun.add(ref)
            if ref in self._running:
                return
            self._running.add(ref)
        with self._job_in_flight():
            try:
                while not self.stopping.is_set():
                    with self._idle:
                        if ref not in self._rerun:
                            break
                        self._rerun.discard(ref)
                    call(ref, self.settings, self.engine, loop=loop)
                    if not loop.failing:
                        loop.beat()
                    if self.heartbeat is not None:
                        self.heartbeat.beat()
            finally:
                with self._idle:
                    self._running.discard(ref)

    def _tick(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.beat()

    def arm_wakeup(self) -> datetime | None:
        """Set the DateTrigger wake-up for the next due row (no-op without an in-process worker, or once stopping)."""
        if self.wake is None or self.stopping.is_set():
            return None
        try:
            when = next_due(self.engine, utcnow())
        except (SocialCampaignError, SQLAlchemyError):
            when = None
        if self.stopping.is_set():
            return None
        self.scheduler.add_job(
            self._wake,
            DateTrigger(run_date=when or utcnow(), timezone="UTC")
            if when
            else IntervalTrigger(seconds=self.settings.sync_seconds),
            id="wake",
            replace_existing=True,
        )
        return when

    def _on_job(self, event: JobExecutionEvent) -> None:
        if event.job_id == JOBS[0].ref:  # after a sync, new rows may be due sooner
            self.arm_wakeup()

    def _wake(self) -> None:
        if self.wake is not None:
            self.wake.set()
        self.arm_wakeup()

    def stop(self, timeout: float = 4.0) -> None:
        """Stop: no new job runs, no new wake-ups; wait up to ``timeout`` s for the jobs in flight. Idempotent."""
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        with self._idle:
            done = self._idle.wait_for(lambda: self._in_flight == 0, timeout)
        if not done:
            log.warning("%d scheduler job(s) still running at stop; they are idempotent and run again at the next start",
                        self._in_flight)
        close_all([*self.loops.values(), *([self.heartbeat] if self.heartbeat else [])])
        self.loops.clear()
        self.heartbeat = None
