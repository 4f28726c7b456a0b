"""The optional tables: ``[pledge]`` (the all-or-nothing release and its message variants) and ``[badge]``.

The pledge's message is read in every language of the campaign: the variants (``<message>.md``, ``.v2.md`` … and
``<message>.<lang>.md``, ``.v2.<lang>.md`` …; each variant of the default language is expected in every language) and
the organisation's texts per channel (``<message>.<lang>.<channel>.md``, else ``<message>.<lang>.md``).
"""

from __future__ import annotations

from typing import Any

from social_campaign.campaign.context import Context
from social_campaign.campaign.fields import channels, instant, message_text, typed, unknown_keys
from social_campaign.campaign.languages import message_file, missing_override, variant_files, variant_name
from social_campaign.campaign.model import BadgeSpec, PledgeSpec

__all__ = ["BADGE_KEYS", "PLEDGE_KEYS", "build_badge", "build_pledge"]

PLEDGE_KEYS = ("goal", "deadline", "fire_at", "message", "channels", "minimum_age")
AGES = range(1, 121)  # [pledge] minimum_age
BADGE_KEYS = ("overlay", "size", "download_size", "shape")
SHAPES = ("circle", "square")


def build_pledge(ctx: Context, doc: dict[str, Any], values: dict[str, str | None]) -> PledgeSpec | None:
    table = doc.get("pledge")
    if table is None:
        return None
    where = "[pledge]"
    if not isinstance(table, dict):
        ctx.error(ctx.index.line("pledge"), "'pledge' must be a table: write [pledge] on its own line")
        return None
    unknown_keys(ctx, table, PLEDGE_KEYS, where, "pledge")
    goal = typed(ctx, table, "goal", int, where, "pledge", required=True)
    if goal is not None and goal < 1:
        ctx.error(ctx.index.line("pledge", "goal"), f"goal must be at least 1, not {goal}")
        goal = None
    deadline = instant(ctx, table, "deadline", where, "pledge", required=True)
    fire_at = instant(ctx, table, "fire_at", where, "pledge", required=True)
    if deadline is not None and fire_at is not None and fire_at < deadline:
        ctx.error(
            ctx.index.line("pledge", "fire_at"),
            "fire_at is before the deadline (the release comes when pledges close or later)",
        )
    chans = channels(ctx, table, where, "pledge", required=False, default=("outbox",))
    minimum_age = typed(ctx, table, "minimum_age", int, where, "pledge")
    if minimum_age is not None and minimum_age not in AGES:
        ctx.error(
            ctx.index.line("pledge", "minimum_age"),
            f"minimum_age must be between {AGES.start} and {AGES.stop - 1} years, not {minimum_age}",
        )
        minimum_age = None
    message = typed(ctx, table, "message", str, where, "pledge", required=True)
    variants_by_lang: dict[str, tuple[str, ...]] = {}
    org_by_lang: dict[str, dict[str, str]] = {}
    if message is not None:
        numbers: list[int] = []  # the default language's variants, which every language should have
        for lang in ctx.languages:
            files = variant_files(ctx.root / "messages", message, lang, ctx.default_language)
            _missing_variants(ctx, message, lang, numbers, {n for n, _ in files})
            if lang == ctx.default_language:
                numbers = [n for n, _ in files]
            texts: list[str] = []
            for _n, file in files:
                text = message_text(ctx, file, values)
                if text is not None:
                    texts.append(text)
                    ctx.variant_texts.append((ctx.show(file), text, lang))
            variants_by_lang[lang] = tuple(texts)
            org_by_lang[lang] = _org_texts(ctx, message, lang, chans, values)
    default = ctx.default_language
    variants = list(variants_by_lang.get(default, ()))
    if goal is None or deadline is None or fire_at is None or message is None or not variants:
        return None
    return PledgeSpec(
        goal=goal,
        deadline=deadline,
        fire_at=fire_at,
        message=message,
        channels=chans,
        variants=tuple(variants),
        org_texts=org_by_lang.get(default, {}),
        line=ctx.index.line("pledge"),
        minimum_age=minimum_age,
        variants_by_lang={lang: texts for lang, texts in variants_by_lang.items() if texts},
        org_texts_by_lang={lang: texts for lang, texts in org_by_lang.items() if texts},
    )


def _missing_variants(ctx: Context, message: str, lang: str, numbers: list[int], found: set[int]) -> None:
    """One error per file missing: the default language's message file, or a variant another language lacks."""
    messages_dir = ctx.root / "messages"
    line = ctx.index.line("pledge", "message")
    default = ctx.default_language
    if lang == default:
        if not found:
            ctx.error(line, f"message file {ctx.show(messages_dir / (message + '.md'))} not found")
        return
    for number in numbers:
        if number not in found:
            expected = ctx.show(messages_dir / variant_name(message, number, lang, default))
            ctx.error(
                line, f"[pledge]: message file {expected} not found (variant {number} of {message!r} in {lang!r})"
            )


def _org_texts(
    ctx: Context, message: str, lang: str, chans: tuple[str, ...], values: dict[str, str | None]
) -> dict[str, str]:
    """channel -> the organisation's text in ``lang`` (recorded in the context for the content rules)."""
    messages_dir = ctx.root / "messages"
    default = ctx.default_language
    texts: dict[str, str] = {}
    for channel in chans:
        file = message_file(messages_dir, message, lang, default, channel)
        text = message_text(ctx, file, values) if file is not None else None
        if file is None or text is None:
            continue
        texts[channel] = text
        gap = missing_override(messages_dir, message, lang, default, channel)
        if gap is not None:
            ctx.warn(
                ctx.index.line("pledge", "message"),
                f"[pledge]: {ctx.show(gap)} not found: {channel} gets {ctx.show(file)} in {lang!r}, although the "
                f"default language has its own {channel} version",
            )
        if lang == default:
            ctx.pledge_texts[channel] = text
            ctx.text_sources[("[pledge]", channel)] = (ctx.show(file), 1)
        else:
            ctx.pledge_texts_by_lang.setdefault(lang, {})[channel] = text
            ctx.text_sources[(f"[pledge]@{lang}", channel)] = (ctx.show(file), 1)
    return texts


def build_badge(ctx: Context, doc: dict[str, Any]) -> BadgeSpec | None:
    table = doc.get("badge")
    if table is None:
        return None
    where = "[badge]"
    if not isinstance(table, dict):
        ctx.error(ctx.index.line("badge"), "'badge' must be a table: write [badge] on its own line")
        return None
    unknown_keys(ctx, table, BADGE_KEYS, where, "badge")
    overlay = typed(ctx, table, "overlay", str, where, "badge", required=True)
    size = typed(ctx, table, "size", int, where, "badge")
    download = typed(ctx, table, "download_size", int, where, "badge")
    for key, value in (("size", size), ("download_size", download)):
        if value is not None and not 16 <= value <= 4096:
            ctx.error(ctx.index.line("badge", key), f"{key} must be between 16 and 4096 pixels, not {value}")
    shape = typed(ctx, table, "shape", str, where, "badge")
    if shape is not None and shape not in SHAPES:
        ctx.error(ctx.index.line("badge", "shape"), f"shape {shape!r} must be one of: {', '.join(SHAPES)}")
        shape = None
    if overlay is None:
        return None
    path = (ctx.root / overlay).resolve()
    ctx.used.add(path)
    return BadgeSpec(
        overlay=path,
        size=size if size is not None and 16 <= size <= 4096 else 400,
        download_size=download if download is not None and 16 <= download <= 4096 else 1080,
        shape=shape or "circle",
        line=ctx.index.line("badge"),
    )
