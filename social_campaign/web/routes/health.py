"""``GET /healthz``: the database answers and every background loop of this process is alive and beating.

A loop (``supervise.REGISTRY``: delivery and mail workers, scheduler jobs, the pledge writer) that died, or has not
beaten for ``SOCIAL_CAMPAIGN_HEARTBEAT_STALE_SECONDS`` plus its own interval, makes the answer 503 with its name, so a
load balancer or an operator sees it. Only loops on this app's database count (tests run many apps in one process).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from social_campaign.supervise import REGISTRY, db_key
from social_campaign.web.deps import services

router = APIRouter()
NO_STORE = {"cache-control": "no-store"}


def _ping(request: Request) -> bool:
    try:
        with services(request).engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    svc = services(request)
    stalled = REGISTRY.stalled(svc.settings.heartbeat_stale_seconds, db=db_key(svc.engine))
    if stalled:
        names = ", ".join(sorted(stalled))
        return JSONResponse(
            {"status": "error", "error": f"stalled: {names}", "stalled": stalled}, status_code=503, headers=NO_STORE
        )
    if _ping(request):
        return JSONResponse({"status": "ok"}, headers=NO_STORE)
    return JSONResponse({"status": "error", "error": "database unreachable"}, status_code=503, headers=NO_STORE)
