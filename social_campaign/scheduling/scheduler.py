"""The scheduler role: APScheduler 3.x ``BackgroundScheduler`` running :data:`jobs.JOBS`, plus on-time wake-ups.

The job store is in memory: what must be posted lives in the ``Delivery`` table, so nothing is lost with the process.
After every sync and every wake-up the next due time is looked up and a ``DateTrigger`` job set for it, which wakes
the worker in the same process (``wake`` event) exactly then instead of at its next poll.
"""

from __future__ import annotations

import logging
import threading
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

log = logging.getLogger(__name__)


class CampaignScheduler:
    def __init__(self, settings: Settings, engine: Engine, *, wake: threading.Event | None = None) -> None:
        self.settings, self.engine, self.wake = settings, engine, wake
        self.scheduler = BackgroundScheduler(
            timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
        )

    def start(self) -> None:
        for spec in JOBS:
            self.scheduler.add_job(
                call,
                IntervalTrigger(seconds=spec.interval(self.settings), timezone="UTC"),
                args=[spec.ref, self.settings, self.engine],
                id=spec.ref,
                name=spec.ref,
                next_run_time=utcnow(),
            )
        self.scheduler.add_listener(self._on_job, EVENT_JOB_EXECUTED)
        self.scheduler.start()
        self.arm_wakeup()
        log.info("scheduler started with %d jobs", len(JOBS))

    def arm_wakeup(self) -> datetime | None:
        """Set the DateTrigger wake-up for the next due row (no-op without an in-process worker)."""
        if self.wake is None:
            return None
        try:
            when = next_due(self.engine, utcnow())
        except (SocialCampaignError, SQLAlchemyError):
            when = None
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

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
