"""A campaign's dashboard /admin/c/{slug}, its live numbers, retry and cancel, and the read-only JSON under /admin/api/.

* ``GET /admin/c/{slug}`` (viewer): state and countdowns, pledges over time, the funnel, countries, the deliveries'
  timeline, failures with Retry and Cancel (editors), accounts to reconnect. Server-rendered SVG; works without JS.
* ``GET /admin/c/{slug}/live.json`` (viewer, no-store): what ``admin-dashboard.js`` polls to update the numbers.
* ``POST /admin/c/{slug}/deliveries/{id}/retry`` and ``…/cancel`` (editor, CSRF-checked, audited): 303 back to the
  page; a refused change answers 409 (404 for an unknown delivery) with the page and the reason, nothing changed.
* ``GET /admin/api/c/{slug}/dashboard.json`` (the admin token): every number, for scripts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from social_campaign.campaign.model import Campaign
from social_campaign.errors import WebError
from social_campaign.i18n import _, catalogs
from social_campaign.models import User
from social_campaign.pledges.release import RELEASE_POST_ID
from social_campaign.web import csrf, deps
from social_campaign.web.auth import require, require_api_token, safe_next
from social_campaign.workspace import aggregates, charts, dashboard, deliveries
from social_campaign.workspace.accounts import rank

router = APIRouter()
UTC_ZONE = ZoneInfo("UTC")
NO_STORE = {"cache-control": "no-store"}


def _countdown(seconds: float) -> str:
    from babel.dates import format_timedelta

    return str(format_timedelta(timedelta(seconds=seconds), granularity="minute", threshold=1.5, add_direction=True,
                                locale=catalogs.current().replace("-", "_")))


def _labels() -> dict[str, str]:
    return {
        "open": _("Open: collecting pledges"), "goal reached": _("Goal reached: still collecting pledges"),
        "released": _("Released: the goal was met"), "not reached": _("Not reached: the goal was not met"),
        "closed": _("Closed: waiting for the result"), "no pledge": _("No pledge in this campaign"),
    }


def page_context(request: Request, campaign: Campaign, user: User, **extra: Any) -> dict[str, Any]:
    svc = deps.services(request)
    now = deps.now()
    data = dashboard.numbers(svc.engine, campaign, now, max_age=aggregates.MAX_AGE)
    steps = {"pledged": _("Pledged"), "confirmed": _("Confirmed"), "notified": _("Notified of the result"),
             "clicked": _("Clicked a share link"), "autoposted": _("Auto-posted (when auto-share is on)")}
    funnel_rows = [(steps[k], n) for k, n in data.funnel.steps()]
    funnel_table = [(k, steps[k], n) for k, n in data.funnel.steps()]
    day_rows, total = [], data.confirmed - sum(n for _d, n in (data.series.days if data.series else []))
    for day, n in data.series.days if data.series else []:
        total += n
        day_rows.append((day, n, total))
    named = {dashboard.OTHER: _("Other countries"), dashboard.NOT_GIVEN: _("Not given")}
    country_rows = [(named.get(c, c), n) for c, n in data.countries]
    states = {s: deliveries.state_label(s) for s in dashboard.DELIVERY_STATES}
    total_deliveries = sum(data.delivery_states.values())
    return {
        "campaign": campaign, "data": data, "user": user, "zone": campaign.timezone, "utc": UTC_ZONE,
        "can_edit": rank(user.role) >= rank("editor"), "csrf": csrf.new_token(request), "state_labels": _labels(),
        "states": states, "funnel_rows": funnel_rows, "funnel_table": funnel_table, "day_rows": day_rows, "country_rows": country_rows,
        "countdowns": {
            "deadline": _countdown((data.deadline - now).total_seconds()) if data.deadline else "",
            "fire_at": _countdown((data.fire_at - now).total_seconds()) if data.fire_at else "",
        },
        "pledges_svg": charts.pledges_chart(data.series) if data.series else None,
        "funnel_svg": charts.bars("chart-funnel", _("From pledge to post"), _("How many supporters reached each step."),
                                  funnel_rows, data.funnel.pledged),
        "countries_svg": charts.bars("chart-countries", _("Confirmed pledges by country"),
                                     _("The 15 countries with the most confirmed pledges, then the rest."),
                                     country_rows, data.confirmed) if country_rows else None,
        "timeline_svg": charts.timeline_chart(
            data.delivery_days, _("Posts by the day they are due in the campaign's time zone, stacked by state."),
            today=now.astimezone(campaign.timezone).date()),
        "num": charts.number, "pct": charts.percent, "at": lambda moment: charts.when(moment, campaign.timezone),
        "swatch": charts.swatch, "styles": charts.STATE_STYLE, "total_deliveries": total_deliveries,
        "retryable": {s.value for s in deliveries.RETRYABLE}, "cancellable": {s.value for s in deliveries.CANCELLABLE},
        **extra,
    }


def _render(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    response: Response = deps.render(request, "admin_dashboard.html", context, status_code=status)
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/admin/c/{slug}")
def dashboard_page(request: Request, slug: str, user: User = Depends(require("viewer"))) -> Response:
    campaign = deps.campaign(request, slug)
    done = {k: request.query_params.get(k) for k in ("retried", "cancelled")}
    return _render(request, page_context(request, campaign, user, done=done))


@router.get("/admin/c/{slug}/live.json")
def live_json(request: Request, slug: str, user: User = Depends(require("viewer"))) -> Response:
    campaign = deps.campaign(request, slug)
    data = dashboard.live(deps.services(request).engine, campaign, deps.now(), max_age=aggregates.MAX_AGE)
    return JSONResponse(data, headers=NO_STORE)


@router.get("/admin/api/c/{slug}/dashboard.json", dependencies=[Depends(require_api_token)])
def dashboard_json(request: Request, slug: str) -> Response:
    campaign = deps.campaign(request, slug)
    data = dashboard.numbers(deps.services(request).engine, campaign, deps.now(), max_age=aggregates.MAX_AGE)
    return JSONResponse(dashboard.as_json(data), headers=NO_STORE)


async def _act(request: Request, slug: str, delivery_id: int, user: User, action: str) -> Response:
    campaign = deps.campaign(request, slug)
    fields = await csrf.checked_form(request)
    engine, expected = deps.services(request).engine, fields.get("state") or None
    posts = frozenset({p.id for p in campaign.posts} | {RELEASE_POST_ID})

    def move() -> object:
        if action == "retry":
            return deliveries.retry(engine, slug, delivery_id, actor=user.email, now=deps.now(), expected=expected,
                                    posts=posts)
        return deliveries.cancel(engine, slug, delivery_id, actor=user.email, now=deps.now(), expected=expected)

    try:
        await run_in_threadpool(move)
    except WebError as exc:
        refused, status = str(exc), exc.status
    else:
        aggregates.forget(engine, slug)  # the page it goes back to shows the change at once
        back = f"/admin/c/{slug}?{'retried' if action == 'retry' else 'cancelled'}={delivery_id}#failures"
        return RedirectResponse(safe_next(back), status_code=303)
    context = await run_in_threadpool(
        lambda: page_context(request, campaign, user, done={}, refused=refused, refused_id=delivery_id))
    return _render(request, context, status=status)


@router.post("/admin/c/{slug}/deliveries/{delivery_id}/retry")
async def retry(request: Request, slug: str, delivery_id: int, user: User = Depends(require("editor"))) -> Response:
    return await _act(request, slug, delivery_id, user, "retry")


@router.post("/admin/c/{slug}/deliveries/{delivery_id}/cancel")
async def cancel(request: Request, slug: str, delivery_id: int, user: User = Depends(require("editor"))) -> Response:
    return await _act(request, slug, delivery_id, user, "cancel")
