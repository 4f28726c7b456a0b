"""Read ``schedule.toml`` + ``messages/`` + media into a :class:`Campaign`, collecting every problem on the way.

:func:`analyse` never raises for bad input: it returns the campaign (``None`` when it has errors or the file cannot be
understood at all) and a list of :class:`Problem` (errors and warnings, each ``path:line: message``).
:func:`load_campaign` raises :class:`CampaignError` holding every problem when any of them is an error.

This module reads the file and the ``[campaign]`` table and assembles the result (``languages`` and the translations
tables are read by ``translations.py``, before the messages, which come in every language); the other tables are
built by ``posts.py`` (``[[post]]``) and ``extras.py`` (``[pledge]``, ``[badge]``) with the readers in ``fields.py``, and the
content rules (lengths, media limits, duplicates, pledge and badge) run in ``rules.py`` over the :class:`Context`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from social_campaign.campaign import rules
from social_campaign.campaign.context import Context
from social_campaign.campaign.extras import build_badge, build_pledge
from social_campaign.campaign.fields import string_list, typed, unknown_keys
from social_campaign.campaign.model import Campaign
from social_campaign.campaign.posts import build_posts
from social_campaign.campaign.times import zone
from social_campaign.campaign.toml_lines import LineIndex, TomlSyntaxError, parse_toml
from social_campaign.campaign.translations import read_languages, read_translations
from social_campaign.errors import CampaignError, Problem
from social_campaign.text import MASTODON_MAX

__all__ = ["analyse", "load_campaign"]

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
TOP_KEYS = ("campaign", "post", "pledge", "badge")
CAMPAIGN_KEYS = (
    "slug", "name", "timezone", "hashtags", "link", "description", "organisation", "co_sponsors", "languages",
    "translations",
)
ORG_MAX = 200  # ConsentText.organisation
MAX_CO_SPONSORS = 10


def load_campaign(path: Path | str) -> Campaign:
    """The campaign at ``path`` (schedule.toml); :class:`CampaignError` with every problem if any is an error."""
    campaign, problems = analyse(Path(path))
    if campaign is None or any(p.severity == "error" for p in problems):
        raise CampaignError([p for p in problems if p.severity == "error"] or problems)
    return campaign


def analyse(
    path: Path, now: datetime | None = None, *, mastodon_max: int = MASTODON_MAX
) -> tuple[Campaign | None, list[Problem]]:
    """Load and check ``path``; ``now`` (aware) enables the times-in-the-past warnings; ``mastodon_max`` is the
    Mastodon server's limit (``settings.mastodon_max_chars``)."""
    shown = str(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        return None, [Problem(shown, 1, "is a folder, not a schedule file (give the path of schedule.toml)")]
    except FileNotFoundError:
        return None, [Problem(shown, 1, "file not found")]
    except OSError as exc:
        return None, [Problem(shown, 1, f"cannot read: {exc.strerror or exc}")]
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return None, [Problem(shown, line, "not UTF-8 text")]
    try:
        doc = parse_toml(source)
    except TomlSyntaxError as exc:
        return None, [Problem(shown, exc.line, exc.message)]
    ctx = Context(source=path, root=path.resolve().parent, index=LineIndex(source), mastodon_max=mastodon_max)
    campaign = _build(ctx, doc, raw)
    rules.check_all(ctx, campaign, now)
    if ctx.has_errors:
        return None, ctx.problems
    return campaign, ctx.problems


def _build(ctx: Context, doc: dict[str, Any], raw: bytes) -> Campaign | None:
    """The campaign, also when parts have errors (the rules still check the rest); None without a [campaign] table."""
    unknown_keys(ctx, doc, TOP_KEYS, "the schedule")
    head = doc.get("campaign")
    if not isinstance(head, dict):
        if head is None:
            ctx.error(1, "missing the [campaign] table (slug, name, timezone, hashtags)")
        else:
            ctx.error(ctx.index.line("campaign"), "'campaign' must be a table: write [campaign] on its own line")
        return None
    where = "[campaign]"
    unknown_keys(ctx, head, CAMPAIGN_KEYS, where, "campaign")
    slug = typed(ctx, head, "slug", str, where, "campaign", required=True)
    if slug is not None and not SLUG.match(slug):
        ctx.error(
            ctx.index.line("campaign", "slug"),
            f"slug {slug!r} must be lower-case letters, digits and '-' (at most 63, starting with a letter or digit)",
        )
    name = typed(ctx, head, "name", str, where, "campaign", required=True)
    if name is not None and not name.strip():
        ctx.error(ctx.index.line("campaign", "name"), "name is empty")
    tz_name = typed(ctx, head, "timezone", str, where, "campaign", required=True)
    if tz_name is not None:
        try:
            ctx.tz = zone(tz_name)
        except ValueError as exc:
            ctx.error(ctx.index.line("campaign", "timezone"), str(exc))
    hashtags = string_list(ctx, head, "hashtags", where, "campaign") or []
    for tag in hashtags:
        if not re.fullmatch(r"#[^\s#]+", tag):
            ctx.error(
                ctx.index.line("campaign", "hashtags"), f"hashtag {tag!r} must start with '#' and contain no spaces"
            )
    link = typed(ctx, head, "link", str, where, "campaign")
    if link is not None:
        parsed = urlparse(link)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            ctx.error(ctx.index.line("campaign", "link"), f"link {link!r} must be an http:// or https:// URL")
    description = typed(ctx, head, "description", str, where, "campaign") or ""
    organisation, co_sponsors = _organisations(ctx, head)
    ctx.languages = read_languages(ctx, head)
    names, descriptions = read_translations(ctx, head, ctx.languages, description)
    values: dict[str, str | None] = {"link": link, "hashtags": " ".join(hashtags)}

    posts = build_posts(ctx, doc, values)
    pledge = build_pledge(ctx, doc, values)
    badge = build_badge(ctx, doc)
    digest = hashlib.sha256(raw)
    for used in sorted(ctx.used):
        try:
            data = used.read_bytes()
        except OSError:
            data = b""
        digest.update(
            b"\0" + str(used.relative_to(ctx.root) if used.is_relative_to(ctx.root) else used).encode() + b"\0"
        )
        digest.update(hashlib.sha256(data).digest())
    return Campaign(
        slug=slug or "",
        name=name or "",
        timezone=ctx.tz or ZoneInfo("UTC"),  # only returned without errors, so the real zone
        hashtags=tuple(hashtags),
        link=link,
        posts=tuple(posts),
        root=ctx.root,
        source=ctx.source.resolve(),
        content_hash=digest.hexdigest(),
        pledge=pledge,
        badge=badge,
        description=description,
        organisation=organisation,
        co_sponsors=co_sponsors,
        languages=ctx.languages,
        names=names,
        descriptions=descriptions,
    )


def _organisations(ctx: Context, head: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """``organisation`` and ``co_sponsors``: the names in the pledge page's "Keep me informed by …" boxes."""
    where = "[campaign]"
    organisation = (typed(ctx, head, "organisation", str, where, "campaign") or "").strip()
    names = string_list(ctx, head, "co_sponsors", where, "campaign") or []
    line, list_line = ctx.index.line("campaign", "organisation"), ctx.index.line("campaign", "co_sponsors")
    if "organisation" in head and isinstance(head["organisation"], str) and not organisation:
        ctx.error(line, "organisation is empty (leave the key out for no \"Keep me informed\" box)")
    if organisation and not _good_name(organisation):
        ctx.error(line, f"organisation must be one line of at most {ORG_MAX} printable characters")
    sponsors: list[str] = []
    seen = {organisation.casefold()}
    for name in (n.strip() for n in names):
        if not name or not _good_name(name):
            ctx.error(list_line, f"co_sponsors: each name must be one line of 1 to {ORG_MAX} printable characters")
        elif name.casefold() in seen:
            ctx.error(list_line, f"co_sponsors: {name!r} is named twice (or is the organisation)")
        else:
            seen.add(name.casefold())
            sponsors.append(name)
    if names and not organisation:
        ctx.error(list_line, "co_sponsors needs [campaign] organisation too (its box comes first)")
    if len(names) > MAX_CO_SPONSORS:
        ctx.error(list_line, f"co_sponsors: at most {MAX_CO_SPONSORS} names, not {len(names)}")
    return organisation, tuple(sponsors)


def _good_name(name: str) -> bool:
    return len(name) <= ORG_MAX and name.isprintable()
