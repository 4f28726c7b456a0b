"""Lengths and previews of a post's text per network, for the editor's live counters (``POST …/preview.json``).

The numbers are ``check``'s (``social_campaign/text.py``): X's weighted length (twitter-text v3: URLs 23, wide
characters 2, emoji sequences 2) against 280; Facebook's characters against 63,206. Networks the campaign cannot post
to yet are measured by their own published rules so a manager can plan: Mastodon counts characters with every URL as
23, against 500; Bluesky counts graphemes (what a reader sees as one character) against 300. The outbox has no limit.

:func:`measure` fills the message placeholders (``{link}``, ``{hashtags}``) as the loader does, then gives the length,
the limit, whether it is over, and the text as HTML with links, hashtags and mentions marked (escaped: the text is the
manager's, shown back in the page).
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass
from typing import Any

from social_campaign import text as text_rules
from social_campaign.campaign import messages
from social_campaign.campaign.model import Campaign
from social_campaign.i18n import _
from social_campaign.i18n.formatting import number
from social_campaign.text import FACEBOOK_MAX, X_MAX, facebook_length, find_urls, x_weighted_length

__all__ = [
    "LIMITS", "Measure", "bluesky_length", "length", "length_label", "mark_up", "mastodon_length", "measure",
    "network_name", "render_text",
]

MASTODON_MAX = 500
BLUESKY_MAX = 300
URL_LENGTH = 23
#: network -> its limit (None: no limit).
LIMITS: dict[str, int | None] = {
    "x": X_MAX, "facebook": FACEBOOK_MAX, "mastodon": MASTODON_MAX, "bluesky": BLUESKY_MAX, "outbox": None,
}
_TAGS = re.compile(r"(?<![\w&])([#@][\w]+(?:@[\w.-]+\w)?)", re.UNICODE)
_JOINERS = {0x200D, 0xFE0E, 0xFE0F}


@dataclass(frozen=True)
class Measure:
    """One network's answer: ``over`` is true when ``length`` is above ``limit``."""

    channel: str
    length: int
    limit: int | None
    over: bool
    html: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def render_text(campaign: Campaign, template: str) -> str:
    """The text as posted: placeholders filled as the loader fills them (unknown ones are left as written)."""
    values: dict[str, str | None] = {"link": campaign.link, "hashtags": " ".join(campaign.hashtags)}
    text, _problems = messages.render(template.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n"), values)
    return text


def mastodon_length(text: str) -> int:
    """Mastodon's count, as ``check`` counts it (``text.mastodon_length``: graphemes, every URL as 23)."""
    return text_rules.mastodon_length(text)


def bluesky_length(text: str) -> int:
    """Bluesky's count, as ``check`` counts it (``text.bluesky_length``: graphemes, URLs in full)."""
    return text_rules.bluesky_length(text)


def length(channel: str, text: str) -> int:
    """``text``'s length as ``channel`` counts it (code points for the outbox)."""
    if channel == "x":
        return x_weighted_length(text)
    if channel == "facebook":
        return facebook_length(text)
    if channel == "mastodon":
        return mastodon_length(text)
    if channel == "bluesky":
        return bluesky_length(text)
    return len(text)


def mark_up(text: str) -> str:
    """``text`` as escaped HTML, URLs in ``<span class="link">``, hashtags and mentions in ``<span class="tag">``."""
    out: list[str] = []
    pos = 0
    for url in find_urls(text):
        at = text.find(url, pos)
        if at < 0:
            continue
        out.append(_tags(text[pos:at]))
        out.append(f'<span class="link">{html.escape(url)}</span>')
        pos = at + len(url)
    out.append(_tags(text[pos:]))
    return "".join(out)


def _tags(chunk: str) -> str:
    parts: list[str] = []
    pos = 0
    for found in _TAGS.finditer(chunk):
        parts.append(html.escape(chunk[pos : found.start()]))
        parts.append(f'<span class="tag">{html.escape(found.group(1))}</span>')
        pos = found.end()
    parts.append(html.escape(chunk[pos:]))
    return "".join(parts)


def measure(campaign: Campaign, channel: str, template: str) -> Measure:
    """Length, limit and preview of message ``template`` (placeholders unfilled) on ``channel``."""
    text = render_text(campaign, template)
    limit = LIMITS.get(channel)
    count = length(channel, text)
    return Measure(channel, count, limit, limit is not None and count > limit, mark_up(text))


def network_name(channel: str) -> str:
    names = {"x": "X", "facebook": "Facebook", "mastodon": "Mastodon", "bluesky": "Bluesky", "outbox": _("Outbox")}
    return names.get(channel, channel)


def length_label(found: Measure) -> str:
    """``X: 120 of 280`` / ``X: 300 of 280, 20 over the limit`` in the active language."""
    name = network_name(found.channel)
    if found.limit is None:
        return _("%(network)s: %(length)s characters") % {"network": name, "length": number(found.length)}
    if found.over:
        return _("%(network)s: %(length)s of %(limit)s, %(over)s over the limit") % {
            "network": name, "length": number(found.length), "limit": number(found.limit),
            "over": number(found.length - found.limit)}
    return _("%(network)s: %(length)s of %(limit)s") % {
        "network": name, "length": number(found.length), "limit": number(found.limit)}
