"""Pledging: ``POST /c/{slug}/pledge``, the confirm link and the withdraw link.

The answer to a well-formed pledge is always the same page (status, body and headers), whether the pledge was new, a
duplicate or fraudulent; only a bad field (400 naming it), a stale form, or a closed campaign answer differently.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from social_campaign.campaign.model import Campaign
from social_campaign.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from social_campaign.pledges import intake, tokens
from social_campaign.pledges.abuse import validate_form
from social_campaign.web import deps
from social_campaign.web.routes.campaign import current_progress, page_context

router = APIRouter()
MAX_FORM_BYTES = 16 * 1024
NO_STORE = {"cache-control": "no-store"}


def _check_origin(request: Request) -> None:
    """Refuse a form posted from another site (the browser's Origin header, when sent, must be this site)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return
    allowed = {urlsplit(deps.services(request).settings.public_url).netloc, request.headers.get("host", "")}
    if urlsplit(origin).netloc not in allowed:
        raise BadRequest("this form was posted from another site; please use the form on the campaign page")


async def _read_form(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise UnsupportedMediaType("send the pledge form as application/x-www-form-urlencoded")
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise PayloadTooLarge(f"the form is larger than {MAX_FORM_BYTES // 1024} KB")
    form = await request.form(max_files=0, max_fields=30, max_part_size=MAX_FORM_BYTES)
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/c/{slug}/pledge")
async def pledge(request: Request, slug: str) -> Response:
    campaign = deps.campaign(request, slug)
    intake.spec_of(campaign)
    svc = deps.services(request)
    _check_origin(request)
    fields = await _read_form(request)
    if not tokens.csrf_ok(svc.settings.key, fields.get("csrf")):
        raise BadRequest("csrf: the form has expired; please reload the campaign page and pledge again")
    try:
        form = validate_form(
            name=fields.get("name"), email=fields.get("email"), consent=fields.get("consent"),
            country=fields.get("country"), postcode=fields.get("postcode"), website=fields.get("website"),
        )
    except BadRequest as exc:
        progress = await run_in_threadpool(current_progress, request, campaign)
        context = await run_in_threadpool(page_context, request, campaign, progress, form=fields, error=str(exc))
        return deps.render(request, "campaign.html", context, status_code=400)  # type: ignore[no-any-return]
    item = intake.prepare(svc.settings, campaign, form, deps.client_ip(request, svc.settings), deps.now())
    assert svc.pledge_writer is not None
    await svc.pledge_writer.store(item)  # group commit: answered only once the pledge's transaction has committed
    return _thanks(request, campaign)


def _thanks(request: Request, campaign: Campaign) -> Response:
    """The one answer to every well-formed pledge. It depends on the campaign alone, so it is rendered once."""
    pages = deps.services(request).pages
    key = ("thanks.html", campaign.slug, campaign.content_hash)
    body = pages.get(key)
    if body is None:
        body = pages[key] = deps.render(request, "thanks.html", {"campaign": campaign}).body
    return HTMLResponse(body)


@router.get("/c/{slug}/confirm/{token}")
async def confirm(request: Request, slug: str, token: str) -> Response:
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    await run_in_threadpool(intake.confirm, svc.settings, svc.engine, campaign, token, deps.now())
    svc.progress.invalidate(campaign.slug)
    return _private(
        request, "message.html",
        {"campaign": campaign, "title": "Your pledge is confirmed", "message": "Thank you: your pledge now counts toward the goal."},
    )


@router.get("/c/{slug}/withdraw/{token}")
async def withdraw_form(request: Request, slug: str, token: str) -> Response:
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    pledge = await run_in_threadpool(intake.check_withdraw, svc.engine, campaign, token, deps.now())
    return _private(request, "withdraw.html", {"campaign": campaign, "token": token, "status": pledge.status})


@router.post("/c/{slug}/withdraw/{token}")
async def withdraw(request: Request, slug: str, token: str) -> Response:
    """Withdraws. The token in the URL is the credential, so this also serves RFC 8058 one-click unsubscribe POSTs."""
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    await run_in_threadpool(intake.withdraw, svc.settings, svc.engine, campaign, token, deps.now())
    svc.progress.invalidate(campaign.slug)
    return _private(
        request, "message.html",
        {"campaign": campaign, "title": "Your pledge is withdrawn", "message": "Done: your pledge no longer counts and we will not email you again about it."},
    )


def _private(request: Request, template: str, context: dict[str, Any]) -> Response:
    """A page reached through a personal link: rendered, and never stored by a cache."""
    response = cast(Response, deps.render(request, template, context))
    response.headers.update(NO_STORE)
    return response
