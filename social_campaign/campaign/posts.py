"""The ``[[post]]`` tables: each becomes a :class:`Post` with its per-channel texts and media.

A post is built also when parts of it have errors (the content rules in ``rules.py`` still check the rest); the
loader never returns a campaign while errors exist.
"""

from __future__ import annotations

import re
from typing import Any

from social_campaign.campaign import media as media_checks
from social_campaign.campaign import messages as msgs
from social_campaign.campaign.context import Context
from social_campaign.campaign.fields import channels, instant, message_text, string_list, typed, unknown_keys
from social_campaign.campaign.model import MediaRef, Post
from social_campaign.campaign.times import cron_trigger

__all__ = ["POST_KEYS", "build_posts"]

POST_KEYS = ("id", "at", "cron", "start", "end", "channels", "message", "media", "alt")


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
    texts: dict[str, str] = {}
    if message is not None:
        msg_line = ctx.index.line("post", i, "message")
        messages_dir = ctx.root / "messages"
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", message) or ".." in message:
            ctx.error(msg_line, f"{where}: message name {message!r} must be a file name in messages/ without '.md'")
        else:
            for channel in chans:
                file = msgs.channel_file(messages_dir, message, channel)
                if file is None:
                    ctx.error(msg_line, f"{where}: message file {ctx.show(messages_dir / (message + '.md'))} not found")
                    break
                text = message_text(ctx, file, values)
                if text is not None:
                    texts[channel] = text
                    ctx.text_sources[(f"#{i}", channel)] = (ctx.show(file), 1)
    media = _media(ctx, table, i, where)
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
    )


def _media(ctx: Context, table: dict[str, Any], i: int, where: str) -> list[MediaRef]:
    items = string_list(ctx, table, "media", where, "post", i) or []
    alts = string_list(ctx, table, "alt", where, "post", i)
    line = ctx.index.line("post", i, "media")
    alt_line = ctx.index.line("post", i, "alt") if "alt" in table else line
    if alts is not None and len(alts) > len(items):
        ctx.error(alt_line, f"{where} has {len(alts)} alt texts for {len(items)} media items (one per item)")
    out: list[MediaRef] = []
    for n, item in enumerate(items):
        path = (ctx.root / item).resolve()
        ctx.used.add(path)
        alt = alts[n] if alts is not None and n < len(alts) else None
        if alt is not None and not alt.strip():
            alt = None
        if alt is None and path.suffix.lower() == ".toml":
            alt = media_checks.spec_alt(path)
        out.append(MediaRef(path=path, alt=alt, line=line))
    return out
