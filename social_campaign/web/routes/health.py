"""``GET /healthz``: the database answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from social_campaign.web.deps import services

router = APIRouter()


def _ping(request: Request) -> bool:
    try:
        with services(request).engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    if _ping(request):
        return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})
    return JSONResponse({"status": "error", "error": "database unreachable"}, status_code=503)
