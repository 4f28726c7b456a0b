"""Pledging: ``POST /c/{slug}/pledge``, the confirm link and the withdraw link.

The answer to a well-formed pledge is always the same page (status, body and headers), whether the pledge was new, a
duplicate or fraudulent; only a bad field (400 naming it), a stale form, a closed campaign, or a client over a rate
limit (429 with ``Retry-After``: it depends on the client alone, never on the email) answer differently.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from social_campaign.campaign.model import Campaign
from social_campaign.crypto import keyed_hash
from social_campaign.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from social_campaign.pledges import intake, tokens
from social_campaign.pledges.abuse import RateGate, retry_after, validate_form
from social_campaign.supporters import consent
from social_campaign.web import csrf, deps
from social_campaign.web.routes.campaign import current_progress, page_context

router = APIRouter()
MAX_FORM_BYTES = 16 * 1024
NO_STORE = {"cache-control": "no-store"}
#: A client already known to be over a rate limit gets its 429 after this pause: a flooder that re-sends as soon as it
#: is answered then costs at most 4 requests a second per connection, and everyone else's pages stay fast.
REFUSAL_PAUSE = 0.25


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
    csrf.refuse_foreign_origin(request)  # a null or missing Origin passes only with the token required below
    now, gate = deps.now(), _gate(request)
    ip = deps.client_ip(request, svc.settings)
    blocked = gate.blocked(campaign.slug, keyed_hash(svc.settings.key, ip, purpose="ip"), now)
    if blocked is not None:  # known to be over a limit: answered from memory, the database never sees it
        await asyncio.sleep(REFUSAL_PAUSE)
        return _too_many(request, campaign, blocked, now)
    fields = await _read_form(request)
    if not tokens.csrf_ok(svc.settings.key, fields.get("csrf")):
        raise BadRequest("csrf: the form has expired; please reload the campaign page and pledge again")
    try:
        if fields.get("wording") not in (None, "", consent.wording(campaign)):  # the words changed since the page
            for box in consent.boxes(campaign):  # shown again unticked, with the new words
                fields.pop(box.field, None)
            raise BadRequest(consent.WORDING_CHANGED)
        form = validate_form(
            name=fields.get("name"), email=fields.get("email"), consent=fields.get("consent"),
            country=fields.get("country"), postcode=fields.get("postcode"), website=fields.get("website"),
            updates=[fields.get(consent.updates_field(i)) for i in range(len(consent.organisations(campaign)))],
            minimum_age=intake.spec_of(campaign).minimum_age, age_ok=fields.get("age_ok"),
        )
    except BadRequest as exc:
        progress = await run_in_threadpool(current_progress, request, campaign)
        context = await run_in_threadpool(page_context, request, campaign, progress, form=fields, error=str(exc))
        return deps.render(request, "campaign.html", context, status_code=400)  # type: ignore[no-any-return]
    item = intake.prepare(svc.settings, campaign, form, ip, now)
    assert svc.pledge_writer is not None
    await svc.pledge_writer.store(item)  # group commit: answered only once the pledge's transaction has committed
    if item.verdict.retry_at is not None:  # over a rate limit: nothing was stored
        gate.block(campaign.slug, item.ip_hash, item.verdict.retry_at, now)
        return _too_many(request, campaign, item.verdict.retry_at, now)
    return _thanks(request, campaign)


def _gate(request: Request) -> RateGate:
    """This app's memory of clients over a rate limit (one per app, so per web process)."""
    gate: RateGate | None = getattr(request.app.state, "rate_gate", None)
    if gate is None:
        gate = request.app.state.rate_gate = RateGate()
    return gate


def _too_many(request: Request, campaign: Campaign, retry_at: datetime, now: datetime) -> Response:
    """429: the client is over a rate limit; it says when to try again (``Retry-After``) and nothing about who pledged.
    The page depends on the campaign, the window's end and the minutes left, so during a flood it is rendered about
    once a minute (a few pages kept per app) and each refusal costs no template work."""
    seconds = retry_after(retry_at, now)
    wait = _wait_words(seconds)
    pages: dict[tuple[str, str, datetime, str], bytes] | None = getattr(request.app.state, "rate_limited_pages", None)
    if pages is None:
        pages = request.app.state.rate_limited_pages = {}
    key = (campaign.slug, campaign.content_hash, retry_at, wait)
    body = pages.get(key)
    if body is None:
        if len(pages) >= 64:
            pages.clear()
        context = {"campaign": campaign, "retry_at": retry_at, "wait": wait}
        body = pages[key] = deps.render(request, "rate_limited.html", context).body
    return HTMLResponse(body, status_code=429, headers={"retry-after": str(seconds), **NO_STORE})


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return "less than a minute"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _thanks(request: Request, campaign: Campaign) -> Response:
    """The one answer to every well-formed pledge. It depends on the campaign alone, so it is rendered once."""
    pages = deps.services(request).pages
    key = ("thanks.html", campaign.slug, campaign.content_hash)
    body = pages.get(key)
    if body is None:
        body = pages[key] = deps.render(request, "thanks.html", {"campaign": campaign}).body
    return HTMLResponse(body)


@router.get("/c/{slug}/confirm/{token}")
async def confirm_form(request: Request, slug: str, token: str) -> Response:
    """The emailed confirm link: a page with one button. Opening it changes nothing."""
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    await run_in_threadpool(intake.check_confirm, svc.engine, campaign, token, deps.now())
    return _private(request, "confirm.html", {"campaign": campaign, "token": token, "csrf": csrf.new_token(request)})


@router.post("/c/{slug}/confirm/{token}")
async def confirm(request: Request, slug: str, token: str) -> Response:
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    await csrf.checked_form(request)
    await run_in_threadpool(intake.confirm, svc.settings, svc.engine, campaign, token, deps.now())
    svc.progress.invalidate(campaign.slug)
    return _private(
        request, "message.html",
        {"campaign": campaign, "title": "Your pledge is confirmed", "message": "Thank you: your pledge now counts toward the goal."},
    )


@router.get("/c/{slug}/withdraw/{token}")
async def withdraw_form(request: Request, slug: str, token: str) -> Response:
    """The emailed withdraw / "stop these emails" link: a page with one button. Opening it changes nothing."""
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    now = deps.now()
    pledge = await run_in_threadpool(intake.check_withdraw, svc.engine, campaign, token, now)
    context = {
        "campaign": campaign, "token": token, "status": pledge.status, "released": intake.released(campaign, now),
        "csrf": csrf.new_token(request),
    }
    return _private(request, "withdraw.html", context)


UNSUBSCRIBED = (
    "Done: we will not email you about this campaign again. Its result is already out, so your pledge stays as it "
    "was; only the emails stop."
)
WITHDRAWN = "Done: your pledge no longer counts and we will not email you again about it."


@router.post("/c/{slug}/withdraw/{token}")
async def withdraw(request: Request, slug: str, token: str) -> Response:
    """Withdraws before the release, stops the emails after it. The token in the URL is the credential, so RFC 8058
    one-click unsubscribe POSTs (``List-Unsubscribe=One-Click``, from mail providers: no Origin, no CSRF token) are
    taken as they come; any other POST passes the form check."""
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    fields = await csrf.small_form(request)
    if fields.get("List-Unsubscribe") == "One-Click":
        csrf.refuse_foreign_origin(request)
    else:
        csrf.check_form_origin(request, csrf.token_ok(request, fields.get("csrf")))
    outcome = await run_in_threadpool(intake.unsubscribe, svc.settings, svc.engine, campaign, token, deps.now())
    svc.progress.invalidate(campaign.slug)
    if outcome == "unsubscribed":
        context = {"campaign": campaign, "title": "You will get no more emails", "message": UNSUBSCRIBED}
    else:
        context = {"campaign": campaign, "title": "Your pledge is withdrawn", "message": WITHDRAWN}
    return _private(request, "message.html", context)


def _private(request: Request, template: str, context: dict[str, Any]) -> Response:
    """A page reached through a personal link: rendered, and never stored by a cache."""
    response = cast(Response, deps.render(request, template, context))
    response.headers.update(NO_STORE)
    return response
