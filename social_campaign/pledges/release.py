"""The all-or-nothing release: a state machine per campaign, evaluated exactly once at the deadline.

States (``PledgeRelease.state``): ``open`` → ``succeeded`` | ``failed``. The transition is one conditional
``UPDATE … WHERE state = 'open'``; only the caller whose update changed a row made it, so restarts and several
schedulers running :func:`tick` at once evaluate the pledge once. Pledging stays open until the deadline even after the
goal is met.

On success the organisation's accounts post ``[pledge]``'s message as ordinary ``Delivery`` rows (``kind="release"``,
``post_id="pledge-release"``, ``occurrence=""``, one per ``[pledge] channels``), created right at the evaluation and
due at ``fire_at``, so the normal workers send them through the publishers on time. At ``fire_at``:

* succeeded: every confirmed supporter gets a personal "it's time" email linking to their share page.
* failed: every confirmed supporter gets a short "goal not reached" email; nothing is posted.

The fan-out is resumable: each batch queues its emails and advances ``fanout_cursor`` (the highest pledge id done) in
one transaction while holding the release row, with ``dedupe_key = "release:{campaign}:{pledge_id}"`` (or
``not_reached:…``) unique, so a kill -9 mid fan-out and a restart notify each supporter exactly once. Emails go
through the mail queue and the per-address cap like every other email.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from social_campaign.campaign.model import Campaign, PledgeSpec
from social_campaign.config import Settings
from social_campaign.db import is_sqlite
from social_campaign.mail import render, skeleton
from social_campaign.models import (
    Delivery,
    DeliveryState,
    EmailMessage,
    EmailState,
    MailOptOut,
    Pledge,
    PledgeData,
    PledgeRelease,
    PledgeStatus,
    ReleaseState,
)

log = logging.getLogger(__name__)

RELEASE_POST_ID = "pledge-release"
FANOUT_BATCH = 500
ANALYZE_EVERY = 20  # batches between planner-statistics refreshes on PostgreSQL during a long fan-out
R = PledgeRelease.__table__  # type: ignore[attr-defined]
P = Pledge.__table__  # type: ignore[attr-defined]
E = EmailMessage.__table__  # type: ignore[attr-defined]
OPT = MailOptOut.__table__  # type: ignore[attr-defined]  # opted out: skipped by the fan-out
D = Delivery.__table__  # type: ignore[attr-defined]
PD = PledgeData.__table__  # type: ignore[attr-defined]  # the pledge's language: its emails are in it


def campaign_state(spec: PledgeSpec, confirmed: int, now: datetime, release: PledgeRelease | None) -> str:
    """What the campaign page shows: ``open``, ``goal reached``, ``released``, ``not reached`` or ``closed``.

    ``closed`` is the short time between the deadline and the evaluation (pledging has ended, the result is not in).
    """
    state = release.state if release is not None else ReleaseState.open
    if state == ReleaseState.succeeded:
        return "released" if now >= spec.fire_at else "goal reached"
    if state == ReleaseState.failed:
        return "not reached"
    if now >= spec.deadline:
        return "closed"
    return "goal reached" if confirmed >= spec.goal else "open"


@dataclass
class TickReport:
    campaign: str
    evaluated: str | None = None  # the new state when this call made the transition
    deliveries: int = 0
    queued: int = 0
    done: bool = False


def tick(settings: Settings, engine: Engine, now: datetime, *, campaign: Path | None = None) -> TickReport | None:
    """One campaign's step of the release: load the campaign file ``campaign`` (default ``settings.schedule``; parsed
    again only when its files change) and advance its release (see :func:`advance`). The scheduler's
    ``pledge_release`` job calls it for every campaign the deployment serves."""
    from social_campaign.campaign.cache import load_cached

    loaded = load_cached(campaign or settings.schedule)
    if loaded.pledge is None:
        return None
    return advance(settings, engine, loaded, now)


def advance(settings: Settings, engine: Engine, campaign: Campaign, now: datetime, *, max_batches: int | None = None) -> TickReport:
    """Evaluate at the deadline (once), then at ``fire_at`` create the release deliveries and fan out the emails.

    ``max_batches`` bounds the emails queued in one call (``FANOUT_BATCH`` each); the next call resumes.
    """
    spec = campaign.pledge
    assert spec is not None
    report = TickReport(campaign.slug)
    _ensure_row(engine, campaign.slug, spec.goal, now)
    if now >= spec.deadline:
        report.evaluated = evaluate(engine, campaign.slug, spec, now)
    with engine.connect() as conn:
        row = conn.execute(select(R).where(R.c.campaign == campaign.slug)).one()
    if row.state == ReleaseState.succeeded and not row.deliveries_created:  # due at fire_at: workers post on time
        report.deliveries = _create_deliveries(engine, campaign, spec, now)
    if now < spec.fire_at or row.state == ReleaseState.open or row.fanout_done:
        report.done = bool(row.fanout_done)
        return report
    _analyze(engine, P)
    batches = 0
    while max_batches is None or batches < max_batches:
        queued, finished = _fanout_batch(settings, engine, campaign, row.state, now)
        report.queued += queued
        batches += 1
        if batches % ANALYZE_EVERY == 0:
            _analyze(engine, E)
        if finished:
            report.done = True
            log.info("release of %s: every confirmed supporter has a %s email queued", campaign.slug, row.state)
            break
    if report.queued:
        _analyze(engine, E)
    return report


def _analyze(engine: Engine, table: Any) -> None:
    """Fresh planner statistics on PostgreSQL after bulk changes: without them the planner reads (and sorts) every
    remaining row for each batch (the cursor's ``ORDER BY id LIMIT``, the mail workers' claims)."""
    if not is_sqlite(engine):
        with engine.begin() as conn:
            conn.exec_driver_sql(f"ANALYZE {table.name}")


def _ensure_row(engine: Engine, slug: str, goal: int, now: datetime) -> None:
    with engine.connect() as conn:
        if conn.execute(select(R.c.campaign).where(R.c.campaign == slug)).first() is not None:
            return
    try:
        with engine.begin() as conn:
            conn.execute(R.insert().values(campaign=slug, state=ReleaseState.open.value, goal=goal, updated_at=now,
                                           fanout_cursor=0, fanout_done=False, deliveries_created=False, notified=0))
    except IntegrityError:
        pass  # another scheduler created it


def confirmed_count(conn: Connection, slug: str) -> int:
    return int(conn.execute(
        select(func.count()).select_from(P).where(P.c.campaign == slug, P.c.status == PledgeStatus.confirmed.value)
    ).scalar_one())


def evaluate(engine: Engine, slug: str, spec: PledgeSpec, now: datetime) -> str | None:
    """The one transition out of ``open``. Returns the new state if this call made it, else ``None``."""
    with engine.begin() as conn:
        confirmed = confirmed_count(conn, slug)
        new = ReleaseState.succeeded if confirmed >= spec.goal else ReleaseState.failed
        res = conn.execute(
            update(R)
            .where(R.c.campaign == slug, R.c.state == ReleaseState.open.value)
            .values(state=new.value, evaluated_at=now, confirmed_at_evaluation=confirmed, goal=spec.goal, updated_at=now)
        )
        if res.rowcount != 1:
            return None
        from social_campaign.webhooks.events import emit  # once: only the caller that made the transition

        emit(conn, "release.decided", {"state": new.value, "confirmed": confirmed, "goal": spec.goal,
                                       "fire_at": spec.fire_at.isoformat()}, campaign=slug, now=now)
    log.info("pledge %s evaluated at the deadline: %d of %d confirmed -> %s", slug, confirmed, spec.goal, new.value)
    return new.value


def _insert(engine: Engine, table: Any, conflict: list[str]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, executed with a list of rows (compiled once, sent in batches)."""
    ins = sqlite_insert(table) if is_sqlite(engine) else pg_insert(table)
    return ins.on_conflict_do_nothing(index_elements=conflict)


def _create_deliveries(engine: Engine, campaign: Campaign, spec: PledgeSpec, now: datetime) -> int:
    """One ``kind="release"`` Delivery per channel, due at ``fire_at`` (idempotent on the delivery key)."""
    from social_campaign.scheduling.media import content_hash

    rows = []
    for channel in spec.channels:
        text = spec.org_texts.get(channel) or (spec.variants[0] if spec.variants else "")
        rows.append({
            "campaign": campaign.slug, "post_id": RELEASE_POST_ID, "channel": channel, "occurrence": "", "kind": "release",
            "due_at": spec.fire_at, "state": DeliveryState.scheduled.value, "text": text, "media_json": "[]",
            "content_hash": content_hash(text, []), "attempts": 0, "created_at": now, "updated_at": now,
        })
    with engine.begin() as conn:
        claimed = conn.execute(
            update(R).where(R.c.campaign == campaign.slug, R.c.deliveries_created.is_(False))
            .values(deliveries_created=True, updated_at=now)
        ).rowcount
        if claimed != 1:
            return 0
        if rows:
            conn.execute(_insert(engine, D, ["campaign", "post_id", "channel", "occurrence"]), rows)
    log.info("release of %s: %d organisation post(s) scheduled at %s", campaign.slug, len(rows), spec.fire_at.isoformat())
    return len(rows)


def _fanout_batch(settings: Settings, engine: Engine, campaign: Campaign, state: str, now: datetime) -> tuple[int, bool]:
    """Queue the next batch of emails and move the cursor, in one transaction holding the release row."""
    spec = campaign.pledge
    assert spec is not None
    kind = "release" if state == ReleaseState.succeeded else "not_reached"
    with engine.begin() as conn:
        lock = select(R).where(R.c.campaign == campaign.slug)
        row = conn.execute(lock if is_sqlite(engine) else lock.with_for_update()).one()
        if row.fanout_done:
            return 0, True
        pledges = conn.execute(
            select(P.c.id, P.c.name, P.c.email, P.c.email_canonical, P.c.share_token, P.c.variant, PD.c.lang)
            .select_from(P.outerjoin(PD, PD.c.pledge_id == P.c.id))
            .where(P.c.campaign == campaign.slug, P.c.status == PledgeStatus.confirmed.value, P.c.id > row.fanout_cursor,
                   P.c.share_token.is_not(None),
                   ~exists().where(OPT.c.campaign == P.c.campaign, OPT.c.email_canonical == P.c.email_canonical))
            .order_by(P.c.id)
            .limit(FANOUT_BATCH)
        ).all()
        if not pledges:
            conn.execute(update(R).where(R.c.campaign == campaign.slug).values(fanout_done=True, fired_at=row.fired_at or now,
                                                                               updated_at=now))
            return 0, True
        confirmed = row.confirmed_at_evaluation or 0
        used = _emails_so_far(conn, campaign.slug, [p.email_canonical for p in pledges])
        emails = [_email_row(settings, campaign, spec, kind, p, confirmed, used, now) for p in pledges]
        got = conn.execute(_insert(engine, E, ["dedupe_key"]).returning(E.c.id), emails).all()
        conn.execute(
            update(R).where(R.c.campaign == campaign.slug)
            .values(fanout_cursor=pledges[-1].id, notified=R.c.notified + len(got), fired_at=row.fired_at or now, updated_at=now)
        )
    return len(got), False


def _emails_so_far(conn: Connection, slug: str, canonicals: list[str]) -> dict[str, int]:
    rows = conn.execute(
        select(E.c.to_canonical, func.count())
        .where(E.c.campaign == slug, E.c.to_canonical.in_(canonicals), E.c.state != EmailState.suppressed.value)
        .group_by(E.c.to_canonical)
    ).all()
    return {c: int(n) for c, n in rows}


def share_text_for(spec: PledgeSpec, variant: int | None, pledge_id: int, lang: str | None = None) -> str:
    """The supporter's text in their language: their stored variant (else pledge id) modulo the language's number of
    variants (``PledgeSpec.share_text``)."""
    return spec.share_text(lang, None, variant if variant is not None else pledge_id)


# Every supporter's email of a fan-out differs only in these, so each (kind, language) is rendered once per campaign
# and filled in (``mail.skeleton``, verified against a real render before it is used).
_SAMPLE = {"name": "Ann <O'Neil> & Co", "share": "https://a.example/c/x/share/AbC-_1",
           "text": "Go & <b>\"now\"</b> #CRC\nhttps://a.example/?a=1&b=2", "withdraw": "https://a.example/c/x/withdraw/XyZ-_2",
           "me": "https://a.example/c/x/me/XyZ-_2"}


def _render(settings: Settings, campaign: Campaign, kind: str, lang: str, confirmed: int,
            values: dict[str, str]) -> render.Rendered:
    def make(v: Mapping[str, str]) -> render.Rendered:
        if kind == "release":
            return render.render_release(settings, campaign, name=v["name"], share_url=v["share"], share_text=v["text"],
                                         confirmed=confirmed, withdraw_url=v["withdraw"], me_url=v["me"], lang=lang)
        return render.render_not_reached(settings, campaign, name=v["name"], confirmed=confirmed,
                                         withdraw_url=v["withdraw"], me_url=v["me"], lang=lang)

    return skeleton.render_with(campaign, (kind, lang, confirmed), make, values, _SAMPLE)


def _email_row(
    settings: Settings, campaign: Campaign, spec: PledgeSpec, kind: str, p: Any, confirmed: int, used: dict[str, int],
    now: datetime,
) -> dict[str, Any]:
    from social_campaign.pledges.notify import links_for

    links = links_for(settings, campaign.slug, p.share_token)
    lang = campaign.language_for(p.lang)  # the pledge's language; the default when the campaign no longer lists it
    text = share_text_for(spec, p.variant, p.id, lang) if kind == "release" else ""
    values = {"name": p.name, "share": f"{links.page}/share/{p.share_token}", "text": text, "withdraw": links.withdraw,
              "me": render.me_link(links.withdraw)}
    r = _render(settings, campaign, kind, lang, confirmed, values)
    dedupe = f"{kind}:{campaign.slug}:{p.id}"
    over_cap = used.get(p.email_canonical, 0) >= settings.max_emails_per_address
    return {
        "campaign": campaign.slug, "kind": kind, "to_addr": p.email, "to_canonical": p.email_canonical,
        "subject": r.subject, "body_text": r.text, "body_html": r.html, "headers_json": json.dumps(r.headers, sort_keys=True),
        "message_id": f"<{hashlib.sha256(dedupe.encode()).hexdigest()[:32]}@social-campaign.local>", "dedupe_key": dedupe,
        "state": (EmailState.suppressed if over_cap else EmailState.queued).value, "attempts": 0,
        "not_before": now, "created_at": now,
    }
