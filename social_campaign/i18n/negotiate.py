"""Choosing a page's language: ``?lang=``, then the switcher's cookie, then ``Accept-Language``, then the default.

Only the campaign's own languages are ever chosen; anything else (an unknown or malformed value, a language the
campaign does not list) falls through to the next source, and finally to the campaign's first language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

COOKIE = "lang"  # set by the language switcher's links (``?lang=fr``), read on later visits
_TAG = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$")
MAX_HEADER = 1000  # longer Accept-Language headers are read only this far


def match(value: str | None, languages: Sequence[str]) -> str | None:
    """The campaign language ``value`` names (exactly, or by its primary subtag: ``fr-CA`` -> ``fr``), else ``None``."""
    if not value or len(value) > 35 or not _TAG.match(value.strip()):
        return None
    tag = value.strip().replace("_", "-").lower()
    lowered = {lang.lower(): lang for lang in languages}
    if tag in lowered:
        return lowered[tag]
    primary = tag.split("-")[0]
    if primary in lowered:
        return lowered[primary]
    for lang in languages:  # a campaign listing "pt-BR" answers a plain "pt"
        if lang.lower().split("-")[0] == primary:
            return lang
    return None


def accept_language(header: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header, best first (``q=0`` dropped, malformed parts skipped)."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header[:MAX_HEADER].split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or not _TAG.match(tag):
            continue
        quality = 1.0
        params = params.strip()
        if params:
            name, _, value = params.partition("=")
            if name.strip().lower() != "q":
                continue
            try:
                quality = float(value)
            except ValueError:
                continue
            if not 0 < quality <= 1:
                continue
        ranked.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(ranked)]


def choose(languages: Sequence[str], *, query: str | None = None, cookie: str | None = None,
           accept: str | None = None) -> str:
    """The page language among ``languages`` (the first is the default)."""
    for candidate in (query, cookie):
        found = match(candidate, languages)
        if found:
            return found
    for tag in accept_language(accept):
        found = match(tag, languages)
        if found:
            return found
    return languages[0] if languages else "en"
