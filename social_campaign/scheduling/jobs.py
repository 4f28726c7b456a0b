"""The scheduler's jobs: thin, idempotent ``fn(settings, engine, now)`` calls to services, named ``"module:callable"``.

:data:`JOBS` lists each job with its interval. :func:`call` is what the scheduler runs: it resolves the reference, passes
``now`` explicitly and never raises, so one bad run never stops the scheduler; under a ``supervise.Loop`` a failure is
counted and logged once per cause (with its traceback), otherwise as one line. Jobs that should run at
most once per period across several schedulers go through :func:`once_per_period` (a ``TaskRun`` row is the lock).

The campaign jobs (``sync``, ``pledge_release``) go through every campaign the deployment serves
(``workspace.campaigns.campaign_paths``, looked at again on each run, so a campaign created in the workspace is synced
within ``SYNC_SECONDS``) with :func:`for_each_campaign`: each campaign has its own lock (``sync:<key>``), and one
campaign's refused edit or failure never keeps the others from running; the first error is raised once all have run.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col

from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.errors import CampaignError, SocialCampaignError
from social_campaign.models import TaskRun, utcnow

if TYPE_CHECKING:
    from social_campaign.supervise import Loop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    ref: str
    interval: Callable[[Settings], float]


JOBS: tuple[JobSpec, ...] = (
    JobSpec("social_campaign.scheduling.jobs:sync", lambda s: s.sync_seconds),
    JobSpec("social_campaign.scheduling.jobs:sweep", lambda s: 15.0),
    JobSpec("social_campaign.scheduling.jobs:missed", lambda s: 30.0),
    JobSpec("social_campaign.scheduling.jobs:pledge_release", lambda s: 5.0),
    JobSpec("social_campaign.scheduling.jobs:pledge_counter", lambda s: s.progress_interval),
    JobSpec("social_campaign.scheduling.jobs:pledge_prune", lambda s: 60.0),
    JobSpec("social_campaign.scheduling.jobs:workspace_prune", lambda s: 300.0),
    JobSpec("social_campaign.scheduling.jobs:manager_mail", lambda s: 30.0),
    JobSpec("social_campaign.scheduling.jobs:retention", lambda s: 3600.0),
)


def resolve(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def call(ref: str, settings: Settings, engine: Engine, loop: Loop | None = None) -> Any:
    """Run the job ``ref`` now; failures go to ``loop`` (counted, backed off) or are logged as one line."""
    try:
        result = resolve(ref)(settings, engine, utcnow())
    except CampaignError as exc:  # a refused edit: recorded by the job, the last good version keeps running
        log.warning("%s: %s", ref, exc)
        if loop is not None:
            loop.ok()
    except Exception as exc:
        if loop is not None:
            loop.failed(exc, wait=False)
        elif isinstance(exc, (SocialCampaignError, SQLAlchemyError)):
            log.warning("%s failed: %s", ref, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        else:
            log.exception("%s failed", ref)
    else:
        if loop is not None:
            loop.ok()
        return result
    return None


def once_per_period(engine: Engine, name: str, period: str, fn: Callable[[], Any]) -> bool:
    """Run ``fn`` unless another scheduler already ran ``name`` for ``period``. Returns True when it ran here."""
    try:
        with session_scope(engine) as session:
            session.add(TaskRun(name=name, period=period))
    except IntegrityError:
        return False
    result = fn()
    with session_scope(engine) as session:
        from sqlmodel import select

        row = session.exec(select(TaskRun).where(TaskRun.name == name, TaskRun.period == period)).first()
        if row is not None:
            row.finished_at, row.result = utcnow(), str(result)[:500]
            session.add(row)
    return True


# --- the jobs -----------------------------------------------------------------------------------------------------


def campaign_key(path: Path) -> str:
    """A short stable name for the campaign file ``path`` (its absolute path's digest), for per-campaign locks."""
    return hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:16]


def for_each_campaign(settings: Settings, job: str, fn: Callable[[Path], Any]) -> list[Any]:
    """``fn(path)`` for every campaign file served; returns the results. A campaign that raises is logged and the
    others still run; then the first error is raised (a refused edit, ``CampaignError``, is logged by :func:`call`)."""
    from social_campaign.workspace.campaigns import campaign_paths

    results: list[Any] = []
    errors: list[Exception] = []
    paths = campaign_paths(settings)
    for path in paths:
        try:
            results.append(fn(path))
        except Exception as exc:
            if len(paths) > 1:
                log.warning("%s of %s: %s", job, path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            errors.append(exc)
    if errors:
        raise errors[0]
    return results


_warned: set[tuple[str | None, Path]] = set()  # duplicate slugs already logged by this process


def sync(settings: Settings, engine: Engine, now: datetime) -> Any:
    """Re-read every campaign's files (skipped when unchanged); a refused edit is recorded and the last good version
    kept. Each campaign has its own once-per-period lock, so a slow or refused one never holds the others."""
    from social_campaign.scheduling.sync import sync_campaign
    from social_campaign.workspace.campaigns import read_slug

    period = str(int(now.timestamp() // settings.sync_seconds))
    seen: dict[str, Path] = {}

    def one(path: Path) -> Any:
        slug = read_slug(path)
        first = seen.setdefault(slug, path) if slug is not None else path
        if first != path:  # a folder added later with a served slug: its rows would fight the first one's
            if (slug, path) not in _warned:
                _warned.add((slug, path))
                log.warning("%s not synced: the campaign %s (%s) already has the slug %r", path, slug, first, slug)
            return None
        return once_per_period(engine, f"sync:{campaign_key(path)}", period,
                               lambda: sync_campaign(settings, engine, path, now, skip_unchanged=True))

    return for_each_campaign(settings, "sync", one)


def sweep(settings: Settings, engine: Engine, now: datetime) -> Any:
    """Recover rows left in ``sending``, reconcile ``unconfirmed`` rows, mark late rows ``missed``."""
    from social_campaign.scheduling.sweeper import sweep as run_sweep

    report = run_sweep(settings, engine, now)
    with session_scope(engine) as session:  # TaskRun rows of the frequent jobs are only needed briefly
        session.exec(
            delete(TaskRun).where(col(TaskRun.name).startswith("sync:"), col(TaskRun.started_at) < now - timedelta(hours=1))
        )
    return report


def missed(settings: Settings, engine: Engine, now: datetime) -> int:
    from social_campaign.scheduling.claim import mark_missed

    return mark_missed(engine, now, grace=timedelta(minutes=settings.grace_minutes))


def pledge_release(settings: Settings, engine: Engine, now: datetime) -> Any:
    """Advance the all-or-nothing release of every campaign with a ``[pledge]`` (one campaign at a time)."""
    from social_campaign.pledges.release import tick

    return for_each_campaign(settings, "pledge_release", lambda path: tick(settings, engine, now, campaign=path))


def pledge_counter(settings: Settings, engine: Engine, now: datetime) -> Any:
    from social_campaign.pledges.counter import flush

    return flush(settings, engine, now)


def pledge_prune(settings: Settings, engine: Engine, now: datetime) -> Any:
    """Delete ended rate-limit buckets and fraud pledges past SOCIAL_CAMPAIGN_FRAUD_RETENTION_DAYS."""
    from social_campaign.pledges.abuse import prune

    return prune(settings, engine, now)


def workspace_prune(settings: Settings, engine: Engine, now: datetime) -> Any:
    """Delete expired workspace sessions and password links, ended login-throttle buckets and old TOTP steps."""
    from social_campaign.workspace.sessions import prune_job

    return prune_job(settings, engine, now)


def retention(settings: Settings, engine: Engine, now: datetime) -> Any:
    """Erase supporters not on an organisation's list SOCIAL_CAMPAIGN_RETENTION_DAYS after the release; prune."""
    from social_campaign.supporters.retention import run

    return run(settings, engine, now)


def manager_mail(settings: Settings, engine: Engine, now: datetime) -> int:
    """Email new manager notices to SOCIAL_CAMPAIGN_MANAGER_EMAIL (through the mail queue)."""
    from social_campaign.scheduling.notices import mail_manager

    return mail_manager(settings, engine, now)
