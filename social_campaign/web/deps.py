"""Request-scoped helpers for the routes: the app's services, the client IP, templates and time."""

from __future__ import annotations

import ipaddress
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.pledges.counter import ProgressCache
from social_campaign.pledges.writer import PledgeWriter
from social_campaign.web.store import CampaignStore

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))


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


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def campaign(request: Request, slug: str) -> Campaign:
    """The campaign for ``slug``, or :class:`NotFound` (404)."""
    return services(request).store.get(slug)


def now() -> datetime:
    return datetime.now(UTC)


def client_ip(request: Request, settings: Settings) -> str:
    """The socket peer, or (only with ``trust_forwarded_for``) the right-most X-Forwarded-For entry: the one our own
    proxy appended. Entries to its left are whatever the client sent and are never trusted."""
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        last = forwarded.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(last))
        except ValueError:
            pass
    return request.client.host if request.client else "unknown"


def is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "testclient"


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Any:
    return templates.TemplateResponse(request, name, context, status_code=status_code)
