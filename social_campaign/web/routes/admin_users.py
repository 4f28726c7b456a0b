"""Owners' pages: users and roles (``/admin/users``) and the audit log (``/admin/audit``).

An owner adds a user with a role and gets a one-time link for them to choose their password (shown once, on the
answer to that POST: it is a secret, so never in a redirect's URL), changes roles, sends a new link, and removes
users; the last owner can be neither removed nor demoted. Every change is audited with the owner as actor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Engine

from social_campaign.db import session_scope
from social_campaign.errors import WebError
from social_campaign.models import User
from social_campaign.web import csrf, deps
from social_campaign.web.auth import require
from social_campaign.workspace import accounts, auditlog, reset

router = APIRouter()
owner = require("owner")
UTC = ZoneInfo("UTC")


def _users(engine: Engine) -> list[User]:
    with session_scope(engine) as s:
        found = accounts.all_users(s)
        for user in found:
            s.expunge(user)
    return found


async def _page(request: Request, me: User, status: int = 200, **context: Any) -> Response:
    svc = deps.services(request)
    users = await run_in_threadpool(_users, svc.engine)
    context.setdefault("error", None)
    context.setdefault("field", None)
    context.setdefault("link", None)
    context.setdefault("form", {})
    context.setdefault("where", "")
    context.setdefault("done", request.query_params.get("done"))
    context.setdefault("who", request.query_params.get("who", ""))
    context.update(users=users, me=me, roles=accounts.ROLES, csrf=csrf.new_token(request), utc=UTC)
    response = cast(Response, deps.render(request, "admin_users.html", context, status_code=status))
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/admin/users")
async def users_page(request: Request, me: User = Depends(owner)) -> Response:
    return await _page(request, me)


async def _change(request: Request, me: User, work: Callable[[Any, dict[str, str]], str | None], done: str,
                  where: str = "list") -> Response:
    """Run ``work(session, fields)`` in one transaction; a returned token is shown as a one-time link."""
    fields = await csrf.checked_form(request)
    svc = deps.services(request)

    def run() -> str | None:
        with session_scope(svc.engine) as s:
            return work(s, fields)

    try:
        token = await run_in_threadpool(run)
    except WebError as exc:
        return await _page(request, me, exc.status, error=str(exc), field=exc.field, form=fields, where=where)
    who = accounts.normalise_email(fields.get("email", ""))
    if token is not None:
        return await _page(request, me, done=done, link=reset.link(svc.settings, token), link_for=who)
    return RedirectResponse(f"/admin/users?done={done}&who={quote(who)}", status_code=303)


@router.post("/admin/users")
async def add_user(request: Request, me: User = Depends(owner)) -> Response:
    def work(s: Any, fields: dict[str, str]) -> str:
        user = accounts.add(s, fields.get("email", ""), fields.get("role", ""), None, actor=me.email, now=deps.now())
        return reset.create(s, user, actor=me.email, now=deps.now())

    return await _change(request, me, work, "added", "add")


@router.post("/admin/users/role")
async def change_role(request: Request, me: User = Depends(owner)) -> Response:
    def work(s: Any, fields: dict[str, str]) -> None:
        accounts.set_role(s, fields.get("email", ""), fields.get("role", ""), actor=me.email, now=deps.now())

    return await _change(request, me, work, "role")


@router.post("/admin/users/link")
async def new_link(request: Request, me: User = Depends(owner)) -> Response:
    def work(s: Any, fields: dict[str, str]) -> str:
        return reset.create(s, accounts.get(s, fields.get("email", "")), actor=me.email, now=deps.now())

    return await _change(request, me, work, "link")


@router.post("/admin/users/remove")
async def remove_user(request: Request, me: User = Depends(owner)) -> Response:
    def work(s: Any, fields: dict[str, str]) -> None:
        accounts.remove(s, fields.get("email", ""), actor=me.email, now=deps.now())

    return await _change(request, me, work, "removed")


@router.get("/admin/audit")
async def audit_page(request: Request, me: User = Depends(owner)) -> Response:
    svc = deps.services(request)
    q = request.query_params
    page_no = int(q["page"]) if q.get("page", "").isdigit() else 1
    found = await run_in_threadpool(lambda: auditlog.read(svc.engine, campaign=q.get("campaign", ""),
                                                          action=q.get("action", ""), page=page_no))
    filters = {k: q.get(k, "") for k in ("campaign", "action")}
    base = "&".join(f"{k}={quote(v)}" for k, v in filters.items() if v)
    response = cast(Response, deps.render(request, "admin_audit.html", {"found": found, "filters": filters,
                                                                        "query": base, "me": me, "utc": UTC}))
    response.headers["cache-control"] = "no-store"
    return response
