"""schedule.toml → delivery rows, idempotently.

``sync_campaign`` runs ``check`` (one parse gives both the campaign and its problems); any error refuses the file:
the refusal is recorded on ``CampaignRevision`` and as a ``ManagerNotice``, nothing else changes (the last good version
keeps running) and ``CampaignError`` is raised.
Otherwise it upserts one ``Delivery`` per post x channel x occurrence (``occurrence`` is ``""`` for an ``at`` post and
the UTC ISO instant for a cron occurrence within ``horizon_days``):

* new key → a ``scheduled`` row;
* a ``scheduled`` row whose text, media or time changed → updated in place; a ``cancelled`` row → revived;
  a ``missed`` or ``failed`` row whose text, media or time changed → ``scheduled`` again (the manager fixed it);
* a ``scheduled`` row whose post, channel or (future) occurrence vanished → ``cancelled``;
* rows in ``sending``, ``sent``, ``unconfirmed`` and ``needs_reconnect`` are never touched.

Running it twice on the same files changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from social_campaign.campaign.cache import Stamp, stamp
from social_campaign.campaign.model import Campaign, Post
from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.errors import CampaignError, Problem
from social_campaign.models import CampaignRevision, Delivery, DeliveryState, utcnow
from social_campaign.scheduling.media import content_hash, resolve_media
from social_campaign.scheduling.notices import notify
from social_campaign.scheduling.occurrences import occurrences_between

log = logging.getLogger(__name__)

_REVIVABLE = {DeliveryState.missed, DeliveryState.failed}


@dataclass
class SyncReport:
    campaign: str = ""
    created: int = 0
    updated: int = 0
    revived: int = 0
    cancelled: int = 0
    unchanged: int = 0
    skipped: bool = False  # the file was unchanged since the last sync
    warnings: list[Problem] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.revived + self.cancelled


@dataclass(frozen=True)
class _Want:
    post: Post
    channel: str
    occurrence: str
    due_at: datetime
    text: str
    media: list[dict[str, str]]
    chash: str


def sync_campaign(
    settings: Settings, engine: Engine, path: Path, now: datetime | None = None, *, skip_unchanged: bool = False
) -> SyncReport:
    """Sync ``path`` into delivery rows (see the module docstring). Raises ``CampaignError`` when refused.

    The files are read and checked once: the one parse gives both the campaign and its warnings."""
    from social_campaign.campaign.check import run_check

    now = now or utcnow()
    path = Path(path)
    files = stamp(path)  # taken before reading, so an edit during the parse is seen by the next sync
    if skip_unchanged:
        last = _last_good.get(path)
        if last is not None and last[0] == files and _unchanged(engine, last[1], now):
            return SyncReport(campaign=last[1].slug, skipped=True)  # no file changed: no parse at all
    result = run_check(path, now, mastodon_max=settings.mastodon_max_chars)
    if result.campaign is None or result.errors:
        errors = result.errors or result.problems
        _refuse(engine, path, errors, now)
        raise CampaignError(errors)
    campaign = result.campaign
    _last_good[path] = (files, campaign)
    if skip_unchanged and _unchanged(engine, campaign, now):
        return SyncReport(campaign=campaign.slug, skipped=True)
    return sync_loaded(settings, engine, campaign, now, warnings=result.warnings)


# path -> (the files' stamp, the campaign parsed from them): the periodic sync skips the parse while no file changed
_last_good: dict[Path, tuple[Stamp, Campaign]] = {}


def sync_loaded(
    settings: Settings, engine: Engine, campaign: Campaign, now: datetime, *, warnings: list[Problem] | None = None
) -> SyncReport:
    """Upsert the delivery rows of an already loaded and checked ``campaign`` (the second half of a sync)."""
    wants = _desired(settings, campaign, now)
    for attempt in range(3):  # a concurrent scheduler may insert the same key first: redo on conflict
        try:
            report = _apply(engine, campaign, wants, now)
            report.warnings = list(warnings or [])
            return report
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _unchanged(engine: Engine, campaign: Campaign, now: datetime) -> bool:
    """Same files as the last sync, and (for cron posts, whose horizon rolls) synced within the last hour."""
    with Session(engine) as session:
        rev = session.get(CampaignRevision, campaign.slug)
    if rev is None or rev.content_hash != campaign.content_hash:
        return False
    has_cron = any(p.cron for p in campaign.posts)
    return not has_cron or now - rev.synced_at < timedelta(hours=1)


def _desired(settings: Settings, campaign: Campaign, now: datetime) -> dict[tuple[str, str, str], _Want]:
    out_dir = settings.data_dir / "media" / campaign.slug
    window_start = now - timedelta(minutes=settings.grace_minutes)
    window_end = now + timedelta(days=settings.horizon_days)
    wants: dict[tuple[str, str, str], _Want] = {}
    for post in campaign.posts:
        if post.at is not None:
            times = [("", post.at.astimezone(UTC))]
        elif post.cron:
            times = [(t.isoformat(), t) for t in occurrences_between(post, campaign.timezone, window_start, window_end)]
        else:
            times = []
        for channel in post.channels:
            text = post.text_for(channel)
            media = resolve_media(post.media, channel, out_dir, campaign.source)
            chash = content_hash(text, media)
            for occurrence, due in times:
                wants[(post.id, channel, occurrence)] = _Want(post, channel, occurrence, due, text, media, chash)
    return wants


def _apply(engine: Engine, campaign: Campaign, wants: dict[tuple[str, str, str], _Want], now: datetime) -> SyncReport:
    report = SyncReport(campaign=campaign.slug)
    window_start = now  # cron occurrences before now are not cancelled for vanishing from the window
    with session_scope(engine) as session:
        rows = session.exec(select(Delivery).where(Delivery.campaign == campaign.slug, Delivery.kind == "post")).all()
        existing = {(r.post_id, r.channel, r.occurrence): r for r in rows}
        for key, want in wants.items():
            row = existing.get(key)
            if row is None:
                session.add(
                    Delivery(
                        campaign=campaign.slug,
                        post_id=want.post.id,
                        channel=want.channel,
                        occurrence=want.occurrence,
                        due_at=want.due_at,
                        text=want.text,
                        media_json=json.dumps(want.media),
                        content_hash=want.chash,
                        created_at=now,
                        updated_at=now,
                    )
                )
                report.created += 1
                continue
            edited = row.content_hash != want.chash or row.due_at != want.due_at
            if row.state == DeliveryState.scheduled and edited:
                _set(row, want, now)
                report.updated += 1
            elif (row.state == DeliveryState.cancelled and (row.last_error == REMOVED or edited)) or (
                row.state in _REVIVABLE and edited
            ):  # a post put back, or edited; a manager's cancel (workspace) sticks until the post changes
                _set(row, want, now)
                row.state, row.attempts, row.last_error, row.next_attempt_at = DeliveryState.scheduled, 0, None, None
                row.claimed_by = row.claimed_at = None
                report.revived += 1
            else:
                report.unchanged += 1
        for key, row in existing.items():
            if key in wants or row.state != DeliveryState.scheduled:
                continue
            if row.occurrence and row.due_at < window_start and any(k[:2] == key[:2] for k in wants):
                continue  # a past cron occurrence of a post that still exists: left to the missed job
            row.state, row.updated_at, row.last_error = DeliveryState.cancelled, now, REMOVED
            session.add(row)
            report.cancelled += 1
        rev = session.get(CampaignRevision, campaign.slug)
        if rev is None:
            rev = CampaignRevision(campaign=campaign.slug, content_hash=campaign.content_hash)
        rev.content_hash, rev.source, rev.synced_at = (
            campaign.content_hash,
            str(Path(campaign.source).resolve())[:500],
            now,
        )
        rev.last_refused, rev.refused_at = None, None
        session.add(rev)
    if report.changed:
        log.info(
            "synced %s: %d new, %d updated, %d revived, %d cancelled",
            campaign.slug,
            report.created,
            report.updated,
            report.revived,
            report.cancelled,
        )
    return report


REMOVED = "removed from schedule.toml"  # last_error of a row sync cancelled: it comes back when the post does


def _set(row: Delivery, want: _Want, now: datetime) -> None:
    row.text, row.media_json, row.content_hash = want.text, json.dumps(want.media), want.chash
    row.due_at, row.updated_at = want.due_at, now


def _refuse(engine: Engine, path: Path, problems: list[Problem], now: datetime, slug: str | None = None) -> None:
    """Record a refused edit on the campaign's revision (found by slug, else by source path) and as a notice."""
    errors = [p for p in problems if p.severity == "error"] or problems
    first = str(errors[0]) if errors else f"{path}: refused"
    digest = hashlib.sha256("\n".join(str(p) for p in errors).encode()).hexdigest()[:16]
    source = str(path.resolve())
    with session_scope(engine) as session:
        rev = session.get(CampaignRevision, slug) if slug else None
        if rev is None:
            rev = session.exec(select(CampaignRevision).where(CampaignRevision.source == source[:500])).first()
        campaign = rev.campaign if rev is not None else (slug or "")
        if rev is not None:
            rev.last_refused, rev.refused_at = first, now
            session.add(rev)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        keeps = "the last good version keeps running" if rev is not None else "nothing is scheduled from it"
        notify(
            session,
            campaign=campaign,
            kind="refused",
            message=f"schedule edit refused, {keeps}: {first}{more}",
            dedupe_key=f"refused:{campaign}:{digest}",
        )
    log.debug("refused %s: %s", path, first)
