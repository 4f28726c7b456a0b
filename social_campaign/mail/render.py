"""Rendering emails: subject, plain-text and HTML parts, and the headers, from Jinja2 templates, in the pledge's language.

Templates live in ``mail/templates/<kind>.subject.txt``, ``<kind>.txt`` and ``<kind>.html`` for the kinds in
:data:`KINDS`. Every string in them goes through the message catalogues (the ``jinja2.ext.i18n`` extension with the
same ``gettext`` functions as the pages), so an email is in the active language (``with i18n.use(lang, default):``);
the ``render_*`` functions set it from the pledge's language (:func:`in_language`: a language the campaign no longer
lists falls back to its default). Every email carries ``Content-Language``, a withdraw link (in both parts) and the
``List-Unsubscribe`` header with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), pointing at the same
withdraw URL. Before the release that URL withdraws the pledge; from the release on it stops every further email about
the campaign, and the emails sent then (:data:`AFTER_RELEASE`) say so. Links are absolute, built from
``settings.public_url`` by :func:`public_link`; in a campaign with several languages the links in the body carry
``?lang=<lang>``, so the pages open in the email's language. Times use the one time format (``i18n.formatting.when``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from social_campaign import i18n
from social_campaign.i18n import _, catalogs, formatting, ngettext

if TYPE_CHECKING:
    from social_campaign.campaign.model import Campaign
    from social_campaign.config import Settings

TEMPLATES = Path(__file__).parent / "templates"
KINDS = ("confirm", "duplicate", "release", "not_reached")
AFTER_RELEASE = ("release", "not_reached")  # sent from ``fire_at`` on
_ASCII_SPACES = re.compile(r"[ \t\r\n\f\v]+")  # a subject is one line; French no-break spaces stay
LINKS = ("confirm_url", "share_url")  # page links of the context that get ``?lang=`` (besides withdraw and me)


@dataclass(frozen=True)
class Rendered:
    """A rendered email, ready for :func:`social_campaign.mail.queue.enqueue`."""

    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the package: no stat() per email
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=catalogs.gettext, ngettext=catalogs.ngettext, pgettext=catalogs.pgettext,
        npgettext=catalogs.npgettext, newstyle=True,
    )
    env.filters["number"] = formatting.number
    return env


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


def link_language(campaign: Campaign, lang: str) -> str | None:
    """The ``?lang=`` the email's page links carry: only a campaign with several languages needs one."""
    return lang if len(campaign.languages) > 1 else None


def email_language(campaign: Campaign, lang: str | None) -> str:
    """The language of a pledge's email: ``lang`` (the pledge's, ``PledgeData.lang``; ``None``: the active language)
    when the campaign lists it, else the campaign's default (an unknown or no longer listed language)."""
    return campaign.language_for(i18n.current() if lang is None else lang)


@contextmanager
def in_language(campaign: Campaign, lang: str | None) -> Iterator[str]:
    """Translate into :func:`email_language` inside the block (which gets it)."""
    chosen = email_language(campaign, lang)
    with i18n.use(chosen, campaign.default_language):
        yield chosen


def _with_lang(url: str, lang: str | None) -> str:
    if not lang or not url:
        return url
    return f"{url}{'&' if '?' in url else '?'}lang={lang}"


def render(kind: str, *, campaign_name: str, withdraw_url: str, me_url: str | None = None, link_lang: str | None = None,
           **context: Any) -> Rendered:
    """Render ``kind`` (one of :data:`KINDS`) with ``context`` in the active language; a missing variable is an error,
    not an empty string. ``me_url`` (the supporter's own page, linked from every email) defaults to :func:`me_link` of
    ``withdraw_url``; with ``link_lang`` the page links in the body carry ``?lang=<link_lang>``."""
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}; known: {', '.join(KINDS)}")
    env = _env()
    lang = i18n.current()
    after_release = kind in AFTER_RELEASE  # the same link then stops the emails and leaves the pledge as it is
    me_url = me_link(withdraw_url) if me_url is None else me_url
    for key in LINKS:
        if isinstance(context.get(key), str):
            context[key] = _with_lang(context[key], link_lang)
    ctx = {"campaign_name": campaign_name, "withdraw_url": _with_lang(withdraw_url, link_lang),
           "me_url": _with_lang(me_url, link_lang), "after_release": after_release, "lang": lang,
           "dir": i18n.direction(lang), **context}
    subject = _ASCII_SPACES.sub(" ", env.get_template(f"{kind}.subject.txt").render(ctx)).strip()
    ctx["subject"] = subject
    text = env.get_template(f"{kind}.txt").render(ctx)
    html = env.get_template(f"{kind}.html").render(ctx)
    headers = {"Content-Language": lang, **unsubscribe_headers(withdraw_url)}
    return Rendered(subject=subject, text=text, html=html, headers=headers)


def what_when(campaign: Campaign, lang: str | None = None) -> str:
    """The promise the consent box and the confirmation email make: what we send, and when, in ``lang`` (default: the
    active language), with the one time format."""
    if lang is not None:
        with i18n.use(campaign.language_for(lang), campaign.default_language):
            return what_when(campaign)
    spec = campaign.pledge
    if spec is None:
        return _("one email when the campaign releases; nothing else.")
    tz = campaign.timezone
    return ngettext(
        "if %(num)s supporter confirms by %(deadline)s, one email at %(fire_at)s with your share links; otherwise "
        "one short note that the goal was not reached. Nothing else.",
        "if %(num)s supporters confirm by %(deadline)s, one email at %(fire_at)s with your share links; otherwise "
        "one short note that the goal was not reached. Nothing else.",
        spec.goal,
    ) % {"num": formatting.number(spec.goal), "deadline": formatting.when(spec.deadline, tz),
         "fire_at": formatting.when(spec.fire_at, tz)}


def render_confirm(
    settings: Settings, campaign: Campaign, pledge_name: str, confirm_url: str, withdraw_url: str,
    me_url: str | None = None, *, lang: str | None = None,
) -> Rendered:
    """The double opt-in email in the pledge's language ``lang``: confirm link, withdraw link, what we will send and
    when."""
    with in_language(campaign, lang) as chosen:
        return render(
            "confirm", campaign_name=campaign.name_in(chosen), withdraw_url=withdraw_url, me_url=me_url,
            link_lang=link_language(campaign, chosen), name=pledge_name, confirm_url=confirm_url,
            what_when=what_when(campaign),
        )


def render_duplicate(
    settings: Settings, campaign: Campaign, pledge_name: str, confirm_url: str | None, withdraw_url: str,
    *, lang: str | None = None,
) -> Rendered:
    """A repeat pledge for a known address: re-sends the confirm link (``None`` when already confirmed)."""
    with in_language(campaign, lang) as chosen:
        return render(
            "duplicate", campaign_name=campaign.name_in(chosen), withdraw_url=withdraw_url,
            link_lang=link_language(campaign, chosen), name=pledge_name, confirm_url=confirm_url,
            what_when=what_when(campaign),
        )


def render_release(
    settings: Settings, campaign: Campaign, *, name: str, share_url: str, share_text: str, confirmed: int,
    withdraw_url: str, lang: str | None = None, me_url: str | None = None,
) -> Rendered:
    """The "it's time" email with the supporter's share page, in the pledge's language ``lang``."""
    goal = campaign.pledge.goal if campaign.pledge else 0
    with in_language(campaign, lang) as chosen:
        return render(
            "release", campaign_name=campaign.name_in(chosen), withdraw_url=withdraw_url, me_url=me_url,
            link_lang=link_language(campaign, chosen), name=name, share_url=share_url, share_text=share_text,
            confirmed=confirmed, goal=goal,
        )


def render_not_reached(
    settings: Settings, campaign: Campaign, *, name: str, confirmed: int, withdraw_url: str, lang: str | None = None,
    me_url: str | None = None,
) -> Rendered:
    """The short "goal not reached; nothing was posted" email, in the pledge's language ``lang``."""
    goal = campaign.pledge.goal if campaign.pledge else 0
    with in_language(campaign, lang) as chosen:
        return render(
            "not_reached", campaign_name=campaign.name_in(chosen), withdraw_url=withdraw_url, me_url=me_url,
            link_lang=link_language(campaign, chosen), name=name, confirmed=confirmed, goal=goal,
        )
