"""The manager dashboard ``GET /admin``: progress, schedule, failures, accounts needing reconnect, recent attempts.

Protected by ``settings.admin_token`` (``Authorization: Bearer <token>`` or ``?token=``). With no token set the
dashboard is off: every request gets 403 and a page saying how to set one. Where a request comes from never counts
(a same-host reverse proxy makes every visitor look like 127.0.0.1).
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from social_campaign.errors import Forbidden
from social_campaign.models import (
    Account,
    AccountStatus,
    Attempt,
    Delivery,
    ManagerNotice,
    Pledge,
)
from social_campaign.web import deps

router = APIRouter()
FAILED = ("failed", "needs_reconnect", "unconfirmed", "missed")


NO_TOKEN = (
    "the dashboard is off: set SOCIAL_CAMPAIGN_ADMIN_TOKEN to a long random value (for example the output of "
    "`openssl rand -hex 32`), restart, then open /admin with the header Authorization: Bearer <token> or /admin?token=<token>"
)


def _authorise(request: Request) -> None:
    token = deps.services(request).settings.admin_token
    if token is None:
        raise Forbidden(NO_TOKEN)
    given = request.query_params.get("token") or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not given or not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise Forbidden("the dashboard needs the admin token (Authorization: Bearer … or ?token=…)")


def _dashboard(request: Request) -> dict[str, Any]:
    svc = deps.services(request)
    with Session(svc.engine) as s:
        counts = s.exec(select(Pledge.campaign, Pledge.status, func.count()).group_by(Pledge.campaign, Pledge.status)).all()
        progress: dict[str, dict[str, int]] = {}
        for campaign, status, n in counts:
            progress.setdefault(campaign, {})[status] = n
        goals = {c.slug: c.pledge.goal for c in svc.store.all() if c.pledge is not None}
        context = {
            "progress": progress,
            "goals": goals,
            "schedule": s.exec(select(Delivery).order_by(col(Delivery.due_at)).limit(100)).all(),
            "failures": s.exec(
                select(Delivery).where(col(Delivery.state).in_(FAILED)).order_by(col(Delivery.updated_at).desc()).limit(50)
            ).all(),
            "accounts": s.exec(select(Account).where(Account.status == AccountStatus.needs_reconnect)).all(),
            "attempts": s.exec(select(Attempt).order_by(col(Attempt.started_at).desc()).limit(30)).all(),
            "notices": s.exec(select(ManagerNotice).order_by(col(ManagerNotice.created_at).desc()).limit(30)).all(),
        }
    return context


@router.get("/admin")
async def admin(request: Request) -> Response:
    _authorise(request)
    context = await run_in_threadpool(_dashboard, request)
    response = deps.render(request, "admin.html", context)
    response.headers["cache-control"] = "no-store"
    return response  # type: ignore[no-any-return]
