"""Per-network length rules: X's weighted length (twitter-text v3), Facebook's character count, and URL finding.

X counts text as twitter-text v3 does (``config/v3.json``): the text is NFC-normalised; each code point weighs 100
(code points 0-4351, 8192-8205, 8208-8223, 8242-8247) or 200 (everything else), divided by 100; every URL (also a
bare domain such as ``example.com``) counts 23; every emoji sequence (ZWJ, skin tone, flag, keycap) counts 2.

twitter-text-parser finds URLs and emoji, but its emoji table is Unicode's of 2019, so newer ZWJ sequences such as
🧑‍🧑‍🧒 would count as their parts (8 instead of 2). We therefore take emoji spans from both twitter-text-parser and
the ``emoji`` package's current data, keep the longest span at each position, and weigh the text ourselves with the
same loop as twitter-text (positions are code points; the ranges reported in :class:`XParse` are UTF-16 units, as in
the conformance file).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import emoji
from twitter_text import config as _tt_config
from twitter_text.extract_emojis import extract_emojis_with_indices
from twitter_text.extract_urls import extract_urls_with_indices
from twitter_text.has_invalid_characters import has_invalid_characters

__all__ = ["FACEBOOK_MAX", "X_MAX", "XParse", "facebook_length", "find_urls", "x_parse", "x_weighted_length"]

#: X's limit for a post from a non-Premium account (weighted).
X_MAX = 280
#: Facebook's commonly cited post limit (characters).
FACEBOOK_MAX = 63206

_V3 = _tt_config.config["version3"]
_SCALE: int = _V3["scale"]
_DEFAULT_WEIGHT: int = _V3["default_weight"]
_URL_LENGTH: int = _V3["transformed_url_length"]
_RANGES: tuple[tuple[int, int, int], ...] = tuple((r["start"], r["end"], r["weight"]) for r in _V3["ranges"])


@dataclass(frozen=True)
class XParse:
    """twitter-text's ``parseTweet`` result; range ends are inclusive UTF-16 indices."""

    weighted_length: int
    valid: bool
    permillage: int
    valid_range_start: int
    valid_range_end: int
    display_range_start: int
    display_range_end: int


def _weight(char: str) -> int:
    cp = ord(char)
    for start, end, weight in _RANGES:
        if start <= cp <= end:
            return weight
    return _DEFAULT_WEIGHT


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _emoji_spans(text: str) -> dict[int, int]:
    """start -> end (code points, exclusive) of every emoji sequence, the longest one at each start, no overlaps."""
    spans: dict[int, int] = {}
    for found in extract_emojis_with_indices(text):
        start, end = found["indices"]
        spans[start] = max(spans.get(start, start), end)
    for found in emoji.emoji_list(text):
        start, end = found["match_start"], found["match_end"]
        spans[start] = max(spans.get(start, start), end)
    merged: dict[int, int] = {}
    reach = -1
    for start in sorted(spans):
        if start < reach:
            continue  # inside a longer sequence found from an earlier position
        merged[start] = spans[start]
        reach = spans[start]
    return merged


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


@lru_cache(maxsize=4096)
def x_parse(text: str) -> XParse:
    """Parse ``text`` as X counts it (twitter-text v3 with current emoji data)."""
    normalised = _normalise(text)
    urls = {u["indices"][0]: u["indices"][1] for u in extract_urls_with_indices(normalised)}
    emojis = _emoji_spans(normalised)
    limit = X_MAX * _SCALE
    weighted = 0
    valid = True
    valid_display_index = 0
    i = 0
    while i < len(normalised):
        if i in urls:
            weighted += _URL_LENGTH * _SCALE
            i = urls[i] - 1
        elif i in emojis:
            weighted += _DEFAULT_WEIGHT
            i = emojis[i] - 1
        else:
            weighted += _weight(normalised[i])
        if valid:
            valid = not has_invalid_characters(normalised[i : i + 1])
        if valid and weighted <= limit:
            valid_display_index = i
        i += 1
    length = weighted // _SCALE
    valid_end = _utf16_len(normalised[: valid_display_index + 1]) - 1
    normalisation_offset = _utf16_len(text) - _utf16_len(normalised)
    return XParse(
        weighted_length=length,
        valid=valid and 0 < length <= X_MAX,
        permillage=length * 1000 // X_MAX,
        valid_range_start=0,
        valid_range_end=valid_end + normalisation_offset,
        display_range_start=0,
        display_range_end=max(_utf16_len(text) - 1, 0),
    )


def x_weighted_length(text: str) -> int:
    """X's weighted length of ``text`` (at most :data:`X_MAX` fits in a post)."""
    return x_parse(text).weighted_length


def facebook_length(text: str) -> int:
    """Characters as Facebook counts them against :data:`FACEBOOK_MAX` (code points of the NFC form)."""
    return len(unicodedata.normalize("NFC", text))


def find_urls(text: str) -> list[str]:
    """Every URL X would recognise in ``text``, including bare domains such as ``example.com``."""
    return [u["url"] for u in extract_urls_with_indices(_normalise(text))]
