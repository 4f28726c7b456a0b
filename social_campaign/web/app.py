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

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.db import engine_for, is_sqlite
from social_campaign.errors import NotFound, Unauthorized, WebError
from social_campaign.i18n import _
from social_campaign.pledges.counter import ProgressCache
from social_campaign.pledges.writer import PledgeWriter
from social_campaign.web import auth, deps, meta
from social_campaign.web.lang import LanguageMiddleware
from social_campaign.web.middleware import HeadAsGet, ProgressFastPath, SecurityHeaders
from social_campaign.web.routes import (
    admin,
    admin_dashboard,
    admin_history,
    admin_posts,
    admin_users,
    badge,
    calendar,
    campaign,
    cards,
    embed,
    health,
    login,
    pledge,
    share,
    supporter,
)
from social_campaign.web.store import CampaignStore

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"

ROUTERS = (
    health, campaign, embed, pledge, calendar, share, supporter, badge, cards,
    login, admin, admin_users, admin_dashboard, admin_posts, admin_history,
)  # included in this order, without a prefix


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


def wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "")


def _campaign_of(request: Request) -> Campaign | None:
    """The campaign whose pages ``request`` is under (``/c/{slug}…``), if it exists: its error pages keep its header."""
    path = request.url.path
    if not path.startswith("/c/"):
        return None
    try:
        found: Campaign = deps.services(request).store.get(path[3:].split("/", 1)[0])
    except NotFound:
        return None
    return found


def error_response(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    message = message[:1].upper() + message[1:]
    context = {"message": message, "status": status, "campaign": _campaign_of(request)}
    return cast(Response, deps.render(request, "error.html", context, status_code=status))


def create_app(settings: Settings, engine: Engine | None = None, *, campaigns: list[Campaign] | None = None) -> FastAPI:
    """The app for ``settings``. The campaigns are loaded from ``workspace.campaigns.campaign_paths(settings)`` (CAMPAIGNS
    or SCHEDULE, plus those created in the workspace; reloaded when their files change) unless ``campaigns`` are given
    (tests). Raises :class:`CampaignError` when a campaign does not load."""
    engine = engine or engine_for(settings)
    store = CampaignStore(campaigns=campaigns) if campaigns is not None else CampaignStore(settings=settings)
    writer = PledgeWriter(settings, engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        writer.close()  # store what is queued before the process ends

    meta.install(deps.templates.env)  # link previews, campaign words and the language switcher in every page
    auth.install(deps.templates.env)  # the workspace header: who is logged in, the logout form
    app = FastAPI(title="social-campaign", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.services = deps.Services(
        settings=settings, engine=engine, store=store, progress=ProgressCache(settings.progress_interval),
        pledge_writer=writer,
    )
    if is_sqlite(engine):  # one writer at a time anyway: queue in-process instead of spinning on SQLite's busy lock
        app.state.services.write_lock = threading.Lock()

    @app.exception_handler(WebError)
    async def _web_error(request: Request, exc: WebError) -> Response:
        if isinstance(exc, Unauthorized):  # the workspace: to /login (GET), or the login page with the reason
            return auth.unauthorized_response(request, exc)
        return error_response(request, exc.status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = _("We could not find this page.") if exc.status_code == 404 else str(exc.detail)
        if exc.status_code != 405:
            return error_response(request, exc.status_code, message)
        allow = allowed_methods(request.url.path)
        response = error_response(request, 405, _("This address does not take %(method)s requests; it takes %(allow)s.")
                                  % {"method": request.method, "allow": allow})
        response.headers["allow"] = allow
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return error_response(request, 400, _("Part of this request is not valid (%(field)s). Please check the address.")
                              % {"field": field})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(request, 500, _("Something went wrong on our side. Please try again later."))

    for module in ROUTERS:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_middleware(LanguageMiddleware, store=store)  # inside the fast path: progress.json has no words
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
