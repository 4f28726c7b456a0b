"""Pledging: ``POST /c/{slug}/pledge``, the confirm link and the withdraw link.

The answer to a well-formed pledge is always the same page (status, body and headers), whether the pledge was new, a
duplicate or fraudulent; only a bad field (400: the campaign page again, the message at that field), a stale form, a
closed campaign, or a client over a rate limit (429 with ``Retry-After``: it depends on the client alone, never on the
email) answer differently. The thanks page and the confirm page say what happens next (the release time, an ``.ics``
file, the supporter's number) and offer the share-the-campaign buttons (``web/share_links.py``). A confirm link keeps
working after its use: a second visit says the pledge is already confirmed (``pledges/confirmation.py``). Every page
is in the request's language; a link that is not valid (or no longer) is a 404 page with the campaign's way back.
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
from social_campaign.errors import BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType, WebError
from social_campaign.i18n import N_, _, current
from social_campaign.pledges import confirmation, intake, tokens
from social_campaign.pledges.abuse import RateGate, retry_after, validate_form
from social_campaign.pledges.share import campaign_link
from social_campaign.supporters import consent
from social_campaign.web import csrf, deps
from social_campaign.web.routes.campaign import current_progress, page_context
from social_campaign.web.share_links import campaign_share_links

router = APIRouter()
MAX_FORM_BYTES = 16 * 1024
NO_STORE = {"cache-control": "no-store"}
#: A client already known to be over a rate limit gets its 429 after this pause: a flooder that re-sends as soon as it
#: is answered then costs at most 4 requests a second per connection, and everyone else's pages stay fast.
REFUSAL_PAUSE = 0.25


async def _read_form(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise UnsupportedMediaType(_("Please send the pledge form from the campaign page."))
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise PayloadTooLarge(_("The form is too large. Please shorten what you typed and send it again."))
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
    lang = current()
    try:
        if not tokens.csrf_ok(svc.settings.key, fields.get("csrf")):  # the page was open too long: send it again
            raise BadRequest(_(EXPIRED))
        if fields.get("wording") not in (None, "", consent.wording(campaign, lang)):  # the words changed meanwhile
            for box in consent.boxes(campaign, lang):  # shown again unticked, with the new words
                fields.pop(box.field, None)
            raise BadRequest(_(consent.WORDING_CHANGED), field="consent")
        form = validate_form(
            name=fields.get("name"), email=fields.get("email"), consent=fields.get("consent"),
            country=fields.get("country"), postcode=fields.get("postcode"), website=fields.get("website"),
            updates=[fields.get(consent.updates_field(i)) for i in range(len(consent.organisations(campaign)))],
            minimum_age=intake.spec_of(campaign).minimum_age, age_ok=fields.get("age_ok"), lang=lang,
        )
    except BadRequest as exc:  # the campaign page again, the message at its field (campaign.html)
        progress = await run_in_threadpool(current_progress, request, campaign)
        context = await run_in_threadpool(
            page_context, request, campaign, progress, form=fields, error=str(exc), error_field=exc.field
        )
        return deps.render(request, "campaign.html", context, status_code=400)  # type: ignore[no-any-return]
    item = intake.prepare(svc.settings, campaign, form, ip, now)
    assert svc.pledge_writer is not None
    await svc.pledge_writer.store(item)  # group commit: answered only once the pledge's transaction has committed
    if item.verdict.retry_at is not None:  # over a rate limit: nothing was stored
        gate.block(campaign.slug, item.ip_hash, item.verdict.retry_at, now)
        return _too_many(request, campaign, item.verdict.retry_at, now)
    return _thanks(request, campaign)


#: A pledge form whose token expired (the page stayed open a day, or came from elsewhere): nothing is lost, the page
#: comes back filled in with a fresh token.
EXPIRED = N_("This form was open for too long. Please check your details and press the button again.")


def _gate(request: Request) -> RateGate:
    """This app's memory of clients over a rate limit (one per app, so per web process)."""
    gate: RateGate | None = getattr(request.app.state, "rate_gate", None)
    if gate is None:
        gate = request.app.state.rate_gate = RateGate()
    return gate


def _too_many(request: Request, campaign: Campaign, retry_at: datetime, now: datetime) -> Response:
    """429: the client is over a rate limit; it says when to try again (``Retry-After``) and nothing about who pledged.
    The page depends on the campaign, the language, the window's end and the minutes left, so during a flood it is
    rendered about once a minute (a few pages kept per app) and each refusal costs no template work."""
    seconds = retry_after(retry_at, now)
    minutes = 0 if seconds < 60 else math.ceil(seconds / 60)  # 0: "less than a minute"
    pages: dict[tuple[str, str, datetime, int, str], bytes] | None = getattr(request.app.state, "rate_limited_pages", None)
    if pages is None:
        pages = request.app.state.rate_limited_pages = {}
    key = (campaign.slug, campaign.content_hash, retry_at, minutes, current())
    body = pages.get(key)
    if body is None:
        if len(pages) >= 64:
            pages.clear()
        context = {"campaign": campaign, "retry_at": retry_at, "minutes": minutes}
        body = pages[key] = deps.render(request, "rate_limited.html", context).body
    return HTMLResponse(body, status_code=429, headers={"retry-after": str(seconds), **NO_STORE})


def next_steps(request: Request, campaign: Campaign) -> dict[str, Any]:
    """What the thanks and confirm pages show besides their news: the pledge's terms (goal, deadline, release time),
    the calendar file and the share-the-campaign buttons, in the request's language."""
    settings = deps.services(request).settings
    return {
        "campaign": campaign, "spec": intake.spec_of(campaign), "campaign_url": campaign_link(settings, campaign),
        "share_links": campaign_share_links(campaign, settings, current()),
        "ics_url": f"/c/{campaign.slug}/release.ics",
    }


def _thanks(request: Request, campaign: Campaign) -> Response:
    """The one answer to every well-formed pledge. It depends on the campaign and the language alone, so it is
    rendered once per language."""
    pages = deps.services(request).pages
    key = (f"thanks.html:{current()}", campaign.slug, campaign.content_hash)
    body = pages.get(key)
    if body is None:
        body = pages[key] = deps.render(request, "thanks.html", next_steps(request, campaign)).body
    return HTMLResponse(body)


def _link_problem(request: Request, campaign: Campaign, exc: WebError) -> Response:
    """An emailed link that does not work (unknown, withdrawn, erased, too late): a page with the campaign's header,
    the reason and the way back, with the error's status."""
    title = _("This link does not work") if isinstance(exc, NotFound) else _("This cannot be done any more")
    context = {"campaign": campaign, "title": title, "message": str(exc), "problem": True}
    return _private(request, "message.html", context, status_code=exc.status)


@router.get("/c/{slug}/confirm/{token}")
async def confirm_form(request: Request, slug: str, token: str) -> Response:
    """The emailed confirm link: a page with one button (opening it changes nothing); once used, the next steps."""
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    try:
        done = await run_in_threadpool(confirmation.confirm_state, svc.engine, campaign, token, deps.now())
    except (NotFound, BadRequest) as exc:
        return _link_problem(request, campaign, exc)
    if done is not None:
        return _confirmed(request, campaign, done)
    return _private(request, "confirm.html", {**next_steps(request, campaign), "token": token, "done": None,
                                               "csrf": csrf.new_token(request)})


@router.post("/c/{slug}/confirm/{token}")
async def confirm(request: Request, slug: str, token: str) -> Response:
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    await csrf.checked_form(request)
    try:
        done = await run_in_threadpool(confirmation.confirm_link, svc.settings, svc.engine, campaign, token, deps.now())
    except (NotFound, BadRequest) as exc:
        return _link_problem(request, campaign, exc)
    if not done.already:
        svc.progress.invalidate(campaign.slug)
    return _confirmed(request, campaign, done)


def _confirmed(request: Request, campaign: Campaign, done: confirmation.Confirmation) -> Response:
    return _private(request, "confirm.html", {**next_steps(request, campaign), "done": done})


@router.get("/c/{slug}/withdraw/{token}")
async def withdraw_form(request: Request, slug: str, token: str) -> Response:
    """The emailed withdraw / "stop these emails" link: a page with one button. Opening it changes nothing."""
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    now = deps.now()
    try:
        pledge = await run_in_threadpool(intake.check_withdraw, svc.engine, campaign, token, now)
    except NotFound as exc:
        return _link_problem(request, campaign, exc)
    context = {
        "campaign": campaign, "token": token, "status": pledge.status, "released": intake.released(campaign, now),
        "csrf": csrf.new_token(request),
    }
    return _private(request, "withdraw.html", context)


UNSUBSCRIBED = N_(
    "Done: we will not email you about this campaign again. Its result is already out, so your pledge stays as it "
    "was; only the emails stop."
)
WITHDRAWN = N_("Done: your pledge no longer counts and we will not email you again about it.")


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
    try:
        outcome = await run_in_threadpool(intake.unsubscribe, svc.settings, svc.engine, campaign, token, deps.now())
    except (NotFound, BadRequest) as exc:
        return _link_problem(request, campaign, exc)
    svc.progress.invalidate(campaign.slug)
    if outcome == "unsubscribed":
        context = {"campaign": campaign, "title": _("You will get no more emails"), "message": _(UNSUBSCRIBED)}
    else:
        context = {"campaign": campaign, "title": _("Your pledge is withdrawn"), "message": _(WITHDRAWN)}
    return _private(request, "message.html", context)


def _private(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A page reached through a personal link: rendered, and never stored by a cache."""
    response = cast(Response, deps.render(request, template, context, status_code=status_code))
    response.headers.update(NO_STORE)
    return response
