"""Share links for supporters: the one-tap targets, the counting redirect's bookkeeping, and the funnel numbers.

Supporters post from their own accounts (``PLATFORMS.md`` §6): the X web intent and the Bluesky compose intent carry
the supporter's text (texts rotate over the message variants by ``Pledge.variant``); Facebook's share dialog takes only
the link, because Meta forbids prefilled text; Mastodon shares go to ``https://<server>/share?text=…`` on a server
the share page links to (:data:`MASTODON_SERVERS`) or the supporter typed into its form (a POST, checked by
``web.csrf``); a crafted link naming any other server only opens a page asking to confirm the name, so the redirect can
never send someone off-site unasked (the one more server a GET may go straight to is the supporter's own remembered
one, :data:`MASTODON_COOKIE`, which only their own POST or server link sets). Server names are validated by
:func:`mastodon_server`. Every outbound link goes through ``/c/{slug}/go/{token}/{channel}``, which records a
:class:`ShareClick` and redirects. Facebook always shares our campaign page (:func:`campaign_link`), through the
documented Share dialog when ``SOCIAL_CAMPAIGN_FACEBOOK_APP_ID`` is set.

Texts are in the pledge's language (:func:`pledge_lang`, from ``PledgeData.lang``): the campaign's variants for that
language (``PledgeSpec.variants_for``), else the default language's.
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
from social_campaign.i18n import N_, _
from social_campaign.models import (
    EmailMessage,
    EmailState,
    Pledge,
    PledgeData,
    PledgeStatus,
    ShareClick,
)

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
#: The cookie remembering the supporter's Mastodon server (Path=/c/{slug}/, HttpOnly, SameSite=Lax, one year).
MASTODON_COOKIE = "mastodon_server"
MASTODON_COOKIE_MAX_AGE = 365 * 24 * 3600
_UNKNOWN = N_("This share link is unknown or has expired.")


def find_pledge(session: Session, slug: str, token: str) -> Pledge:
    """The confirmed pledge holding share ``token`` for campaign ``slug``; :class:`NotFound` (one line) otherwise."""
    if not _TOKEN.match(token):
        raise NotFound(_(_UNKNOWN))
    pledge = session.exec(select(Pledge).where(Pledge.share_token == token, Pledge.campaign == slug)).first()
    if pledge is None or pledge.status != PledgeStatus.confirmed:
        raise NotFound(_(_UNKNOWN))
    return pledge


def pledge_lang(session: Session, campaign: Campaign, pledge: Pledge) -> str:
    """The language ``pledge`` was made in (``PledgeData.lang``) when the campaign lists it, else its default."""
    languages = campaign.languages or ("en",)
    data = session.get(PledgeData, pledge.id) if pledge.id is not None else None
    lang = data.lang if data is not None else None
    return lang if lang in languages else languages[0]


def share_text(campaign: Campaign, pledge: Pledge, lang: str | None = None) -> str:
    """The supporter's words: their variant of the pledge message, in ``lang`` (the pledge's language, see
    :func:`pledge_lang`) when the campaign has variants in it, else in the default language."""
    spec = campaign.pledge
    if spec is None:
        raise NotFound(_("This campaign takes no pledges."))
    index = pledge.variant if pledge.variant is not None else (pledge.id or 0)
    return spec.share_text(lang, None, index)


def campaign_link(settings: Settings, campaign: Campaign) -> str:
    """Our campaign page, the one page every share of the campaign points at (it carries the link previews)."""
    return f"{settings.public_url.rstrip('/')}/c/{campaign.slug}"


def facebook_url(settings: Settings, campaign: Campaign) -> str:
    """Facebook's share of our campaign page: the documented Share dialog with ``facebook_app_id``, else the sharer."""
    page = quote(campaign_link(settings, campaign), safe="")
    if settings.facebook_app_id:
        return f"https://www.facebook.com/dialog/share?app_id={quote(settings.facebook_app_id, safe='')}&display=page&href={page}"
    return f"https://www.facebook.com/sharer/sharer.php?u={page}"


def mastodon_server(raw: str | None) -> str:
    """A public Mastodon server's host name from what a supporter typed (``mastodon.social``, ``@me@mas.to``, a URL
    ``https://mas.to/@me``). Refused (:class:`BadRequest`): IP literals, single labels, private or reserved top-level
    names, ports, and anything that is not a plain host name once the handle or URL around it is taken off."""
    value = (raw or "").strip().lower()
    if "://" in value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or parts.username is not None or parts.port is not None:
            raise _bad_server()
        value = parts.hostname or ""
    elif value.count("@") > 2 or (value.count("@") == 2 and not value.startswith("@")):
        raise _bad_server()
    value = value.rsplit("@", 1)[-1].strip().rstrip("/").rstrip(".")
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        value = ""
    labels = value.split(".")
    if (len(value) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels)
            or labels[-1].isdigit() or labels[-1] in _PRIVATE_TLDS):
        raise _bad_server()
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return value
    raise _bad_server()


def _bad_server() -> BadRequest:
    return BadRequest(_("Please give your Mastodon server's name, for example mastodon.social."), field="server")


def remembered_server(raw: str | None) -> str | None:
    """The server in the :data:`MASTODON_COOKIE` cookie, when it is still a valid public server name."""
    try:
        return mastodon_server(raw) if raw else None
    except BadRequest:
        return None


def linked_server(raw: str | None, remembered: str | None = None) -> str | None:
    """The server named by ``raw`` when the share page links to it: one of :data:`MASTODON_SERVERS`, or the
    supporter's own ``remembered`` server (from their cookie); else ``None``."""
    try:
        server = mastodon_server(raw)
    except BadRequest:
        return None
    return server if server in MASTODON_SERVERS or (remembered and server == remembered) else None


def target_url(settings: Settings, campaign: Campaign, pledge: Pledge, channel: str, server: str | None = None,
               lang: str | None = None) -> str:
    """Where ``/c/{slug}/go/{token}/{channel}`` sends the supporter (texts in ``lang``, the pledge's language)."""
    if channel == "facebook":
        return facebook_url(settings, campaign)
    if channel in DOWNLOADS:
        return f"/c/{campaign.slug}/{channel}"
    if channel not in NETWORKS:
        raise NotFound(_("This share link is unknown."))
    text = quote(share_text(campaign, pledge, lang), safe="")
    if channel == "x":
        return f"https://x.com/intent/tweet?text={text}"
    if channel == "bluesky":
        return f"https://bsky.app/intent/compose?text={text}"
    return f"https://{mastodon_server(server)}/share?text={text}"


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
