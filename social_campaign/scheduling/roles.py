"""Process roles: ``scheduler`` (APScheduler jobs) and ``worker`` (deliveries, the mail and webhook loops), in threads.

:func:`start` starts the requested roles in background threads and returns a :class:`Handle` (``serve`` uses it);
:func:`run_forever` runs them in the foreground until SIGTERM or SIGINT, then stops cleanly within
:data:`STOP_SECONDS`: the worker claims nothing more and waits for the sends in flight to be recorded (a send still
running then is settled by the sweeper), the mail loop puts unsent emails back in the queue, and the scheduler arms no
more wake-ups and waits for its running jobs. Every loop runs supervised (``supervise.py``).

Before anything starts, the scheduler role syncs every campaign once (:func:`initial_sync`). A campaign that fails
``check`` while no good version of it was ever synced stops start-up with the problems (``CampaignError``), and so
do two campaign files with the same slug; with a good version in the database the refusal is recorded and that
version keeps running.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from social_campaign.config import Settings
from social_campaign.errors import CampaignError, ConfigError
from social_campaign.models import CampaignRevision, utcnow
from social_campaign.scheduling.scheduler import CampaignScheduler
from social_campaign.scheduling.worker import Worker

log = logging.getLogger(__name__)
ROLES = frozenset({"scheduler", "worker"})
STOP_SECONDS = 6.0  # the longest a clean stop waits for work in flight (SIGTERM must end a process within 10 s)


@dataclass
class Handle:
    """Running roles. ``stop()`` is idempotent and returns when every role has finished cleanly."""

    stop_event: threading.Event
    threads: list[threading.Thread] = field(default_factory=list)
    scheduler: CampaignScheduler | None = None
    worker: Worker | None = None

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop every role, waiting at most about ``timeout`` seconds in all (a signal must end a process in 10 s)."""
        deadline = time.monotonic() + timeout
        self.stop_event.set()
        if self.worker is not None:
            self.worker.wake.set()
        if self.scheduler is not None:
            self.scheduler.stop(timeout=max(0.1, timeout - 2))
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("the %s thread did not stop within %.0f s; what it holds is left for the sweeper",
                            thread.name, timeout)

    def wait(self) -> None:
        while not self.stop_event.wait(0.5):
            pass
        if self.worker is not None:
            self.worker.wake.set()


def start(
    settings: Settings, roles: Iterable[str] = ROLES, *, engine: Engine | None = None,
    stop_event: threading.Event | None = None,
) -> Handle:  # fmt: skip
    """Start ``roles`` (a subset of ``{"scheduler", "worker"}``) in background threads; ``stop_event`` stops them."""
    roles = set(roles)
    unknown = roles - ROLES
    if unknown or not roles:
        raise ConfigError(f"unknown role(s) {', '.join(sorted(unknown)) or '(none)'}; use scheduler and/or worker")
    if engine is None:
        from social_campaign.db import engine_for

        engine = engine_for(settings)
    handle = Handle(stop_event=stop_event or threading.Event())
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
        from social_campaign.webhooks.worker import run_webhook_loop  # idle: one indexed query per poll

        handle.threads.append(_thread("webhooks", run_webhook_loop, settings, engine, handle.stop_event))
    return handle


def initial_sync(settings: Settings, engine: Engine) -> None:
    """Sync every campaign once before the jobs start. Two campaign files with the same slug stop start-up
    (``ConfigError`` naming both); so does a campaign that fails ``check`` and never had a good version synced (its
    problems, ``CampaignError``). A refused edit of a campaign with a good version is recorded and that version keeps
    running; the other campaigns sync either way."""
    from social_campaign.scheduling.sync import sync_campaign
    from social_campaign.workspace.campaigns import campaign_paths, check_unique, read_slug

    paths = campaign_paths(settings)
    check_unique((slug, path) for path in paths if (slug := read_slug(path)) is not None)
    fatal: CampaignError | None = None
    for path in paths:
        try:
            report = sync_campaign(settings, engine, path, utcnow())
        except CampaignError as exc:
            if not _has_good_version(engine, path, read_slug(path)):
                fatal = fatal or exc
                continue
            log.warning("%s refused; the last good version keeps running", path)
            continue
        log.info("campaign %s: %d new, %d updated, %d cancelled", report.campaign, report.created, report.updated,
                 report.cancelled)
    if fatal is not None:
        raise fatal


def _has_good_version(engine: Engine, path: Path, slug: str | None) -> bool:
    """Whether a good version of the campaign at ``path`` (or with ``slug``) was ever synced into this database."""
    with Session(engine) as session:
        query = select(CampaignRevision.campaign).where(
            or_(col(CampaignRevision.source) == str(path.resolve())[:500], col(CampaignRevision.campaign) == (slug or ""))
        )
        return session.exec(query).first() is not None


def run_forever(settings: Settings, roles: Iterable[str] = ROLES) -> None:
    """Run ``roles`` until SIGTERM/SIGINT, then stop cleanly (a signal during start-up stops it once started)."""
    stopping = threading.Event()
    with on_signals(stopping):
        handle = start(settings, roles, stop_event=stopping)
        try:
            handle.wait()
        finally:
            handle.stop()
            leave_stragglers(handle)


def leave_stragglers(handle: Handle) -> None:
    """End the process now if a send is still stuck in a network call after the roles stopped.

    Python would otherwise wait for it at exit (it joins the send pool's threads), holding a stop for up to the
    publishers' request timeout. Its row stays ``sending`` and the sweeper settles it (reconciliation first), so
    ending here loses nothing and sends nothing twice. Logs and standard streams are flushed first."""
    busy = handle.worker.in_flight_at_stop if handle.worker is not None else 0
    if not busy:
        return
    log.warning("leaving %d send(s) in flight to the sweeper", busy)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)


@contextmanager
def on_signals(event: threading.Event) -> Iterator[threading.Event]:
    """While inside: SIGTERM and SIGINT set ``event`` (and nothing else). Handlers can only be set from the main
    thread; elsewhere this does nothing. ``serve`` wraps uvicorn in it, so the signal uvicorn re-raises after its own
    graceful shutdown lands here instead of killing the process before the roles have stopped."""
    if threading.current_thread() is not threading.main_thread():
        yield event
        return

    def _stop(signum: int, _frame: FrameType | None) -> None:
        if not event.is_set():
            log.info("received %s: finishing the work in flight", signal.Signals(signum).name)
        event.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield event
    finally:
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
