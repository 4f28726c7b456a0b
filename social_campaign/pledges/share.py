"""Share links for supporters: the one-tap targets, the counting redirect's bookkeeping, and the funnel numbers.

Supporters post from their own accounts (``PLATFORMS.md`` §6): the X web intent and the Bluesky compose intent carry
the supporter's text (texts rotate over the message variants by ``Pledge.variant``); Facebook's share dialog takes only
the link, because Meta forbids prefilled text; Mastodon shares go to ``https://<server>/share?text=…`` on a server
the share page links to (:data:`MASTODON_SERVERS`) or the supporter typed into its form (a POST, checked by
``web.csrf``); a crafted link naming any other server only opens a page asking to confirm the name, so the redirect can
never send someone off-site unasked. Server names are validated by :func:`mastodon_server`. Every outbound link goes
through ``/c/{slug}/go/{token}/{channel}``, which records a :class:`ShareClick` and redirects.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.errors import BadRequest, NotFound
from social_campaign.models import (
    EmailMessage,
    EmailState,
    Pledge,
    PledgeStatus,
    ShareClick,
)
from social_campaign.pledges.release import share_text_for

#: Channels the redirect knows, in the order the share page shows them.
NETWORKS = ("x", "bluesky", "facebook", "mastodon")
DOWNLOADS = ("badge", "cards")
CHANNELS = NETWORKS + DOWNLOADS
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
#: Well-known servers the share page links to: the redirect goes to these straight away.
MASTODON_SERVERS = ("mastodon.social", "mastodon.online", "mas.to", "fosstodon.org")
#: Top-level names that never belong to a public server (RFC 2606, RFC 6761, RFC 6762, RFC 8375, common LAN names).
_PRIVATE_TLDS = frozenset({"localhost", "local", "internal", "lan", "home", "arpa", "test", "invalid", "onion", "intranet", "corp"})


def find_pledge(session: Session, slug: str, token: str) -> Pledge:
    """The confirmed pledge holding share ``token`` for campaign ``slug``; :class:`NotFound` (one line) otherwise."""
    if not _TOKEN.match(token):
        raise NotFound("this share link is unknown or has expired")
    pledge = session.exec(select(Pledge).where(Pledge.share_token == token, Pledge.campaign == slug)).first()
    if pledge is None or pledge.status != PledgeStatus.confirmed:
        raise NotFound("this share link is unknown or has expired")
    return pledge


def share_text(campaign: Campaign, pledge: Pledge) -> str:
    """The supporter's words: their variant of the pledge message."""
    if campaign.pledge is None:
        raise NotFound(f"campaign {campaign.slug!r} takes no pledges")
    return share_text_for(campaign.pledge, pledge.variant, pledge.id or 0)


def campaign_link(settings: Settings, campaign: Campaign) -> str:
    """The link Facebook shares: the campaign's own link, else its public page."""
    return campaign.link or f"{settings.public_url}/c/{campaign.slug}"


def mastodon_server(raw: str | None) -> str:
    """A public Mastodon server's host name from what a supporter typed (``mastodon.social``, ``@me@mas.to``, a URL
    ``https://mas.to/@me``). Refused (:class:`BadRequest`): IP literals, single labels, private or reserved top-level
    names, ports, and anything that is not a plain host name once the handle or URL around it is taken off."""
    value = (raw or "").strip().lower()
    if "://" in value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or parts.username is not None or parts.port is not None:
            raise BadRequest(_BAD_SERVER)
        value = parts.hostname or ""
    elif value.count("@") > 2 or (value.count("@") == 2 and not value.startswith("@")):
        raise BadRequest(_BAD_SERVER)
    value = value.rsplit("@", 1)[-1].strip().rstrip("/").rstrip(".")
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        value = ""
    labels = value.split(".")
    if (len(value) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels)
            or labels[-1].isdigit() or labels[-1] in _PRIVATE_TLDS):
        raise BadRequest(_BAD_SERVER)
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return value
    raise BadRequest(_BAD_SERVER)


_BAD_SERVER = "server: give your Mastodon server's name, for example mastodon.social"


def linked_server(raw: str | None) -> str | None:
    """The server named by ``raw`` when it is one the share page links to (:data:`MASTODON_SERVERS`), else ``None``."""
    try:
        server = mastodon_server(raw)
    except BadRequest:
        return None
    return server if server in MASTODON_SERVERS else None


def target_url(settings: Settings, campaign: Campaign, pledge: Pledge, channel: str, server: str | None = None) -> str:
    """Where ``/c/{slug}/go/{token}/{channel}`` sends the supporter."""
    text = share_text(campaign, pledge)
    if channel == "x":
        return f"https://x.com/intent/tweet?text={quote(text, safe='')}"
    if channel == "bluesky":
        return f"https://bsky.app/intent/compose?text={quote(text, safe='')}"
    if channel == "facebook":
        return f"https://www.facebook.com/sharer/sharer.php?u={quote(campaign_link(settings, campaign), safe='')}"
    if channel == "mastodon":
        return f"https://{mastodon_server(server)}/share?text={quote(text, safe='')}"
    if channel in DOWNLOADS:
        return f"/c/{campaign.slug}/{channel}"
    raise NotFound(f"unknown share channel {channel!r}")


def record_click(session: Session, pledge: Pledge, channel: str, now: datetime) -> None:
    """Count one tap (the caller commits)."""
    session.add(ShareClick(campaign=pledge.campaign, pledge_id=pledge.id or 0, channel=channel, at=now))


def funnel(session: Session, campaign: str | Campaign) -> dict[str, Any]:
    """pledged → confirmed → notified → clicked (supporters per channel; ``clicks`` counts every tap)."""
    slug = campaign if isinstance(campaign, str) else campaign.slug
    by_status = dict(
        session.exec(select(Pledge.status, func.count()).where(Pledge.campaign == slug).group_by(Pledge.status)).all()
    )
    notified = session.exec(
        select(func.count()).select_from(EmailMessage).where(
            EmailMessage.campaign == slug, EmailMessage.kind.in_(("release", "not_reached")),  # type: ignore[attr-defined]
            EmailMessage.state == EmailState.sent,
        )
    ).one()
    clicked = dict(session.exec(
        select(ShareClick.channel, func.count(distinct(col(ShareClick.pledge_id)))).where(ShareClick.campaign == slug)
        .group_by(ShareClick.channel)
    ).all())
    clicks = dict(session.exec(
        select(ShareClick.channel, func.count()).where(ShareClick.campaign == slug).group_by(ShareClick.channel)
    ).all())
    return {
        "pledged": sum(int(n) for s, n in by_status.items() if s != PledgeStatus.fraud),
        "confirmed": int(by_status.get(PledgeStatus.confirmed, 0)),
        "withdrawn": int(by_status.get(PledgeStatus.withdrawn, 0)),
        "fraud": int(by_status.get(PledgeStatus.fraud, 0)),
        "notified": int(notified),
        "clicked": {c: int(n) for c, n in clicked.items()},
        "clicks": {c: int(n) for c, n in clicks.items()},
    }
