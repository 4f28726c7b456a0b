"""Share pages ``/c/{slug}/share/{token}`` and the counting redirect ``/c/{slug}/go/{token}/{channel}``.

Thin: the links, texts and counting live in ``pledges/share.py``. An unknown or expired token is a 404 with one line.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from social_campaign.db import session_scope
from social_campaign.errors import NotFound
from social_campaign.pledges import share
from social_campaign.web import deps

router = APIRouter()
NO_STORE = {"cache-control": "no-store", "x-robots-tag": "noindex"}


@router.get("/c/{slug}/share/{token}")
async def share_page(request: Request, slug: str, token: str) -> Response:
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)

    def load() -> tuple[str, int]:
        with Session(svc.engine) as session:
            pledge = share.find_pledge(session, slug, token)
            return share.share_text(campaign, pledge), pledge.id or 0

    text, _ = await run_in_threadpool(load)
    go = f"/c/{slug}/go/{token}"
    context = {
        "campaign": campaign, "text": text, "go": go, "link": share.campaign_link(svc.settings, campaign),
        "networks": [("x", "Post on X"), ("bluesky", "Post on Bluesky"), ("facebook", "Share on Facebook")],
    }
    response: Response = deps.render(request, "share.html", context)
    response.headers.update(NO_STORE)
    return response


@router.get("/c/{slug}/go/{token}/{channel}")
async def go(request: Request, slug: str, token: str, channel: str, server: str | None = None) -> Response:
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    if channel not in share.CHANNELS:
        raise NotFound(f"unknown share channel {channel!r}")

    def count() -> str:
        with svc.write_lock, session_scope(svc.engine) as session:
            pledge = share.find_pledge(session, slug, token)
            url = share.target_url(svc.settings, campaign, pledge, channel, server)  # validates before counting
            share.record_click(session, pledge, channel, deps.now())
            return url

    url = await run_in_threadpool(count)
    return RedirectResponse(url, status_code=302, headers=NO_STORE)
