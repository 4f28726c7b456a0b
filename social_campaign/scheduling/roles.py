"""Process roles: ``scheduler`` (APScheduler jobs) and ``worker`` (deliveries and the mail loop), in threads.

:func:`start` starts the requested roles in background threads and returns a :class:`Handle` (``serve`` uses it);
:func:`run_forever` runs them in the foreground until SIGTERM or SIGINT, then stops cleanly: the worker claims nothing
more and waits for the sends in flight to be recorded; the scheduler finishes its running job.

Before anything starts, the scheduler role syncs the campaign once. A campaign that fails ``check`` while no good
version was ever synced stops start-up with the problems (``CampaignError``); with a good version in the database the
refusal is recorded and that version keeps running.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import FrameType

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.errors import CampaignError, ConfigError
from social_campaign.models import CampaignRevision, utcnow
from social_campaign.scheduling.scheduler import CampaignScheduler
from social_campaign.scheduling.worker import Worker

log = logging.getLogger(__name__)
ROLES = frozenset({"scheduler", "worker"})


@dataclass
class Handle:
    """Running roles. ``stop()`` is idempotent and returns when every role has finished cleanly."""

    stop_event: threading.Event
    threads: list[threading.Thread] = field(default_factory=list)
    scheduler: CampaignScheduler | None = None
    worker: Worker | None = None

    def stop(self, timeout: float | None = 60.0) -> None:
        self.stop_event.set()
        if self.worker is not None:
            self.worker.wake.set()
        if self.scheduler is not None:
            self.scheduler.stop()
        for thread in self.threads:
            thread.join(timeout)

    def wait(self) -> None:
        while not self.stop_event.wait(0.5):
            pass


def start(settings: Settings, roles: Iterable[str] = ROLES, *, engine: Engine | None = None) -> Handle:
    """Start ``roles`` (a subset of ``{"scheduler", "worker"}``) in background threads."""
    roles = set(roles)
    unknown = roles - ROLES
    if unknown or not roles:
        raise ConfigError(f"unknown role(s) {', '.join(sorted(unknown)) or '(none)'}; use scheduler and/or worker")
    if engine is None:
        from social_campaign.db import engine_for

        engine = engine_for(settings)
    handle = Handle(stop_event=threading.Event())
    wake = threading.Event()
    if "scheduler" in roles:
        initial_sync(settings, engine)
        handle.scheduler = CampaignScheduler(settings, engine, wake=wake if "worker" in roles else None)
        handle.scheduler.start()
    if "worker" in roles:
        handle.worker = Worker(settings, engine, wake=wake)
        handle.threads.append(_thread("worker", handle.worker.run, handle.stop_event))
        mail_loop = _mail_loop()
        if mail_loop is not None:
            handle.threads.append(_thread("mail", mail_loop, settings, engine, handle.stop_event))
    return handle


def initial_sync(settings: Settings, engine: Engine) -> None:
    from social_campaign.scheduling.sync import sync_campaign

    try:
        report = sync_campaign(settings, engine, settings.schedule, utcnow())
    except CampaignError:
        with Session(engine) as session:
            has_good = session.exec(select(CampaignRevision.campaign)).first() is not None
        if not has_good:
            raise
        log.warning("%s refused; the last good version keeps running", settings.schedule)
        return
    log.info(
        "campaign %s: %d new, %d updated, %d cancelled",
        report.campaign,
        report.created,
        report.updated,
        report.cancelled,
    )


def run_forever(settings: Settings, roles: Iterable[str] = ROLES) -> None:
    """Run ``roles`` until SIGTERM/SIGINT, then stop cleanly."""
    handle = start(settings, roles)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: finishing sends in flight", signal.Signals(signum).name)
        handle.stop_event.set()
        if handle.worker is not None:
            handle.worker.wake.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        handle.wait()
    finally:
        handle.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)


def _thread(name: str, target: object, *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def _mail_loop() -> object | None:
    try:
        from social_campaign.mail.worker import run_mail_loop
    except ImportError:
        log.debug("mail worker not available; not started")
        return None
    return run_mail_loop
