"""The campaign's languages: which tags are well formed, and which file holds a text or a card in a language.

The default language (the first of ``[campaign] languages``) keeps the plain names; another language ``<L>`` adds
its tag before the extension. This module is the one place that knows these names:

============================  ================================  ===========================================
what                          default language                  language ``<L>``
============================  ================================  ===========================================
a message                     ``messages/<name>.md``            ``messages/<name>.<L>.md``
its version for a channel     ``messages/<name>.<channel>.md``  ``messages/<name>.<L>.<channel>.md``
pledge variants               ``<name>.md``, ``<name>.v2.md``   ``<name>.<L>.md``, ``<name>.v2.<L>.md`` …
a card spec                   ``infographics/<stem>.toml``      ``infographics/<stem>.<L>.toml``
============================  ================================  ===========================================

Lookup for (name, language, channel): ``<name>.<L>.<channel>.md``, then ``<name>.<L>.md``; for the default language
``<name>.<channel>.md``, then ``<name>.md``. A language never borrows another language's file here: a missing file is
a ``check`` problem, and only the loaded model falls back to the default language's texts (``PledgeSpec.variants_for``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "DEFAULT_LANGUAGES",
    "card_spec_for",
    "is_tag",
    "match",
    "message_candidates",
    "message_file",
    "missing_override",
    "spec_translation_of",
    "translated_spec",
    "variant_files",
    "variant_name",
]

DEFAULT_LANGUAGES = ("en",)
#: BCP 47, as campaigns use it: language (2-3 letters), optional script (4 letters), optional region (2 letters or
#: 3 digits), optional variants (5-8 characters, or a digit and 3 more). ``en``, ``fr``, ``pt-BR``, ``zh-Hant``.
_TAG = re.compile(
    r"^[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$"
)
_VARIANT = re.compile(r"^(?P<name>.+)\.v(?P<n>[0-9]+)\.md$")
_VARIANT_LANG = re.compile(r"^(?P<name>.+)\.v(?P<n>[0-9]+)\.(?P<lang>[^.]+)\.md$")


def is_tag(value: str) -> bool:
    """Whether ``value`` is a well-formed language tag (``en``, ``fr``, ``pt-BR``; not ``english`` or ``fr_FR``)."""
    return len(value) <= 35 and bool(_TAG.match(value))


def match(lang: str | None, languages: Sequence[str]) -> str | None:
    """The one of ``languages`` that ``lang`` names: exactly, ignoring case, or by its first subtag (``fr-CA``)."""
    if not lang:
        return None
    if lang in languages:
        return lang
    wanted = lang.replace("_", "-").lower()
    lowered = {item.lower(): item for item in languages}
    if wanted in lowered:
        return lowered[wanted]
    primary = wanted.split("-")[0]
    for item in languages:
        if item.lower() == primary:
            return item
    for item in languages:
        if item.lower().split("-")[0] == primary:
            return item
    return None


def message_candidates(messages_dir: Path, name: str, lang: str, default: str, channel: str | None) -> list[Path]:
    """The files that may give message ``name`` in ``lang`` on ``channel``, best first (``channel=None``: the base)."""
    infix = "" if lang == default else f".{lang}"
    names = [f"{name}{infix}.{channel}.md"] if channel else []
    names.append(f"{name}{infix}.md")
    return [messages_dir / n for n in names]


def message_file(messages_dir: Path, name: str, lang: str, default: str, channel: str | None) -> Path | None:
    """The file that gives message ``name`` in ``lang`` on ``channel``, or None when the language has none."""
    for candidate in message_candidates(messages_dir, name, lang, default, channel):
        if candidate.is_file():
            return candidate
    return None


def missing_override(messages_dir: Path, name: str, lang: str, default: str, channel: str) -> Path | None:
    """``<name>.<lang>.<channel>.md`` when the default language has ``<name>.<channel>.md`` and ``lang`` has not it."""
    if lang == default or not (messages_dir / f"{name}.{channel}.md").is_file():
        return None
    own = messages_dir / f"{name}.{lang}.{channel}.md"
    return None if own.is_file() else own


def variant_name(name: str, number: int, lang: str, default: str) -> str:
    """The file name of pledge variant ``number`` (1 is the base file) in ``lang``."""
    version = "" if number == 1 else f".v{number}"
    infix = "" if lang == default else f".{lang}"
    return f"{name}{version}{infix}.md"


def variant_files(messages_dir: Path, name: str, lang: str, default: str) -> list[tuple[int, Path]]:
    """``(number, file)`` of message ``name``'s pledge variants in ``lang``: the base file is 1, then ``vN`` in order."""
    found: list[tuple[int, Path]] = []
    base = messages_dir / variant_name(name, 1, lang, default)
    if base.is_file():
        found.append((1, base))
    if messages_dir.is_dir():
        for path in messages_dir.iterdir():
            number = _variant_number(path.name, name, lang, default)
            if number is not None and number >= 2 and path.is_file():
                found.append((number, path))
    return sorted(found)


def _variant_number(file_name: str, name: str, lang: str, default: str) -> int | None:
    if lang == default:
        plain = _VARIANT.match(file_name)
        return int(plain.group("n")) if plain and plain.group("name") == name else None
    tagged = _VARIANT_LANG.match(file_name)
    if tagged and tagged.group("name") == name and tagged.group("lang") == lang:
        return int(tagged.group("n"))
    return None


def translated_spec(path: Path, lang: str) -> Path:
    """Where the ``lang`` version of card spec ``path`` lives: ``<stem>.<lang>.toml`` beside it (it may not exist)."""
    return path.with_name(f"{path.stem}.{lang}{path.suffix}")


def card_spec_for(path: Path, lang: str | None) -> Path:
    """The card spec to render for ``lang``: ``<stem>.<lang>.toml`` when it exists, else ``path`` itself.

    ``lang=None`` or the default language gives ``path`` (no ``<stem>.en.toml`` is ever written for it)."""
    if not lang or path.suffix.lower() != ".toml":
        return path
    candidate = translated_spec(path, lang)
    return candidate if candidate.is_file() else path


def spec_translation_of(path: Path, languages: Iterable[str]) -> str | None:
    """The language ``path`` is a translation into (``card.fr.toml`` -> ``fr``) when it is one, else None.

    A folder listing shows each card once by skipping these (the page picks the translation with
    :func:`card_spec_for`)."""
    if path.suffix.lower() != ".toml":
        return None
    stem, dot, tag = path.stem.rpartition(".")
    if not dot or not stem:
        return None
    return tag if tag in tuple(languages) else None
