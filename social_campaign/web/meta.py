"""Link previews and the page's language-aware campaign words, for every page that extends ``base.html``.

:func:`install` registers Jinja globals once (``web/app.py``): ``link_preview()`` reads the rendering context's
``request`` and ``campaign`` and gives the :class:`Preview` that ``base.html`` turns into ``og:``/``twitter:`` tags, a
meta description and a canonical link (all absolute under ``settings.public_url``); ``campaign_name(c)`` and
``campaign_story(c)`` give the campaign's name and story in the page language (``Campaign.name_in``/``description_in``,
which fall back to the default language's); ``hero_card(c)`` the card shown on the campaign
page and used as ``og:image``.

Pages reached through a personal link (a secret token in the URL: confirm, withdraw, share, the supporter's page and
the share redirect) say ``noindex`` and point ``og:url`` and the canonical link at the campaign page, never at
themselves: a shared or crawled copy must not carry the token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from social_campaign.campaign.model import Campaign
from social_campaign.errors import SocialCampaignError
from social_campaign.i18n import SHIPPED, _, current

CARD_TARGET, CARD_SIZE = "facebook", (1200, 630)  # og:image: the 1.91:1 card every network previews
PRIVATE = re.compile(r"^/c/[^/]+/(?:confirm|withdraw|share|me|go|mastodon)/")
OG_LOCALES = {"en": "en_US", "fr": "fr_FR", "es": "es_ES", "ar": "ar_AR", "pt": "pt_BR", "de": "de_DE"}
DESCRIPTION_MAX = 200


@dataclass(frozen=True)
class Card:
    """The hero card: a card spec's name (the ``/cards/{name}/`` path part), alt text and the 1200x630 image path."""

    name: str
    alt: str
    background: str = "#0a6ebd"  # the spec's colours, for the favicon
    accent: str = "#ffd23f"

    def path(self, slug: str) -> str:
        return f"/c/{slug}/cards/{self.name}/{CARD_TARGET}.png"


@dataclass(frozen=True)
class Preview:
    title: str
    description: str
    url: str  # og:url and the canonical link
    image: str | None
    image_alt: str
    locale: str
    alternates: tuple[str, ...]
    noindex: bool
    site: str
    home: str  # the header's link: the campaign page, or the first campaign served
    footer: str | None  # settings.footer_url, else the campaign's link
    footer_is_site: bool  # the footer link is the organisation's (settings), not the campaign's
    campaign_url: str = ""  # the campaign page's absolute URL ("" outside a campaign)


def name_of(campaign: Campaign, lang: str | None = None) -> str:
    return campaign.name_in(lang or current())


def story_of(campaign: Campaign, lang: str | None = None) -> str:
    return campaign.description_in(lang or current())


def og_locale(lang: str) -> str:
    primary = lang.replace("_", "-").split("-")[0].lower()
    if "-" in lang:
        return lang.replace("-", "_")
    return OG_LOCALES.get(primary, primary)


@lru_cache(maxsize=64)
def _hero(root: Path, content_hash: str, lang: str, languages: tuple[str, ...]) -> Card | None:
    from social_campaign.campaign.languages import card_spec_for, spec_translation_of
    from social_campaign.graphics.specs import load_spec

    for path in sorted((root / "infographics").glob("*.toml")):
        if spec_translation_of(path, languages) is not None:  # show-support.fr.toml: the French show-support.toml
            continue
        for candidate in dict.fromkeys((card_spec_for(path, lang), path)):
            try:
                spec = load_spec(candidate)
            except SocialCampaignError:
                continue
            return Card(name=candidate.stem, alt=spec.alt_text, background=_hex(spec.background), accent=_hex(spec.accent))
    return None


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def hero_card(campaign: Campaign, lang: str | None = None) -> Card | None:
    """The first card spec of the campaign, in ``lang`` when a translated spec exists; ``None`` without cards."""
    return _hero(campaign.root, campaign.content_hash, lang or current(), (*campaign.languages, *SHIPPED))


def _shorten(text: str, limit: int = DESCRIPTION_MAX) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def preview(request: Any, campaign: Campaign | None, title: str | None = None) -> Preview:
    """The link preview of the page ``request`` asked for (``campaign`` is the page's campaign, if any)."""
    settings = request.app.state.services.settings
    base = settings.public_url
    path = request.url.path
    lang = current()
    private = bool(PRIVATE.match(path))
    footer = settings.footer_url or (campaign.link if campaign else None)
    if campaign is None:
        served = request.app.state.services.store.all()
        return Preview(
            title=title or "social-campaign", description=_("Campaign tools for child-rights non-profits."),
            url=base + path, image=None, image_alt="", locale=og_locale(lang), alternates=(), noindex=private,
            site="social-campaign", home=f"/c/{served[0].slug}" if served else "/", footer=footer,
            footer_is_site=bool(settings.footer_url),
        )
    home = f"{base}/c/{campaign.slug}"
    own = request.method in ("GET", "HEAD") and not private
    card = hero_card(campaign, lang)
    story = story_of(campaign, lang) or (campaign.pledge.variants[0] if campaign.pledge and campaign.pledge.variants else "")
    return Preview(
        title=name_of(campaign, lang),
        description=_shorten(story) or name_of(campaign, lang),
        url=base + path if own else home,
        image=base + card.path(campaign.slug) if card else None,
        image_alt=card.alt if card else "",
        locale=og_locale(lang),
        alternates=tuple(og_locale(code) for code in campaign.languages if code != lang),
        noindex=private,
        site=campaign.organisation or name_of(campaign, campaign.languages[0] if campaign.languages else "en"),
        home=f"/c/{campaign.slug}", footer=footer, footer_is_site=bool(settings.footer_url), campaign_url=home,
    )


def lede(story: str, limit: int = 240) -> str:
    """The story's opening sentences up to about ``limit`` characters (at least one), for a phone's first screen."""
    sentences = re.split(r"(?<=[.!?\u061f\u06d4])\s+", " ".join(story.split()))
    taken = sentences[0]
    for sentence in sentences[1:]:
        if len(taken) + len(sentence) + 1 > limit:
            return taken + " …"
        taken += " " + sentence
    return taken


@pass_context
def _link_preview(context: Context) -> Preview:
    return preview(context.get("request"), context.get("campaign"))


def install(env: Environment) -> None:
    """Register the globals ``base.html`` and the campaign page use (once per environment)."""
    from social_campaign.web.lang import language_links, plural_json

    env.globals["link_preview"] = _link_preview
    env.globals["language_links"] = language_links
    env.globals["plural_json"] = plural_json
    env.globals["campaign_name"] = name_of
    env.globals["campaign_story"] = story_of
    env.filters["lede"] = lede
    env.globals["hero_card"] = hero_card
    env.globals["card_size"] = CARD_SIZE
