"""Share pages ``/c/{slug}/share/{token}`` and the counting redirect ``/c/{slug}/go/{token}/{channel}``.

Thin: the links, texts and counting live in ``pledges/share.py``. An unknown or expired token is a 404 with one line.
The page is in the request's language (an emailed link carries ``?lang=`` with the pledge's language); the texts to
share are in the pledge's language. Mastodon is the one network whose address the supporter chooses, so its redirect
is guarded against being an open redirect: ``GET …/go/{token}/mastodon?server=…`` goes straight only to a server the
share page links to (``share.MASTODON_SERVERS``, or the supporter's remembered one); any other name opens a page asking
the supporter to confirm it, and the redirect happens on that page's (or the share page's) POST form, checked by
``web.csrf``. A server the supporter posts or picks is remembered in the ``mastodon_server`` cookie (Path=/c/{slug}/,
HttpOnly, SameSite=Lax, one year) and offered first on their next visit.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from social_campaign.campaign.model import Campaign
from social_campaign.db import session_scope
from social_campaign.errors import BadRequest, NotFound
from social_campaign.i18n import N_, _
from social_campaign.pledges import share
from social_campaign.web import csrf, deps

router = APIRouter()
NO_STORE = {"cache-control": "no-store", "x-robots-tag": "noindex"}
#: The one-tap buttons besides Mastodon, in the order the page shows them.
NETWORKS = (("x", N_("Post on X")), ("bluesky", N_("Post on Bluesky")), ("facebook", N_("Share on Facebook")))


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    response: Response = deps.render(request, template, context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


def _remembered(request: Request) -> str | None:
    return share.remembered_server(request.cookies.get(share.MASTODON_COOKIE))


@router.get("/c/{slug}/share/{token}")
async def share_page(request: Request, slug: str, token: str) -> Response:
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)

    def load() -> tuple[str, str]:
        with Session(svc.engine) as session:
            pledge = share.find_pledge(session, slug, token)
            lang = share.pledge_lang(session, campaign, pledge)
            written = campaign.pledge.variants_by_lang if campaign.pledge else {}
            return share.share_text(campaign, pledge, lang), lang if lang in written else campaign.languages[0]

    text, text_lang = await run_in_threadpool(load)
    remembered = _remembered(request)
    context = {
        "campaign": campaign, "text": text, "text_lang": text_lang, "go": f"/c/{slug}/go/{token}",
        "networks": [(channel, _(label)) for channel, label in NETWORKS], "remembered": remembered,
        "servers": [s for s in share.MASTODON_SERVERS if s != remembered], "csrf": csrf.new_token(request),
    }
    return _page(request, "share.html", context)


async def _count_and_redirect(request: Request, campaign: Campaign, token: str, channel: str, server: str | None,
                              status_code: int) -> Response:
    svc = deps.services(request)

    def count() -> str:
        with svc.write_lock, session_scope(svc.engine) as session:
            pledge = share.find_pledge(session, campaign.slug, token)
            lang = share.pledge_lang(session, campaign, pledge)
            url = share.target_url(svc.settings, campaign, pledge, channel, server, lang)  # validates before counting
            if not deps.is_head(request):  # a HEAD (a link checker) is answered, never counted
                share.record_click(session, pledge, channel, deps.now())
            return url

    url = await run_in_threadpool(count)
    response = RedirectResponse(url, status_code=status_code, headers=NO_STORE)
    if channel == "mastodon" and server and not deps.is_head(request):
        response.set_cookie(
            share.MASTODON_COOKIE, share.mastodon_server(server), max_age=share.MASTODON_COOKIE_MAX_AGE,
            path=f"/c/{campaign.slug}/", samesite="lax", httponly=True, secure=request.url.scheme == "https",
        )
    return response


async def _mastodon_form(request: Request, campaign: Campaign, token: str, server: str, error: str | None) -> Response:
    """The page asking the supporter to confirm (or type) their server: one POST form."""
    svc = deps.services(request)

    def check() -> None:
        with Session(svc.engine) as session:
            share.find_pledge(session, campaign.slug, token)  # an unknown token is a 404 here too

    await run_in_threadpool(check)
    context = {
        "campaign": campaign, "go": f"/c/{campaign.slug}/go/{token}", "server": server, "error": error,
        "servers": share.MASTODON_SERVERS, "csrf": csrf.new_token(request),
    }
    return _page(request, "mastodon.html", context, status_code=400 if error else 200)


@router.get("/c/{slug}/go/{token}/mastodon")
async def go_mastodon(request: Request, slug: str, token: str, server: str | None = None) -> Response:
    campaign = deps.campaign(request, slug)
    linked = share.linked_server(server, _remembered(request))
    if linked is not None:
        return await _count_and_redirect(request, campaign, token, "mastodon", linked, 302)
    error = None
    try:
        share.mastodon_server(server)
    except BadRequest as exc:
        error = str(exc) if server else None
    return await _mastodon_form(request, campaign, token, (server or _remembered(request) or "")[:253], error)


@router.post("/c/{slug}/go/{token}/mastodon")
async def go_mastodon_typed(request: Request, slug: str, token: str) -> Response:
    """The server the supporter typed (or confirmed) on our page."""
    campaign = deps.campaign(request, slug)
    fields = await csrf.checked_form(request)
    server = fields.get("server", "")
    try:
        share.mastodon_server(server)
    except BadRequest as exc:
        return await _mastodon_form(request, campaign, token, server[:253], str(exc))
    return await _count_and_redirect(request, campaign, token, "mastodon", server, 303)


@router.get("/c/{slug}/go/{token}/{channel}")
async def go(request: Request, slug: str, token: str, channel: str) -> Response:
    campaign = deps.campaign(request, slug)
    if channel not in share.CHANNELS:
        raise NotFound(_("This share link is unknown."))
    return await _count_and_redirect(request, campaign, token, channel, None, 302)
