"""The public campaign page ``GET /c/{slug}`` and ``GET /c/{slug}/progress.json``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlmodel import Session

from social_campaign.campaign.model import Campaign
from social_campaign.mail.render import what_when
from social_campaign.pledges import counter, tokens
from social_campaign.pledges.intake import spec_of
from social_campaign.pledges.progress import Progress, iso_utc, progress_of
from social_campaign.supporters import consent
from social_campaign.web import deps

router = APIRouter()


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


def _local(dt: Any, campaign: Campaign) -> str:
    return str(dt.astimezone(campaign.timezone).strftime("%A %d %B %Y, %H:%M %Z"))


def page_context(request: Request, campaign: Campaign, progress: Progress, **extra: Any) -> dict[str, Any]:
    spec = spec_of(campaign)
    svc = deps.services(request)
    return {
        "campaign": campaign,
        "spec": spec,
        "message": spec.variants[0] if spec.variants else campaign.description,
        "progress": progress,
        "deadline_utc": iso_utc(spec.deadline),
        "fire_utc": iso_utc(spec.fire_at),
        "deadline_local": _local(spec.deadline, campaign),
        "fire_local": _local(spec.fire_at, campaign),
        "what_when": what_when(campaign),
        "csrf": tokens.new_csrf_token(svc.settings.key),
        "badge_makers": _badge_makers(request, campaign),
        "form": {},
        "progress_interval": svc.settings.progress_interval,
        "error": None,
        "boxes": consent.boxes(campaign),  # the consent boxes' exact words, as recorded (supporters/consent.py)
        "wording": consent.wording(campaign),
        **extra,
    }


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
        headers={"cache-control": f"public, max-age={age}, stale-while-revalidate={age * 5}"},
    )
