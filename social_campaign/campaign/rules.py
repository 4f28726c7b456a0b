"""The content rules of ``check``: lengths per network, media limits and alt text, duplicates, times in the past,
the pledge's variants and the badge overlay. Run by ``loader.analyse`` over the :class:`Context` after the campaign is built.

Every language's texts get the same rules (lengths, the URL warning, duplicates within the language, the variants');
problems about another language than the default name it (``post 'x' (fr)``). The cards' translations are checked by
``translations.check_cards``."""

from __future__ import annotations

from datetime import UTC, datetime

from social_campaign.campaign import media as media_checks
from social_campaign.campaign.context import Context
from social_campaign.campaign.model import Campaign, MediaRef, Post
from social_campaign.campaign.translations import check_cards
from social_campaign.text import (
    BLUESKY_MAX,
    BLUESKY_MAX_BYTES,
    FACEBOOK_MAX,
    X_MAX,
    bluesky_bytes,
    bluesky_length,
    facebook_length,
    find_urls,
    mastodon_length,
    x_weighted_length,
)

__all__ = ["ALT_MAX", "LIMITS", "NAMES", "check_all"]

#: channel -> (max images, max bytes per image or None: the publisher shrinks them); channels without limits are absent.
LIMITS: dict[str, tuple[int, int | None]] = {
    "x": (4, 5 * 1024 * 1024),
    "facebook": (10, 10 * 1024 * 1024),
    "mastodon": (4, 16 * 1024 * 1024),
    "bluesky": (4, None),  # the publisher re-encodes each image to Bluesky's 1,000,000-byte blob limit
}
#: channel -> the longest image description (characters) it takes.
ALT_MAX: dict[str, int] = {"x": 1000, "mastodon": 1500}
NAMES = {"x": "X", "facebook": "Facebook", "mastodon": "Mastodon", "bluesky": "Bluesky", "outbox": "the outbox"}
#: Channels that refuse the same text twice.
NO_DUPLICATES = ("x", "facebook")


def check_all(ctx: Context, campaign: Campaign | None, now: datetime | None) -> None:
    """Every content rule over what was built (incomplete parts included: every problem is reported at once)."""
    for i, post in ctx.built_posts:
        message_line = ctx.index.line("post", i, "message")
        _lengths(ctx, f"#{i}", f"post '{post.id}'", post.texts, message_line)
        warned = bool(find_urls(post.texts.get("x", "")))
        for lang, texts in post.texts_by_lang.items():
            if lang != post.lang:
                warned = _lengths(ctx, f"#{i}@{lang}", f"post '{post.id}' ({lang})", texts, message_line, warned)
        _media(ctx, i, post)
        if "x" in post.channels and post.cron is not None:
            ctx.warn(
                ctx.index.line("post", i, "cron"),
                f"post '{post.id}' repeats the same text on every firing; X rejects a duplicate of a recent post",
            )
    _lengths(ctx, "[pledge]", "[pledge]", ctx.pledge_texts, ctx.index.line("pledge", "message"))
    warned = bool(find_urls(ctx.pledge_texts.get("x", "")))
    for lang, texts in ctx.pledge_texts_by_lang.items():
        line = ctx.index.line("pledge", "message")
        warned = _lengths(ctx, f"[pledge]@{lang}", f"[pledge] ({lang})", texts, line, warned)
    _variants(ctx)
    check_cards(ctx)
    _duplicates(ctx)
    if campaign is not None and now is not None:
        _past(ctx, campaign, now.astimezone(UTC))
    if campaign is not None and campaign.badge is not None:
        shown = ctx.show(campaign.badge.overlay)
        line = ctx.index.line("badge", "overlay")
        for severity, message in media_checks.check_overlay(
            campaign.badge.overlay, campaign.badge.size, campaign.badge.download_size
        ):
            (ctx.error if severity == "error" else ctx.warn)(line, f"{message} ({shown})")


def _lengths(
    ctx: Context, owner: str, label: str, texts: dict[str, str], message_line: int, url_warned: bool = False
) -> bool:
    """Length errors of each channel's text, and the X URL warning unless ``url_warned`` (one per post, whatever
    the number of languages). Returns whether the warning has been given."""
    for channel, text in texts.items():
        shown, line = ctx.text_sources.get((owner, channel), (ctx.path, message_line))
        if channel == "x":
            weighted = x_weighted_length(text)
            if weighted > X_MAX:
                ctx.error(line, f"{label}: too long for X: weighted length {weighted} > {X_MAX}", shown)
            if find_urls(text) and not url_warned:
                url_warned = True
                ctx.warn(
                    message_line,
                    f"{label}: the X text contains a URL ({find_urls(text)[0]}); under X pay-per-use a post with a URL costs more",
                )
        elif channel == "facebook":
            length = facebook_length(text)
            if length > FACEBOOK_MAX:
                ctx.error(line, f"{label}: too long for Facebook: {length} characters > {FACEBOOK_MAX}", shown)
        elif channel == "mastodon":
            length = mastodon_length(text)
            if length > ctx.mastodon_max:
                ctx.error(
                    line,
                    f"{label}: too long for Mastodon: {length} characters > {ctx.mastodon_max} (each URL counts 23)",
                    shown,
                )
        elif channel == "bluesky":
            length, size = bluesky_length(text), bluesky_bytes(text)
            if length > BLUESKY_MAX:
                ctx.error(line, f"{label}: too long for Bluesky: {length} characters > {BLUESKY_MAX}", shown)
            elif size > BLUESKY_MAX_BYTES:
                ctx.error(line, f"{label}: too long for Bluesky: {size} bytes in UTF-8 > {BLUESKY_MAX_BYTES}", shown)
    return url_warned


def _media(ctx: Context, i: int, post: Post) -> None:
    readable: list[tuple[MediaRef, int | None]] = []
    for n, ref in enumerate(post.media, start=1):
        shown = ctx.show(ref.path)
        line = ctx.index.line("post", i, "media")
        alt_line = ctx.index.lines.get(("post", i, "alt"), line)
        spec_problems = media_checks.spec_problems(ctx, ref.path) if ref.is_spec and ref.path.is_file() else []
        if ref.alt is None and not spec_problems:  # a spec that does not load reports its own problems
            ctx.error(alt_line, f"post '{post.id}': media #{n} ({shown}) has no alt text; add one per item to 'alt'")
        elif ref.alt is not None:
            for channel in (c for c in post.channels if c in ALT_MAX and len(ref.alt or "") > ALT_MAX[c]):
                ctx.error(
                    alt_line,
                    f"post '{post.id}': alt text #{n} is {len(ref.alt)} characters; "
                    f"{NAMES[channel]} takes at most {ALT_MAX[channel]}",
                )
        if ref.is_spec:
            if not ref.path.is_file():
                ctx.error(line, f"post '{post.id}': infographic spec {shown} not found")
                continue
            readable.append((ref, None))
            continue
        if ref.path not in ctx.images:
            ctx.images[ref.path] = media_checks.inspect_image(ref.path)
        info = ctx.images[ref.path]
        if isinstance(info, str):
            ctx.error(line, f"post '{post.id}': media {shown}: {info}")
            continue
        readable.append((ref, info.bytes))
    line = ctx.index.line("post", i, "media")
    for channel in post.channels:
        if channel not in LIMITS:
            continue
        most, max_bytes = LIMITS[channel]
        name = NAMES[channel]
        if len(post.media) > most:
            ctx.error(line, f"post '{post.id}': {len(post.media)} images, but {name} takes at most {most} per post")
        for ref, size in readable:
            if size is not None and max_bytes is not None and size > max_bytes:
                ctx.error(
                    line,
                    f"post '{post.id}': {ctx.show(ref.path)} is {size / 1048576:.1f} MB; {name} takes images up to {max_bytes // 1048576} MB",
                )


def _duplicates(ctx: Context) -> None:
    """The same text twice on one channel, within each language (a post with ``lang`` counts in its language)."""
    default = ctx.default_language
    by_lang: dict[str, list[tuple[str, dict[str, str], int]]] = {}
    for i, p in ctx.built_posts:
        line = ctx.index.line("post", i, "message")
        for lang, texts in (p.texts_by_lang or {p.lang: p.texts}).items():
            by_lang.setdefault(lang, []).append((f"post '{p.id}'", texts, line))
    pledge_line = ctx.index.line("pledge", "message")
    by_lang.setdefault(default, []).append(("[pledge]", ctx.pledge_texts, pledge_line))
    for lang, texts in ctx.pledge_texts_by_lang.items():
        by_lang.setdefault(lang, []).append(("[pledge]", texts, pledge_line))
    for lang, owners in by_lang.items():
        _duplicates_in(ctx, owners, "" if lang == default else f"{lang!r} ")


def _duplicates_in(ctx: Context, owners: list[tuple[str, dict[str, str], int]], which: str) -> None:
    for channel in NO_DUPLICATES:
        first: dict[str, str] = {}
        name = NAMES[channel]
        for label, texts, line in owners:
            text = texts.get(channel)
            if text is None:
                continue
            key = " ".join(text.split()).casefold()
            if key in first:
                ctx.error(
                    line, f"{label} has the same {which}text on {channel} as {first[key]}; {name} rejects duplicates"
                )
            else:
                first[key] = label


def _variants(ctx: Context) -> None:
    seen: dict[tuple[str, str], str] = {}
    for shown, text, lang in ctx.variant_texts:
        weighted = x_weighted_length(text)
        if weighted > X_MAX:
            ctx.error(1, f"pledge variant too long for X: weighted length {weighted} > {X_MAX}", shown)
        key = (lang, " ".join(text.split()).casefold())
        if key in seen:
            ctx.warn(
                1,
                f"pledge variant is the same text as {seen[key]}; supporters should not all post the same words",
                shown,
            )
        else:
            seen[key] = shown


def _past(ctx: Context, campaign: Campaign, now: datetime) -> None:
    for i, post in ctx.built_posts:
        if post.at is not None and post.at < now:
            ctx.warn(
                ctx.index.line("post", i, "at"),
                f"post '{post.id}' is in the past ({post.at.isoformat()}); it will not be posted",
            )
        if post.cron is not None and post.end is not None and post.end < now:
            ctx.warn(
                ctx.index.line("post", i, "end"),
                f"post '{post.id}' ended in the past ({post.end.isoformat()}); it will not be posted",
            )
    pledge = campaign.pledge
    if pledge is not None:
        if pledge.deadline < now:
            ctx.warn(
                ctx.index.line("pledge", "deadline"),
                f"the pledge deadline is in the past ({pledge.deadline.isoformat()})",
            )
        if pledge.fire_at < now:
            ctx.warn(
                ctx.index.line("pledge", "fire_at"),
                f"the pledge release (fire_at) is in the past ({pledge.fire_at.isoformat()})",
            )
