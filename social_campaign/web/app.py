"""The web app: ``create_app(settings)`` builds FastAPI with server-rendered pages, one error handler and security headers.

Every page works without JavaScript, and every GET page answers HEAD (:class:`HeadAsGet`); a 405 names the allowed
methods in ``Allow``. Errors the package raises on purpose (:class:`WebError` and its subclasses) are
rendered by one handler as one clear line: JSON for ``*.json`` paths and JSON clients, an HTML page otherwise. Anything
else becomes a plain 500 without a traceback (and is logged).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.db import engine_for, is_sqlite
from social_campaign.errors import WebError
from social_campaign.pledges.counter import ProgressCache
from social_campaign.pledges.writer import PledgeWriter
from social_campaign.web import deps
from social_campaign.web.routes import admin, badge, campaign, cards, health, pledge, share, supporter
from social_campaign.web.store import CampaignStore

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; "
        b"form-action 'self' https:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    ),
]


class SecurityHeaders:
    """Pure ASGI middleware adding :data:`SECURITY_HEADERS` to every response (cheap: no request wrapping)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """Pure ASGI middleware: every GET page answers HEAD, with the headers GET would send and no body.

    A HEAD request is routed as GET (so routes are declared once, with ``@router.get``); the response's status and
    headers, ``content-length`` included, go out unchanged and its body is dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET", deps.HEAD_SCOPE_KEY: True}, receive, send_without_body)


ROUTERS = (health, campaign, pledge, share, supporter, badge, cards, admin)  # included in this order, without a prefix


def app_routes() -> list[Route]:
    """Every route of the app's routers, with its full path (``app.routes`` only lists the included routers)."""
    return [route for module in ROUTERS for route in module.router.routes if isinstance(route, Route)]


def allowed_methods(path: str) -> str:
    """The ``Allow`` header for ``path``: every method some route answers there (HEAD wherever GET is)."""
    methods: set[str] = set()
    for route in app_routes():
        if route.methods and route.path_regex.match(path):
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


class ProgressFastPath:
    """Pure ASGI fast path: answers ``GET /c/{slug}/progress.json`` straight from the in-process cache while it is
    fresh, without routing (the hot endpoint every open campaign page polls). Anything else goes to the app."""

    def __init__(self, app: ASGIApp, services: deps.Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and scope["method"] == "GET" and path.endswith("/progress.json") and path.startswith("/c/"):
            body = self.services.progress.fresh(path[3:-len("/progress.json")] + ".json")
            if body is not None:
                age = max(1, round(self.services.settings.progress_interval))
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", f"public, max-age={age}, stale-while-revalidate={age * 5}".encode()),
                    *SECURITY_HEADERS,
                ]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "")


def error_response(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    return cast(Response, deps.render(request, "error.html", {"message": message, "status": status}, status_code=status))


def create_app(settings: Settings, engine: Engine | None = None, *, campaigns: list[Campaign] | None = None) -> FastAPI:
    """The app for ``settings``. The campaign is loaded from ``settings.schedule`` (and reloaded when the file changes)
    unless ``campaigns`` are given (tests). Raises :class:`CampaignError` when the campaign does not load."""
    engine = engine or engine_for(settings)
    store = CampaignStore(campaigns=campaigns) if campaigns is not None else CampaignStore(path=settings.schedule)
    writer = PledgeWriter(settings, engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        writer.close()  # store what is queued before the process ends

    app = FastAPI(title="social-campaign", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.services = deps.Services(
        settings=settings, engine=engine, store=store, progress=ProgressCache(settings.progress_interval),
        pledge_writer=writer,
    )
    if is_sqlite(engine):  # one writer at a time anyway: queue in-process instead of spinning on SQLite's busy lock
        app.state.services.write_lock = threading.Lock()

    @app.exception_handler(WebError)
    async def _web_error(request: Request, exc: WebError) -> Response:
        return error_response(request, exc.status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "page not found" if exc.status_code == 404 else str(exc.detail)
        if exc.status_code != 405:
            return error_response(request, exc.status_code, message)
        allow = allowed_methods(request.url.path)
        response = error_response(request, 405, f"this address does not take {request.method}; it takes {allow}")
        response.headers["allow"] = allow
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return error_response(request, 400, f"{field}: {first.get('msg', 'invalid')}")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(request, 500, "something went wrong on our side; please try again later")

    for module in ROUTERS:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ProgressFastPath, services=app.state.services)
    app.add_middleware(HeadAsGet)  # outermost: HEAD reaches the fast path and every route as GET
    return app


def settle_heap() -> None:
    """Call once the app is built, in the process that serves it: moves every object alive now (the app, templates,
    SQLAlchemy metadata, imported modules) out of the garbage collector's view (``gc.freeze``). Without it each full
    collection walks them all: 50-200 ms pauses under load, the worst of pledge intake's p99."""
    gc.collect()
    gc.freeze()


def app_from_environment() -> FastAPI:
    """The app factory ``serve --workers N`` hands uvicorn: each worker process builds its own app (and engine) from
    the environment's settings. The parent has already upgraded the schema and created the secret key."""
    from social_campaign.config import load_settings

    app = create_app(load_settings())
    settle_heap()
    return app
