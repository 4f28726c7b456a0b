"""``[campaign] languages``, the ``[campaign.translations.<lang>]`` tables, and the per-language card checks.

- ``languages``: well-formed tags (``campaign.languages.is_tag``), none twice, not empty; the first is the default.
  A language without a shipped interface catalogue is a warning (its pages show the interface words in English).
- ``[campaign.translations.<lang>]``: ``name`` and ``description`` for a listed language other than the default;
  a table for any other language is an error, and so is a listed language without a ``description`` when the
  campaign has one (its page would tell the story in another language). A missing ``name`` falls back quietly.
- Cards: a card spec a post shows in language ``<L>`` should have ``<stem>.<L>.toml`` beside it. A missing one is a
  warning, not an error: a card of numbers and images may be language-neutral, and the default card is used. A
  translation that exists gets the graphics part's checks, and its ``lang`` must name ``<L>`` (error); the default
  card's ``lang``, when given, should name the default language (warning).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from social_campaign.campaign import media as media_checks
from social_campaign.campaign.context import Context
from social_campaign.campaign.fields import string_list, typed, unknown_keys
from social_campaign.campaign.languages import DEFAULT_LANGUAGES, is_tag, match, translated_spec

__all__ = ["TRANSLATION_KEYS", "check_cards", "read_languages", "read_translations"]

TRANSLATION_KEYS = ("name", "description")


def read_languages(ctx: Context, head: dict[str, Any]) -> tuple[str, ...]:
    """``[campaign] languages`` (default ``("en",)``), each problem reported at the key's line."""
    values = string_list(ctx, head, "languages", "[campaign]", "campaign")
    if values is None:
        return DEFAULT_LANGUAGES
    line = ctx.index.line("campaign", "languages")
    if not values:
        ctx.error(line, 'languages is empty: list the campaign\'s languages, the default first (e.g. ["en", "fr"])')
        return DEFAULT_LANGUAGES
    out: list[str] = []
    for tag in values:
        if not is_tag(tag):
            hint = f" (write {tag.replace('_', '-')!r})" if "_" in tag and is_tag(tag.replace("_", "-")) else ""
            ctx.error(line, f'language {tag!r} is not a language tag such as "en", "fr" or "pt-BR"{hint}')
        elif any(tag.lower() == seen.lower() for seen in out):
            ctx.error(line, f"language {tag!r} is listed twice in languages")
        else:
            out.append(tag)
    from social_campaign.i18n.catalogs import SHIPPED

    for tag in out:
        if match(tag, SHIPPED) is None:
            ctx.warn(
                line,
                f"language {tag!r} has no interface translation (shipped: {', '.join(SHIPPED)}): its pages and emails "
                "show the campaign's own words, and the interface's in English",
            )
    return tuple(out) or DEFAULT_LANGUAGES


def read_translations(
    ctx: Context, head: dict[str, Any], languages: tuple[str, ...], description: str
) -> tuple[dict[str, str], dict[str, str]]:
    """``(names, descriptions)`` by language, from ``[campaign.translations.<lang>]``."""
    names: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    raw = head.get("translations", {})
    default = languages[0]
    if not isinstance(raw, dict):
        ctx.error(
            ctx.index.line("campaign", "translations"),
            "'translations' in [campaign] must be tables such as [campaign.translations.fr] (name, description)",
        )
        raw = {}
    for lang, table in raw.items():
        path = ("campaign", "translations", lang)
        where = f"[campaign.translations.{lang}]"
        line = ctx.index.line(*path)
        if not isinstance(table, dict):
            ctx.error(line, f"{where} must be a table with name and description")
        elif lang == default:
            ctx.error(line, f"{where}: {lang!r} is the default language: its name and description are [campaign]'s own")
        elif lang not in languages:
            ctx.error(line, f"{where}: {lang!r} is not one of the campaign's languages ({', '.join(languages)})")
        else:
            unknown_keys(ctx, table, TRANSLATION_KEYS, where, *path)
            for key, found in (("name", names), ("description", descriptions)):
                value = typed(ctx, table, key, str, where, *path)
                if value is not None and not value.strip():
                    ctx.error(ctx.index.line(*path, key), f"{where}: {key} is empty (leave it out to use [campaign]'s)")
                elif value is not None:
                    found[lang] = value
    if description.strip():
        for lang in languages[1:]:
            if lang not in descriptions and not (isinstance(raw.get(lang), dict) and "description" in raw[lang]):
                table_path = ("campaign", "translations", lang)
                at = ctx.index.lines.get(table_path) or ctx.index.line("campaign", "languages")
                ctx.error(
                    at,
                    f"[campaign] description has no {lang!r} version: "
                    f"add description to [campaign.translations.{lang}]",
                )
    return names, descriptions


def check_cards(ctx: Context) -> None:
    """The translations of every card spec the posts use (see the module's docstring)."""
    default = ctx.default_language
    for base, (line, langs) in sorted(ctx.cards.items()):
        if not base.is_file():
            continue  # reported by the media rules
        for lang in sorted(langs):
            if lang == default:
                spec_lang = _spec_lang(base)
                if spec_lang and match(spec_lang, (default,)) is None:
                    ctx.warn(
                        _lang_line(base),
                        f"lang = {spec_lang!r}, but this card is the campaign's default language, {default!r} "
                        f"(another language's card is {base.stem}.<lang>.toml)",
                        ctx.show(base),
                    )
                continue
            path = translated_spec(base, lang)
            if not path.is_file():
                ctx.warn(
                    line,
                    f"card {ctx.show(base)} has no {lang!r} version ({ctx.show(path)} not found); "
                    f"pages and posts in {lang!r} show the default one",
                )
                continue
            ctx.used.add(path)
            shown = ctx.show(path)
            media_checks.spec_problems(ctx, path)
            spec_lang = _spec_lang(path)
            if not spec_lang or match(spec_lang, (lang,)) is None:
                said = f"lang = {spec_lang!r}" if spec_lang else "it has no lang"
                ctx.error(
                    _lang_line(path), f"this is the {lang!r} version of {base.name}, but {said}: write lang = {lang!r}",
                    shown,
                )


def _lang_line(path: Path) -> int:
    """The line of the spec's top-level ``lang = …`` (1 when absent)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("["):
            break
        if re.match(r"\s*lang\s*=", line):
            return number
    return 1


def _spec_lang(path: Path) -> str | None:
    """The ``lang`` a spec file gives (None when absent or unreadable: its own check reports that)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    value = data.get("lang")
    return value.strip() if isinstance(value, str) and value.strip() else None
