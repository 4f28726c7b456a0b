"""The workspace home ``GET /admin``: the campaigns this deployment serves (any logged-in user), and a new campaign
made from the shipped one, ``GET/POST /admin/campaigns/new`` (owners).

Each campaign's line shows its name in the reader's language, its slug, its state, confirmed pledges against the goal,
the next delivery (in the campaign's zone) and a refused edit, with links to its dashboard (``/admin/c/{slug}``) and
its posts (``/admin/c/{slug}/posts``). The page needs a session (``web.auth.require``); the admin token opens only the
JSON under ``/admin/api/``, and where a request comes from never counts.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from social_campaign.errors import BadRequest
from social_campaign.models import User
from social_campaign.web import csrf, deps
from social_campaign.web.auth import require
from social_campaign.workspace import campaigns as service
from social_campaign.workspace.accounts import rank

router = APIRouter()


def _no_store(response: Any) -> Response:
    response.headers["cache-control"] = "no-store"
    return cast(Response, response)


@router.get("/admin")
async def home(request: Request, user: User = Depends(require("viewer"))) -> Response:
    svc = deps.services(request)
    rows = await run_in_threadpool(service.overview, svc.engine, svc.store.all(), deps.now())
    created = request.query_params.get("created")
    context = {"rows": rows, "user": user, "can_create": rank(user.role) >= rank("owner"),
               "created": created if any(r.campaign.slug == created for r in rows) else None}
    return _no_store(deps.render(request, "admin.html", context))


def _form(request: Request, fields: dict[str, str], error: BadRequest | None = None) -> Response:
    from social_campaign.workspace.campaigns import TEMPLATE, read_slug

    context = {
        "csrf": csrf.new_token(request), "fields": fields, "error": str(error) if error else None,
        "field": error.field if error else None, "zones": _zones(), "template": read_slug(TEMPLATE) or TEMPLATE.parent.name,
    }
    return _no_store(deps.render(request, "admin_new_campaign.html", context, status_code=error.status if error else 200))


@lru_cache(maxsize=1)
def _zones() -> list[str]:
    from zoneinfo import available_timezones

    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))


@router.get("/admin/campaigns/new")
async def new_campaign(request: Request, user: User = Depends(require("owner"))) -> Response:
    from social_campaign.campaign.cache import load_cached
    from social_campaign.workspace.campaigns import TEMPLATE

    zone = load_cached(TEMPLATE).timezone.key if TEMPLATE.is_file() else "UTC"
    return _form(request, {"slug": "", "name": "", "timezone": zone})


@router.post("/admin/campaigns/new")
async def create_campaign(request: Request, user: User = Depends(require("owner"))) -> Response:
    form = await csrf.checked_form(request)
    fields = {key: form.get(key, "") for key in ("slug", "name", "timezone")}
    svc = deps.services(request)
    taken = {c.slug for c in svc.store.all()} | {
        slug for path in service.campaign_paths(svc.settings) if (slug := service.read_slug(path))}
    try:
        await run_in_threadpool(
            service.create_from_template, svc.settings, svc.engine, slug=fields["slug"], name=fields["name"],
            timezone=fields["timezone"], actor=user.email, taken=taken,
        )  # fmt: skip
    except BadRequest as exc:
        return _form(request, fields, exc)
    await run_in_threadpool(svc.store.refresh)
    return RedirectResponse(f"/admin?created={fields['slug'].strip()}", status_code=303)
