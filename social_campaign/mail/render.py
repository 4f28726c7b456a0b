"""Rendering emails: subject, plain-text and HTML parts, and the unsubscribe headers, from Jinja2 templates.

Templates live in ``mail/templates/<kind>.subject.txt``, ``<kind>.txt`` and ``<kind>.html`` for the kinds in
:data:`KINDS`. Every email carries a withdraw link (in both parts) and the ``List-Unsubscribe`` header with
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), pointing at the same withdraw URL. Before the release
that URL withdraws the pledge; from the release on it stops every further email about the campaign, and the emails
sent then (:data:`AFTER_RELEASE`) say so.
Links are absolute, built from ``settings.public_url`` by :func:`public_link`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

if TYPE_CHECKING:
    from social_campaign.campaign.model import Campaign
    from social_campaign.config import Settings

TEMPLATES = Path(__file__).parent / "templates"
KINDS = ("confirm", "duplicate", "release", "not_reached")
AFTER_RELEASE = ("release", "not_reached")  # sent from ``fire_at`` on


@dataclass(frozen=True)
class Rendered:
    """A rendered email, ready for :func:`social_campaign.mail.queue.enqueue`."""

    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


@cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the package: no stat() per email
    )


def public_link(settings: Settings, path: str) -> str:
    """An absolute link under ``settings.public_url`` (``path`` starts with ``/``)."""
    return settings.public_url + path


def unsubscribe_headers(withdraw_url: str) -> dict[str, str]:
    """``List-Unsubscribe`` (+ one-click POST, RFC 8058) pointing at the pledge's withdraw link."""
    return {"List-Unsubscribe": f"<{withdraw_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def me_link(withdraw_url: str) -> str:
    """The supporter's own page (``/c/{slug}/me/{token}``: their data, withdraw, erase) for a withdraw link: the same
    token. A URL without ``/withdraw/`` (a placeholder) comes back unchanged."""
    head, sep, token = withdraw_url.rpartition("/withdraw/")
    return f"{head}/me/{token}" if sep else withdraw_url


def render(kind: str, *, campaign_name: str, withdraw_url: str, me_url: str | None = None, **context: Any) -> Rendered:
    """Render ``kind`` (one of :data:`KINDS`) with ``context``; a missing variable is an error, not an empty string.
    ``me_url`` (the supporter's own page, linked from every email) defaults to :func:`me_link` of ``withdraw_url``."""
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}; known: {', '.join(KINDS)}")
    env = _env()
    after_release = kind in AFTER_RELEASE  # the same link then stops the emails and leaves the pledge as it is
    me_url = me_link(withdraw_url) if me_url is None else me_url
    ctx = {"campaign_name": campaign_name, "withdraw_url": withdraw_url, "me_url": me_url, "after_release": after_release,
           **context}
    subject = " ".join(env.get_template(f"{kind}.subject.txt").render(ctx).split())
    ctx["subject"] = subject
    text = env.get_template(f"{kind}.txt").render(ctx)
    html = env.get_template(f"{kind}.html").render(ctx)
    return Rendered(subject=subject, text=text, html=html, headers=unsubscribe_headers(withdraw_url))


def what_when(campaign: Campaign) -> str:
    """The promise the consent box and the confirmation email make: what we send, and when."""
    spec = campaign.pledge
    if spec is None:
        return "one email when the campaign releases; nothing else."
    tz = campaign.timezone
    deadline = spec.deadline.astimezone(tz).strftime("%d %B %Y %H:%M %Z")
    fire = spec.fire_at.astimezone(tz).strftime("%d %B %Y %H:%M %Z")
    return (
        f"if {spec.goal} supporters confirm by {deadline}, one email at {fire} with your share links; "
        "otherwise one short note that the goal was not reached. Nothing else."
    )


def render_confirm(
    settings: Settings, campaign: Campaign, pledge_name: str, confirm_url: str, withdraw_url: str,
    me_url: str | None = None,
) -> Rendered:
    """The double opt-in email: confirm link, withdraw link, what we will send and when."""
    return render(
        "confirm", campaign_name=campaign.name, withdraw_url=withdraw_url, me_url=me_url, name=pledge_name,
        confirm_url=confirm_url, what_when=what_when(campaign),
    )


def render_duplicate(
    settings: Settings, campaign: Campaign, pledge_name: str, confirm_url: str | None, withdraw_url: str
) -> Rendered:
    """A repeat pledge for a known address: re-sends the confirm link (``None`` when already confirmed)."""
    return render(
        "duplicate", campaign_name=campaign.name, withdraw_url=withdraw_url, name=pledge_name,
        confirm_url=confirm_url, what_when=what_when(campaign),
    )


def render_release(
    settings: Settings, campaign: Campaign, *, name: str, share_url: str, share_text: str, confirmed: int,
    withdraw_url: str,
) -> Rendered:
    """The "it's time" email with the supporter's share page."""
    goal = campaign.pledge.goal if campaign.pledge else 0
    return render(
        "release", campaign_name=campaign.name, withdraw_url=withdraw_url, name=name, share_url=share_url,
        share_text=share_text, confirmed=confirmed, goal=goal,
    )


def render_not_reached(settings: Settings, campaign: Campaign, *, name: str, confirmed: int, withdraw_url: str) -> Rendered:
    """The short "goal not reached; nothing was posted" email."""
    goal = campaign.pledge.goal if campaign.pledge else 0
    return render(
        "not_reached", campaign_name=campaign.name, withdraw_url=withdraw_url, name=name, confirmed=confirmed, goal=goal
    )
