"""Per-network length rules: X's weighted length (twitter-text v3), Facebook's character count, and URL finding.

X counts text as twitter-text v3 does (``config/v3.json``): the text is NFC-normalised; each code point weighs 100
(code points 0-4351, 8192-8205, 8208-8223, 8242-8247) or 200 (everything else), divided by 100; every URL (also a
bare domain such as ``example.com``) counts 23; every emoji sequence (ZWJ, skin tone, flag, keycap) counts 2.

twitter-text-parser finds URLs, but its emoji table is Unicode's of 2019, so newer ZWJ sequences such as 🧑‍🧑‍🧒
would count as their parts (8 instead of 2). We therefore take emoji spans from the ``emoji`` package's current data
(a superset of twitter-text's table, checked in ``tests/test_text.py``) and weigh the text ourselves with the same loop
as twitter-text (positions are code points; the ranges reported in :class:`XParse` are UTF-16 units, as in the
conformance file).

Importing this module is cheap: twitter-text and ``emoji`` are imported on the first question that needs them (an
all-ASCII text holds no emoji, so ``emoji`` waits for one that is not), and only twitter-text's URL and
invalid-character modules, without its package ``__init__``, which compiles the 2019 emoji
table through ``pkg_resources`` (about half a second of every ``check``). Those modules build each URL regex from
smaller ones, compiling every piece on the way (the list of 1,500 top-level domains four times); here a piece is
compiled only when it is matched against (:class:`_LazyPattern`), so the same patterns cost a third of the time, and
a text without a ``.`` (which twitter-text itself answers with "no URL") does not load them at all.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from types import ModuleType
from typing import Any

__all__ = [
    "BLUESKY_MAX",
    "BLUESKY_MAX_BYTES",
    "FACEBOOK_MAX",
    "MASTODON_MAX",
    "MASTODON_URL_LENGTH",
    "X_MAX",
    "XParse",
    "bluesky_bytes",
    "bluesky_length",
    "facebook_length",
    "find_urls",
    "graphemes",
    "mastodon_length",
    "x_parse",
    "x_weighted_length",
]

#: X's limit for a post from a non-Premium account (weighted).
X_MAX = 280
#: Facebook's commonly cited post limit (characters).
FACEBOOK_MAX = 63206

#: Mastodon's default limit (a server may set another: ``settings.mastodon_max_chars``), in grapheme clusters.
MASTODON_MAX = 500
#: What every http(s) URL counts on Mastodon, whatever its length.
MASTODON_URL_LENGTH = 23
#: Bluesky's limits: grapheme clusters, and UTF-8 bytes of the whole text.
BLUESKY_MAX = 300
BLUESKY_MAX_BYTES = 3000

# twitter-text's v3 configuration (``config/v3.json``), as ``twitter_text.config`` has it (tests/test_text.py
# compares them), copied so that importing this module does not import twitter-text.
_SCALE = 100
_DEFAULT_WEIGHT = 200
_URL_LENGTH = 23
_RANGES: tuple[tuple[int, int, int], ...] = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))


class _Libs:
    """twitter-text's invalid-character finder, imported on first use."""

    def __init__(self) -> None:
        self.has_invalid_characters: Any = _twitter_text_module("has_invalid_characters").has_invalid_characters


@lru_cache(maxsize=1)
def _emoji() -> ModuleType:
    """The ``emoji`` package (its table takes a tenth of a second to load: only for a text that is not all ASCII)."""
    import emoji

    return emoji


class _LazyPattern:
    """What ``re.compile`` gives twitter-text's regex modules while they load: the source and flags at once (all that
    building a bigger regex from this one reads), the compiled pattern on first use of anything else."""

    def __init__(self, compile_: Callable[..., re.Pattern[str]], pattern: str, flags: int) -> None:
        self.pattern, self._compile = pattern, compile_
        self.flags = flags if flags & re.ASCII else flags | re.UNICODE  # as a compiled str pattern reports them

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return self._compile(self.pattern, self.flags)

    def __getattr__(self, name: str) -> Any:  # search, match, finditer, ...: the compiled pattern's
        return getattr(self.compiled, name)


def _twitter_text_module(name: str) -> ModuleType:
    """``twitter_text.<name>``, imported without running ``twitter_text/__init__.py`` unless it already ran, its regexes
    compiled lazily (:class:`_LazyPattern`). Call with ``_libs_lock`` held."""
    full = f"twitter_text.{name}"
    if full in sys.modules or "twitter_text" in sys.modules:
        return importlib.import_module(full)
    spec = importlib.util.find_spec("twitter_text")
    if spec is None:
        raise ModuleNotFoundError("twitter_text", name="twitter_text")
    compile_ = re.compile

    def lazy_compile(pattern: Any, flags: int = 0) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if isinstance(pattern, str) and caller.startswith("twitter_text."):
            return _LazyPattern(compile_, pattern, int(flags))
        return compile_(pattern, flags)  # any other caller (another thread) gets re.compile itself

    sys.modules["twitter_text"] = importlib.util.module_from_spec(spec)  # the package, its __init__ not run
    re.compile = lazy_compile
    try:
        return importlib.import_module(full)
    finally:
        re.compile = compile_
        del sys.modules["twitter_text"]  # a later `import twitter_text` runs its __init__ as usual


_libs_lock = threading.Lock()


@lru_cache(maxsize=1)
def _libs() -> _Libs:
    with _libs_lock:  # one import at a time: _twitter_text_module swaps an entry of sys.modules for a moment
        return _Libs()


@lru_cache(maxsize=1)
def _extract_urls() -> Callable[[str], list[dict[str, Any]]]:
    """twitter-text's ``extract_urls_with_indices`` (bare domains included), imported on first use."""
    _libs()
    with _libs_lock:
        urls: Callable[[str], list[dict[str, Any]]] = _twitter_text_module("extract_urls").extract_urls_with_indices
    return urls


def _urls(normalised: str) -> list[dict[str, Any]]:
    """twitter-text's URLs in ``normalised`` text; without a ``.`` none, as twitter-text's own first test says."""
    return _extract_urls()(normalised) if "." in normalised else []


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
    if text.isascii():
        return {}  # no emoji sequence is all ASCII (tests/test_text_lazy.py checks both tables)
    spans: dict[int, int] = {}
    for found in _emoji().emoji_list(text):
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
    tt = _libs()
    urls = {u["indices"][0]: u["indices"][1] for u in _urls(normalised)}
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
            valid = not tt.has_invalid_characters(normalised[i : i + 1])
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
    return [u["url"] for u in _urls(_normalise(text))]


# Mastodon's URL: a link with its scheme (a bare domain is plain text there); trailing punctuation is not part of it.
_SCHEMED_URL = re.compile(r"https?://[^\s<>\"]+?(?=[.,:;!?)\]'\"]*(?:\s|$))", re.IGNORECASE)
# A remote mention ``@user@example.org`` counts as ``@user`` on Mastodon.
_REMOTE_MENTION = re.compile(r"(?<![\w/])(@\w+)@[\w.-]+\w", re.UNICODE)
_HANGUL_JOINS = ((0x1160, 0x11FF), (0xD7B0, 0xD7FF))  # conjoining vowels and final consonants


def _extends(char: str) -> bool:
    """Whether ``char`` continues the grapheme cluster before it (marks, joiners, variation selectors, jamo)."""
    if char == "\u200d" or unicodedata.category(char) in ("Mn", "Mc", "Me"):
        return True
    cp = ord(char)
    return any(start <= cp <= end for start, end in _HANGUL_JOINS)


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters) of the NFC form: an emoji sequence (ZWJ, skin tone,
    flag, keycap) counts once, a letter with its combining marks (Arabic harakat too) counts once, CR LF once.

    An approximation of UAX #29 without a segmentation library: emoji sequences come from the ``emoji`` package's
    current data, and a mark, a joiner or a conjoining jamo never starts a cluster."""
    normalised = _normalise(text)
    emojis = _emoji_spans(normalised)
    count = 0
    i = 0
    while i < len(normalised):
        if i in emojis:
            i = emojis[i]
        else:
            i += 1
        while i < len(normalised) and i not in emojis and _extends(normalised[i]):
            i += 1
        count += 1
    return count


def mastodon_length(text: str) -> int:
    """Mastodon's count: grapheme clusters, every ``http(s)://`` URL counting :data:`MASTODON_URL_LENGTH` and a
    remote mention (``@user@server``) only its ``@user`` part, as the server's StatusLengthValidator counts."""
    normalised = _normalise(text)
    urls = _SCHEMED_URL.findall(normalised)
    rest = _REMOTE_MENTION.sub(r"\1", _SCHEMED_URL.sub("", normalised))
    return graphemes(rest) + MASTODON_URL_LENGTH * len(urls)


def bluesky_length(text: str) -> int:
    """Bluesky's count against :data:`BLUESKY_MAX`: grapheme clusters, URLs in full."""
    return graphemes(text)


def bluesky_bytes(text: str) -> int:
    """UTF-8 bytes of the text Bluesky receives, against :data:`BLUESKY_MAX_BYTES`."""
    return len(_normalise(text).encode("utf-8"))
