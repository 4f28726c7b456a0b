"""The ``[[post]]`` tables: each becomes a :class:`Post` with its per-channel texts and media.

Languages: a post with ``lang`` is posted in that language (one of the campaign's) and needs only its files; a post
without one is posted in the default language and its message is expected in every language of the campaign
(``Post.texts_by_lang``; a missing file is an error naming the file expected). Its card specs are expected in every
language too (``translations.check_cards``); a post with ``lang`` shows the card's ``<stem>.<lang>.toml`` when it
exists.

A post is built also when parts of it have errors (the content rules in ``rules.py`` still check the rest); the
loader never returns a campaign while errors exist.
"""

from __future__ import annotations

import re
from typing import Any

from social_campaign.campaign import media as media_checks
from social_campaign.campaign.context import Context
from social_campaign.campaign.fields import channels, instant, message_text, string_list, typed, unknown_keys
from social_campaign.campaign.languages import (
    card_spec_for,
    message_candidates,
    message_file,
    missing_override,
    translated_spec,
)
from social_campaign.campaign.model import MediaRef, Post
from social_campaign.campaign.times import cron_trigger

__all__ = ["POST_KEYS", "build_posts"]

POST_KEYS = ("id", "at", "cron", "start", "end", "channels", "message", "media", "alt", "lang")


def build_posts(ctx: Context, doc: dict[str, Any], values: dict[str, str | None]) -> list[Post]:
    raw = doc.get("post", [])
    if isinstance(raw, dict):
        ctx.error(ctx.index.line("post"), "write each post as [[post]] (double brackets), not [post]")
        return []
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        ctx.error(ctx.index.line("post"), "'post' must be written as [[post]] tables")
        return []
    posts: list[Post] = []
    seen: dict[str, int] = {}
    for i, table in enumerate(raw):
        line = ctx.index.line("post", i)
        where = f"post #{i + 1}"
        post_id = typed(ctx, table, "id", str, where, "post", i, required=True)
        if post_id is not None:
            if not post_id.strip():
                ctx.error(ctx.index.line("post", i, "id"), f"{where} has an empty id")
            elif post_id in seen:
                ctx.error(
                    ctx.index.line("post", i, "id"),
                    f"duplicate post id '{post_id}' (first used on line {seen[post_id]})",
                )
            else:
                seen[post_id] = ctx.index.line("post", i, "id")
            where = f"post '{post_id}'"
        unknown_keys(ctx, table, POST_KEYS, where, "post", i)
        post = _post(ctx, table, i, where, post_id, line, values)
        posts.append(post)
        ctx.built_posts.append((i, post))
    return posts


def _post(
    ctx: Context,
    table: dict[str, Any],
    i: int,
    where: str,
    post_id: str | None,
    line: int,
    values: dict[str, str | None],
) -> Post:
    at = instant(ctx, table, "at", where, "post", i)
    cron = typed(ctx, table, "cron", str, where, "post", i)
    start = instant(ctx, table, "start", where, "post", i)
    end = instant(ctx, table, "end", where, "post", i)
    if "at" in table and "cron" in table:
        ctx.error(line, f"{where} has both 'at' and 'cron'; give one")
    elif "at" not in table and "cron" not in table:
        ctx.error(line, f"{where} needs 'at' (a date-time) or 'cron' (e.g. \"0 9 * * MON\")")
    if "at" in table and ("start" in table or "end" in table):
        ctx.error(
            ctx.index.line("post", i, "start" if "start" in table else "end"),
            f"{where}: 'start'/'end' only go with 'cron'",
        )
    if cron is not None and ctx.tz is not None:
        try:
            cron_trigger(cron, ctx.tz)
        except ValueError as exc:
            ctx.error(ctx.index.line("post", i, "cron"), f"{where}: {exc}")
            cron = None
    if start is not None and end is not None and end <= start:
        ctx.error(ctx.index.line("post", i, "end"), f"{where}: 'end' is not after 'start'")
    chans = channels(ctx, table, where, "post", i, required=True)
    message = typed(ctx, table, "message", str, where, "post", i, required=True)
    lang, lang_ok = _lang(ctx, table, i, where)
    post_lang = lang or ctx.default_language
    by_lang: dict[str, dict[str, str]] = {}
    if message is not None and lang_ok:
        msg_line = ctx.index.line("post", i, "message")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", message) or ".." in message:
            ctx.error(msg_line, f"{where}: message name {message!r} must be a file name in messages/ without '.md'")
        else:
            for text_lang in [post_lang] if lang is not None else list(ctx.languages):
                owner = f"#{i}" if text_lang == post_lang else f"#{i}@{text_lang}"
                by_lang[text_lang] = _texts(ctx, i, where, message, text_lang, chans, values, owner)
    texts = by_lang.get(post_lang, {})
    media = _media(ctx, table, i, where, lang)
    # Built also when incomplete, so the content rules check the rest; never returned while errors exist.
    return Post(
        id=post_id if post_id is not None else f"#{i + 1}",
        channels=tuple(c for c in chans if c in texts),
        message=message or "",
        texts=texts,
        media=tuple(media),
        at=at,
        cron=cron,
        start=start,
        end=end,
        line=line,
        tz=ctx.tz,
        lang=post_lang,
        texts_by_lang=by_lang,
    )


def _lang(ctx: Context, table: dict[str, Any], i: int, where: str) -> tuple[str | None, bool]:
    """``lang`` of a post (None: not given), and whether it is usable (a bad one is reported, and the post's
    messages are then not read: which language's files it needs is unknown)."""
    lang: str | None = typed(ctx, table, "lang", str, where, "post", i)
    if "lang" in table and lang is None:
        return None, False
    if lang is not None and lang not in ctx.languages:
        ctx.error(
            ctx.index.line("post", i, "lang"),
            f"{where}: lang {lang!r} is not one of the campaign's languages ({', '.join(ctx.languages)}); "
            "list it in [campaign] languages",
        )
        return None, False
    return lang, True


def _texts(
    ctx: Context,
    i: int,
    where: str,
    message: str,
    lang: str,
    chans: tuple[str, ...],
    values: dict[str, str | None],
    owner: str,
) -> dict[str, str]:
    """channel -> text of message ``message`` in ``lang``; a missing file is one error naming the file expected.

    ``owner`` keys ``ctx.text_sources`` (``#<i>`` for the posted texts, ``#<i>@<lang>`` for the other languages)."""
    messages_dir = ctx.root / "messages"
    default = ctx.default_language
    msg_line = ctx.index.line("post", i, "message")
    texts: dict[str, str] = {}
    for channel in chans:
        file = message_file(messages_dir, message, lang, default, channel)
        if file is None:
            expected = ctx.show(message_candidates(messages_dir, message, lang, default, None)[0])
            version = "" if lang == default else f" (message {message!r} in {lang!r})"
            ctx.error(msg_line, f"{where}: message file {expected} not found{version}")
            break
        gap = missing_override(messages_dir, message, lang, default, channel)
        if gap is not None:
            ctx.warn(
                msg_line,
                f"{where}: {ctx.show(gap)} not found: {channel} gets {ctx.show(file)} in {lang!r}, although the "
                f"default language has its own {channel} version",
            )
        text = message_text(ctx, file, values)
        if text is not None:
            texts[channel] = text
            ctx.text_sources[(owner, channel)] = (ctx.show(file), 1)
    return texts


def _media(ctx: Context, table: dict[str, Any], i: int, where: str, lang: str | None) -> list[MediaRef]:
    """The media items; a card spec is noted in ``ctx.cards`` with the languages the post shows it in, and a post
    with ``lang`` gets the card's translation when it exists."""
    items = string_list(ctx, table, "media", where, "post", i) or []
    alts = string_list(ctx, table, "alt", where, "post", i)
    line = ctx.index.line("post", i, "media")
    alt_line = ctx.index.line("post", i, "alt") if "alt" in table else line
    if alts is not None and len(alts) > len(items):
        ctx.error(alt_line, f"{where} has {len(alts)} alt texts for {len(items)} media items (one per item)")
    out: list[MediaRef] = []
    for n, item in enumerate(items):
        path = (ctx.root / item).resolve()
        if path.suffix.lower() == ".toml":
            _first, shown_in = ctx.cards.setdefault(path, (line, set()))
            shown_in.update([lang] if lang is not None else ctx.languages)
            ctx.used.update(t for t in (translated_spec(path, x) for x in shown_in) if t.is_file())  # content_hash
            path = card_spec_for(path, lang)
        ctx.used.add(path)
        alt = alts[n] if alts is not None and n < len(alts) else None
        if alt is not None and not alt.strip():
            alt = None
        if alt is None and path.suffix.lower() == ".toml":
            alt = media_checks.spec_alt(path)
        out.append(MediaRef(path=path, alt=alt, line=line))
    return out
