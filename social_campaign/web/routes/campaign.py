"""The public campaign page ``GET /c/{slug}`` and ``GET /c/{slug}/progress.json``.

The page's first screen holds the story, a hero card, the progress (bar, percentage, "N more needed by <date>") and
the call to pledge; its copy follows ``progress.state`` (open, goal reached, released, not reached, closed). The pledge
route renders the same template with ``error`` and ``error_field`` when a field is wrong.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlmodel import Session

from social_campaign.campaign.model import Campaign
from social_campaign.i18n import _, current
from social_campaign.pledges import counter, tokens
from social_campaign.pledges.intake import spec_of
from social_campaign.pledges.progress import Progress, iso_utc, progress_of
from social_campaign.supporters import consent
from social_campaign.web import deps

router = APIRouter()
CORS = {"access-control-allow-origin": "*", "cross-origin-resource-policy": "cross-origin"}


def current_progress(request: Request, campaign: Campaign) -> Progress:
    """The campaign's progress, computed at most once per ``progress_interval`` in this process."""
    svc = deps.services(request)
    spec_of(campaign)
    return svc.progress.get(campaign.slug, lambda: compute_progress(request, campaign))


def compute_progress(request: Request, campaign: Campaign) -> Progress:
    svc = deps.services(request)
    with Session(svc.engine) as session:
        confirmed = counter.read(session, campaign.slug)
        session.commit()
    return progress_of(svc.engine, campaign, confirmed, deps.now())


def _progress_body(request: Request, campaign: Campaign) -> bytes:
    return json.dumps(compute_progress(request, campaign).as_json(), separators=(",", ":")).encode()


def _badge_makers(request: Request, campaign: Campaign) -> int | None:
    fn: Any = None
    for module in ("social_campaign.web.routes.badge", "social_campaign.graphics.badge"):
        try:
            fn = getattr(__import__(module, fromlist=["badge_maker_count"]), "badge_maker_count", None)
        except ImportError:
            fn = None
        if fn is not None:
            break
    if fn is None:
        return None
    with Session(deps.services(request).engine) as session:
        return int(fn(session, campaign.slug))


def countdown(until: datetime, now: datetime, lang: str | None = None) -> str | None:
    """``29 days left``; in the last day ``5 hours and 12 minutes left``; ``None`` once ``until`` has passed (Babel
    units and lists, so every language says it its own way; ``static/campaign.js`` says the same with ``Intl``)."""
    from babel.lists import format_list
    from babel.units import format_unit

    from social_campaign.i18n.formatting import _locale

    left = until - now
    if left <= timedelta(0):
        return None
    locale = _locale(lang)
    seconds = int(left.total_seconds())
    if seconds >= 86400:
        duration = str(format_unit(seconds // 86400, "duration-day", length="long", locale=locale))
    else:
        hours, minutes = divmod(max(1, -(-seconds // 60)), 60)
        parts = [format_unit(hours, "duration-hour", length="long", locale=locale)] if hours else []
        if minutes or not hours:
            parts.append(format_unit(minutes, "duration-minute", length="long", locale=locale))
        duration = str(format_list([str(p) for p in parts], locale=locale))
    return _("%(duration)s left") % {"duration": duration}


def _variants(campaign: Campaign, lang: str) -> tuple[str, ...]:
    spec = campaign.pledge
    if spec is None:
        return ()
    fn = getattr(spec, "variants_for", None)
    found = fn(lang) if callable(fn) else spec.variants
    return tuple(found or spec.variants)


def _share_links(request: Request, campaign: Campaign, lang: str) -> list[Any]:
    """The share-the-campaign buttons (``web/share_links.py``), or none while that module is absent."""
    try:
        from social_campaign.web.share_links import campaign_share_links  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return []
    return list(campaign_share_links(campaign, deps.services(request).settings, lang))


def _at_field(context: dict[str, Any]) -> None:
    """An error still written the old way (``email: please enter…``) goes at its field all the same."""
    error = context.get("error")
    if not error or context.get("error_field"):
        return
    head, sep, rest = str(error).partition(": ")
    fields = {"name", "email", "country", "postcode", *(b.field for b in context["boxes"])}
    if sep and head in fields and rest:
        context["error_field"], context["error"] = head, rest[:1].upper() + rest[1:]


def page_context(request: Request, campaign: Campaign, progress: Progress, **extra: Any) -> dict[str, Any]:
    spec = spec_of(campaign)
    svc = deps.services(request)
    lang, now = current(), deps.now()
    variants = _variants(campaign, lang)
    context = {
        "campaign": campaign,
        "spec": spec,
        "message": variants[0] if variants else "",
        "progress": progress,
        "needed": max(0, progress.goal - progress.confirmed),
        "deadline_utc": iso_utc(spec.deadline),
        "fire_utc": iso_utc(spec.fire_at),
        "deadline_left": countdown(spec.deadline, now, lang),
        "fire_left": countdown(spec.fire_at, now, lang),
        "csrf": tokens.new_csrf_token(svc.settings.key),
        "badge_makers": _badge_makers(request, campaign),
        "form": {},
        "progress_interval": svc.settings.progress_interval,
        "error": None,
        "error_field": None,
        "boxes": consent.boxes(campaign, lang),  # the consent boxes' exact words, as recorded (supporters/consent.py)
        "wording": consent.wording(campaign, lang),
        "share_links": _share_links(request, campaign, lang) if progress.state == "released" else [],
        **extra,
    }
    _at_field(context)
    return context


@router.get("/c/{slug}")
async def campaign_page(request: Request, slug: str) -> Response:
    campaign = deps.campaign(request, slug)
    progress = await run_in_threadpool(current_progress, request, campaign)
    context = await run_in_threadpool(page_context, request, campaign, progress)
    return deps.render(request, "campaign.html", context)  # type: ignore[no-any-return]


@router.get("/c/{slug}/progress.json")
async def progress_json(request: Request, slug: str) -> Response:
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    spec_of(campaign)
    body = svc.progress.fresh(f"{slug}.json")
    if body is None:
        body = await run_in_threadpool(svc.progress.get, f"{slug}.json", lambda: _progress_body(request, campaign))
    age = max(1, round(svc.settings.progress_interval))
    return Response(
        body,
        media_type="application/json",
        headers={"cache-control": f"public, max-age={age}, stale-while-revalidate={age * 5}", **CORS},
    )
