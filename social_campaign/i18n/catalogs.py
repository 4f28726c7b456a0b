"""Message catalogues and the active language.

``gettext``/``ngettext``/``pgettext``/``npgettext`` translate into the active language (:func:`current`), set for the
duration of a ``with use(lang, default):`` block (a :class:`~contextvars.ContextVar`, so it follows a request into
``run_in_threadpool`` and never leaks between requests or threads). The source strings are English.
Chains are built once per (language, default) pair and process.

A string missing from the page language's catalogue falls back to the campaign's default language, then to the English
source text, with one logged warning per language and string: never a key, never an exception. Catalogues are read
from compiled ``.mo`` files with the standard library (no Babel import on the hot path), once per process.
"""

from __future__ import annotations

import gettext as _gettext
import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
SOURCE = "en"  # the language the msgids are written in
SHIPPED = ("en", "fr", "es", "ar")  # complete catalogues ship for these (tests/i18n/test_catalogs.py)
RTL = frozenset({"ar", "fa", "he", "ur", "ps", "yi", "dv", "ku", "sd", "ug"})

_state: ContextVar[tuple[str, str]] = ContextVar("social_campaign_lang", default=(SOURCE, SOURCE))
_warned: set[tuple[str, str]] = set()


class _Missing(_gettext.NullTranslations):
    """The end of every chain but English's: answers the English source text and logs once per language and string."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def _warn(self, message: str) -> None:
        key = (self.lang, message)
        if key not in _warned:
            _warned.add(key)
            log.warning("no %s translation for %r; showing the English text", self.lang, message[:80])

    def gettext(self, message: str) -> str:
        self._warn(message)
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self._warn(msgid1)
        return msgid1 if n == 1 else msgid2

    def pgettext(self, context: str, message: str) -> str:
        self._warn(message)
        return message

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        self._warn(msgid1)
        return msgid1 if n == 1 else msgid2


def base(lang: str) -> str:
    """The primary subtag, lower case: ``fr-CA`` -> ``fr``."""
    return lang.replace("_", "-").split("-")[0].lower()


def _catalogue(lang: str, directory: Path) -> _gettext.GNUTranslations | None:
    """A fresh copy of ``lang``'s compiled catalogue (each chain gets its own: fallbacks differ per chain)."""
    path = directory / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        return _gettext.GNUTranslations(fh)


@cache
def translations(lang: str, default: str = SOURCE) -> _gettext.NullTranslations:
    """The chain for ``lang``: its catalogue, then ``default``'s, then the English source (logged when reached)."""
    return build_chain(lang, default, LOCALE_DIR)


def build_chain(lang: str, default: str, directory: Path) -> _gettext.NullTranslations:
    """:func:`translations` from the catalogues under ``directory`` (uncached)."""
    if base(lang) == SOURCE:
        return _gettext.NullTranslations()
    chain: list[_gettext.NullTranslations] = []
    for code in dict.fromkeys((base(lang), base(default))):
        if code == SOURCE:
            break
        found = _catalogue(code, directory)
        if found is not None:
            chain.append(found)
    chain.append(_Missing(base(lang)))
    for first, then in itertools.pairwise(chain):
        first.add_fallback(then)
    return chain[0]


@contextmanager
def use(lang: str, default: str = SOURCE) -> Iterator[None]:
    """Translate into ``lang`` (falling back to ``default``) inside the block."""
    token = _state.set((lang, default))
    try:
        yield
    finally:
        _state.reset(token)


def activate(lang: str, default: str = SOURCE) -> object:
    """Set the language until :func:`deactivate` with the returned token (for ASGI middleware)."""
    return _state.set((lang, default))


def deactivate(token: object) -> None:
    _state.reset(token)  # type: ignore[arg-type]


def current() -> str:
    """The active language (``en`` outside any :func:`use`)."""
    return _state.get()[0]


def current_default() -> str:
    """The active campaign's default language."""
    return _state.get()[1]


def is_rtl(lang: str | None = None) -> bool:
    return base(lang or current()) in RTL


def direction(lang: str | None = None) -> str:
    """``rtl`` or ``ltr``, for ``<html dir>``."""
    return "rtl" if is_rtl(lang) else "ltr"


def gettext(message: str) -> str:
    return translations(*_state.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(*_state.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(*_state.get()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translations(*_state.get()).npgettext(context, singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Marks ``message`` for extraction without translating it now (module constants): translate it where it is used."""
    return message
