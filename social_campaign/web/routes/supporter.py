"""The supporter's own page, linked from every email: ``/c/{slug}/me/{token}`` (the token is the pledge's withdraw
token, already in every email).

* ``GET /c/{slug}/me/{token}``: what we hold about them (``supporters.person.person_data``), in plain words, with
  links to download it, to withdraw (the existing ``/c/{slug}/withdraw/{token}`` page) and a form to erase it;
* ``GET /c/{slug}/me/{token}/data.json``: the same data as a JSON attachment;
* ``POST /c/{slug}/me/{token}/erase``: erases it (``supporters.erase.erase_pledge``) once the confirmation box is
  ticked; CSRF-checked like every form. Afterwards the token no longer works (its hash is blanked), and the answer
  says what was deleted.

Every page is personal: never stored by a cache (``no-store``) nor indexed (``noindex``). Opening a page changes
nothing; only the erase form's POST does. Pages are in the request's language (times in the one time format); a link
that is not valid (or no longer) is a 404 page with the campaign's header and the way back; the erase form's error
shows at its box (``error_field``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.db import session_scope
from social_campaign.errors import BadRequest, NotFound
from social_campaign.i18n import N_, _
from social_campaign.i18n.formatting import when
from social_campaign.models import Pledge, PledgeData, PledgeStatus
from social_campaign.pledges import intake, tokens
from social_campaign.supporters import consent, person
from social_campaign.web import csrf, deps

router = APIRouter()
PRIVATE = {"cache-control": "no-store", "x-robots-tag": "noindex, nofollow"}
NOT_VALID = N_("This link is not valid, or the data it led to was erased.")
CONFIRM_ERASE = N_("Please tick the box to confirm that you want your data erased.")
STATUS = {"pending": N_("Waiting for you to confirm it"), "confirmed": N_("Confirmed: it counts toward the goal"),
          "withdrawn": N_("Withdrawn: it does not count")}
EMAIL_STATES = {"queued": N_("Waiting to be sent"), "sending": N_("Being sent"), "sent": N_("Sent"),
                "failed": N_("Could not be sent"), "suppressed": N_("Not sent")}


def _pledge(session: Session, slug: str, token: str) -> Pledge:
    """The pledge holding withdraw token ``token`` in ``slug``, or :class:`NotFound` (also once it was erased)."""
    if not token or len(token) > 100:
        raise NotFound(_(NOT_VALID))
    pledge = session.exec(
        select(Pledge).where(Pledge.campaign == slug, Pledge.withdraw_token_hash == tokens.token_hash(token))
    ).first()
    if pledge is None or pledge.status == PledgeStatus.fraud:
        raise NotFound(_(NOT_VALID))
    data = session.get(PledgeData, pledge.id)
    if data is not None and data.erased_at is not None:
        raise NotFound(_(NOT_VALID))
    return pledge


def _data(request: Request, campaign: Campaign, token: str) -> dict[str, Any]:
    intake.spec_of(campaign)
    with Session(deps.services(request).engine) as session:
        return person.person_data(session, _pledge(session, campaign.slug, token))


def _private(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    response = cast(Response, deps.render(request, template, context, status_code=status_code))
    response.headers.update(PRIVATE)
    return response


def opt_ins(data: dict[str, Any]) -> list[tuple[str, bool]]:
    """Each organisation's latest answer to its "keep me informed" box, in the order first asked."""
    latest: dict[str, bool] = {}
    for record in data["consents"]:
        if record["kind"] == "updates":
            latest[record["organisation"]] = record["given"]
    return list(latest.items())


def _at(campaign: Campaign) -> Callable[[str | None], str]:
    """An ISO 8601 time from ``person_data`` in the one time format, in the campaign's zone and the page's language."""
    def at(iso: str | None) -> str:
        return when(datetime.fromisoformat(iso), campaign.timezone) if iso else ""
    return at


def _me_context(
    request: Request, campaign: Campaign, token: str, data: dict[str, Any], error: BadRequest | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    answers = dict(opt_ins(data))
    choices = [  # the campaign's "keep me informed" boxes, with the supporter's latest answer and the same words
        (consent.updates_field(i), org, consent.updates_consent_text(campaign, org), answers.get(org, False))
        for i, org in enumerate(consent.organisations(campaign))
    ]
    return {
        "campaign": campaign, "token": token, "data": data, "opt_ins": opt_ins(data), "choices": choices,
        "error": str(error) if error else None, "error_field": error.field if error else None, "notice": notice,
        "released": intake.released(campaign, deps.now()), "csrf": csrf.new_token(request), "at": _at(campaign),
        "status_label": _(STATUS.get(str(data["pledge"]["status"]), str(data["pledge"]["status"]))),
        "email_state": lambda state: _(EMAIL_STATES[state]) if state in EMAIL_STATES else state,
        "ip_hashed": data["held"]["ip_address"] != "not stored",
    }


@router.get("/c/{slug}/me/{token}")
async def me(request: Request, slug: str, token: str) -> Response:
    campaign = deps.campaign(request, slug)
    try:
        data = await run_in_threadpool(_data, request, campaign, token)
    except NotFound as exc:  # an old email's link after erasure, or a mistyped one: the way back
        context = {"campaign": campaign, "title": _("This link does not work"), "message": str(exc), "problem": True}
        return _private(request, "message.html", context, status_code=404)
    return _private(request, "me.html", _me_context(request, campaign, token, data))


@router.get("/c/{slug}/me/{token}/data.json")
async def me_json(request: Request, slug: str, token: str) -> Response:
    campaign = deps.campaign(request, slug)
    data = await run_in_threadpool(_data, request, campaign, token)
    body = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    headers = {**PRIVATE, "content-disposition": f'attachment; filename="{campaign.slug}-my-data.json"'}
    return Response(body.encode(), media_type="application/json", headers=headers)


def _change(request: Request, campaign: Campaign, token: str, wanted: tuple[bool, ...], now: datetime) -> int:
    svc = deps.services(request)
    with session_scope(svc.engine) as session:
        pledge = _pledge(session, campaign.slug, token)
        assert pledge.id is not None
        return consent.change_updates(session.connection(), svc.settings, campaign, pledge.id, wanted, now)


@router.post("/c/{slug}/me/{token}/updates")
async def updates(request: Request, slug: str, token: str) -> Response:
    """Change the "keep me informed" answers (ticking opts in, unticking opts out), recorded like the pledge's."""
    campaign = deps.campaign(request, slug)
    fields = await csrf.checked_form(request)
    wanted = tuple(bool(fields.get(consent.updates_field(i))) for i in range(len(consent.organisations(campaign))))
    changed = await run_in_threadpool(_change, request, campaign, token, wanted, deps.now())
    data = await run_in_threadpool(_data, request, campaign, token)
    notice = _("Saved: your choices are recorded.") if changed else _("Nothing changed: these were already your choices.")
    return _private(request, "me.html", _me_context(request, campaign, token, data, notice=notice))


def _erase(request: Request, campaign: Campaign, token: str, now: datetime) -> dict[str, int]:
    """Erase the pledge holding ``token``; returns what went (counted before): emails and consent answers kept."""
    from social_campaign.supporters.erase import erase_pledge, forget_old_copies

    svc = deps.services(request)
    with session_scope(svc.engine) as session:
        pledge = _pledge(session, campaign.slug, token)
        data = person.person_data(session, pledge)
        if not erase_pledge(session, pledge, now=now, actor="supporter (own page)", data_dir=svc.settings.data_dir):
            raise NotFound(_(NOT_VALID))
    forget_old_copies(svc.engine)
    return {"emails": len(data["emails"]), "consents": len(data["consents"]), "clicks": len(data["share_clicks"])}


@router.post("/c/{slug}/me/{token}/erase")
async def erase(request: Request, slug: str, token: str) -> Response:
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    fields = await csrf.checked_form(request)
    if fields.get("confirm") != "yes":
        data = await run_in_threadpool(_data, request, campaign, token)
        context = _me_context(request, campaign, token, data, error=BadRequest(_(CONFIRM_ERASE), field="confirm"))
        return _private(request, "me.html", context, status_code=400)
    counts = await run_in_threadpool(_erase, request, campaign, token, deps.now())
    svc.progress.invalidate(campaign.slug)
    return _private(request, "erased.html", {"campaign": campaign, "counts": counts})

