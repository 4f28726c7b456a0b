"""Request-scoped helpers for the routes: the app's services, the client IP, templates and time."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.pledges.counter import ProgressCache
from social_campaign.pledges.writer import PledgeWriter
from social_campaign.web.server import TrustedProxies, forwarded_client
from social_campaign.web.store import CampaignStore

TEMPLATES = Path(__file__).parent / "templates"


def _templates() -> Jinja2Templates:
    """Jinja2 with the i18n extension: ``{% trans %}``, ``_()``, ``ngettext()`` translate into the request's language
    (set by ``web.lang.LanguageMiddleware``); ``page_lang()``/``page_dir()`` fill ``<html lang dir>``; the filters
    ``number``, ``percent`` and ``when`` (a datetime and a zone) format with Babel."""
    from social_campaign.i18n import catalogs, formatting

    found = Jinja2Templates(directory=str(TEMPLATES))
    env = found.env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=catalogs.gettext, ngettext=catalogs.ngettext, pgettext=catalogs.pgettext,
        npgettext=catalogs.npgettext, newstyle=True,
    )
    env.globals["page_lang"] = catalogs.current
    env.globals["page_dir"] = catalogs.direction
    env.filters["number"] = formatting.number
    env.filters["percent"] = formatting.percent
    env.filters["when"] = formatting.when
    env.filters["day"] = formatting.day
    return found


templates = _templates()


@dataclass
class Services:
    """What ``create_app`` builds once and every request uses (``request.app.state.services``)."""

    settings: Settings
    engine: Engine
    store: CampaignStore
    progress: ProgressCache
    write_lock: AbstractContextManager[Any] = field(default_factory=nullcontext)
    pledge_writer: PledgeWriter | None = None  # group commit of pledges (set by create_app)
    pages: dict[tuple[str, str, str], bytes] = field(default_factory=dict)  # constant pages, rendered once


HEAD_SCOPE_KEY = "social_campaign.head"  # set by web.middleware.HeadAsGet on a HEAD routed as GET


def is_head(request: Request) -> bool:
    """Whether this GET is really a HEAD: routes that count visits (share taps) answer it without counting."""
    return bool(request.scope.get(HEAD_SCOPE_KEY))


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def campaign(request: Request, slug: str) -> Campaign:
    """The campaign for ``slug``, or :class:`NotFound` (404)."""
    return services(request).store.get(slug)


def now() -> datetime:
    return datetime.now(UTC)


def client_ip(request: Request, settings: Settings) -> str:
    """The socket peer or, only with ``trust_forwarded_for`` and a peer among ``forwarded_allow_ips``, the client that
    proxy saw (see ``web.server.forwarded_client``): the same answer uvicorn's proxy headers give with
    ``web.server.uvicorn_options``, so it does not matter which of the two looked first."""
    peer = request.client.host if request.client else "unknown"
    trusted = settings.trusted_proxies
    if not trusted:
        return peer
    forwarded = ", ".join(request.headers.getlist("x-forwarded-for"))
    return forwarded_client(peer, forwarded, _proxies(trusted))


@lru_cache(maxsize=8)
def _proxies(spec: str) -> TrustedProxies:
    return TrustedProxies(spec)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Any:
    return templates.TemplateResponse(request, name, context, status_code=status_code)
