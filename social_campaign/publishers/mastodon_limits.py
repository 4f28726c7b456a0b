"""Mastodon helpers: the server's limits (``GET /api/v2/instance``) and status HTML turned back into plain text.

:func:`instance_limits` reads ``configuration.statuses`` and ``configuration.media_attachments`` once per process and
server; ``check``/``plan`` use it to judge a message against the organisation's real server. When the server cannot
be read the limits fall back to ``settings.mastodon_max_chars`` and Mastodon's defaults (nothing is cached then).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from social_campaign.config import Settings


@dataclass(frozen=True)
class Limits:
    max_characters: int = 500
    characters_reserved_per_url: int = 23
    max_media_attachments: int = 4
    description_limit: int = 1500
    from_server: bool = False


_cache: dict[str, Limits] = {}
_cache_lock = threading.Lock()


def cached_limits(api_url: str) -> Limits | None:
    with _cache_lock:
        return _cache.get(api_url.rstrip("/"))


def remember_limits(api_url: str, limits: Limits) -> None:
    with _cache_lock:
        _cache[api_url.rstrip("/")] = limits


def forget_limits() -> None:
    """Empty the per-process cache (tests, or after the organisation moves server)."""
    with _cache_lock:
        _cache.clear()


def limits_from_instance(body: Any, fallback: Limits) -> Limits:
    """The limits in an ``/api/v2/instance`` answer; fields the server leaves out keep ``fallback``'s values."""
    conf = _get(body, "configuration") or {}
    statuses = _get(conf, "statuses") or {}
    media = _get(conf, "media_attachments") or {}

    def num(src: Any, key: str, default: int) -> int:
        value = _get(src, key)
        return int(value) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default

    return Limits(
        max_characters=num(statuses, "max_characters", fallback.max_characters),
        characters_reserved_per_url=num(statuses, "characters_reserved_per_url", fallback.characters_reserved_per_url),
        max_media_attachments=num(statuses, "max_media_attachments", fallback.max_media_attachments),
        description_limit=num(media, "description_limit", fallback.description_limit),
        from_server=True,
    )


def default_limits(settings: Settings) -> Limits:
    return Limits(max_characters=settings.mastodon_max_chars)


def instance_limits(settings: Settings) -> Limits:
    """The configured server's limits, read once per process (fallback: settings and Mastodon's defaults)."""
    from social_campaign.errors import PublishError
    from social_campaign.publishers.mastodon import MastodonPublisher

    if not settings.mastodon_configured or settings.mastodon_api_url is None:
        return default_limits(settings)
    if (hit := cached_limits(settings.mastodon_api_url)) is not None:
        return hit
    try:
        with MastodonPublisher(settings=settings) as publisher:
            return publisher.limits()
    except PublishError:
        return default_limits(settings)


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


class _Text(HTMLParser):
    """Status HTML as the author typed it: paragraphs and ``<br>`` become line breaks, links their address."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._link_depth = 0  # inside a plain link: its text is replaced by the href

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")
        elif tag == "a" and self._link_depth == 0:
            classes = (a.get("class") or "").split()
            if "mention" not in classes and "hashtag" not in classes and a.get("href"):
                self.parts.append(a["href"] or "")
                self._link_depth = 1
        elif tag == "a":
            self._link_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link_depth:
            self._link_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._link_depth:
            self.parts.append(data)


def html_to_text(content: str) -> str:
    parser = _Text()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts)
