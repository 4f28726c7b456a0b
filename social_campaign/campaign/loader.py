"""Read ``schedule.toml`` + ``messages/`` + media into a :class:`Campaign`, collecting every problem on the way.

:func:`analyse` never raises for bad input: it returns the campaign (``None`` when the file cannot be understood at
all) and a list of :class:`Problem` (errors and warnings, each ``path:line: message``). :func:`load_campaign` raises
:class:`CampaignError` holding every problem when any of them is an error. The structural rules (keys, types, times,
files) live here; the content rules (lengths, media limits, duplicates, pledge and badge) in ``campaign/rules.py``.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from social_campaign.campaign import media as media_checks
from social_campaign.campaign import messages as msgs
from social_campaign.campaign.model import CHANNELS, BadgeSpec, Campaign, MediaRef, PledgeSpec, Post
from social_campaign.campaign.times import LocalTimeError, cron_trigger, localize, zone
from social_campaign.campaign.toml_lines import LineIndex, TomlSyntaxError, parse_toml
from social_campaign.errors import CampaignError, Problem

__all__ = ["Context", "analyse", "load_campaign"]

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
TOP_KEYS = ("campaign", "post", "pledge", "badge")
CAMPAIGN_KEYS = ("slug", "name", "timezone", "hashtags", "link", "description")
POST_KEYS = ("id", "at", "cron", "start", "end", "channels", "message", "media", "alt")
PLEDGE_KEYS = ("goal", "deadline", "fire_at", "message", "channels")
BADGE_KEYS = ("overlay", "size", "download_size", "shape")
SHAPES = ("circle", "square")
_TYPE_NAMES = {str: "a string", int: "a whole number", list: "a list", bool: "true or false"}


@dataclass
class Context:
    """What the rules need besides the campaign: where things are written, and the problems found so far."""

    source: Path  # schedule.toml as given
    root: Path  # its folder, absolute
    index: LineIndex
    problems: list[Problem] = field(default_factory=list)
    tz: ZoneInfo | None = None
    used: set[Path] = field(default_factory=set)
    #: (post id, channel) -> (shown path, line) of the text's source, for length and duplicate problems
    text_sources: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    #: every [[post]] built, also incomplete ones (with its table position), so every rule sees every post
    built_posts: list[tuple[int, Post]] = field(default_factory=list)
    #: the pledge's organisation texts per channel, also when [pledge] has other errors
    pledge_texts: dict[str, str] = field(default_factory=dict)
    #: message file -> its rendered text (None when it has errors)
    rendered: dict[Path, str | None] = field(default_factory=dict)
    #: image file -> what inspecting it found (each file is decoded once, however many posts use it)
    images: dict[Path, Any] = field(default_factory=dict)
    #: pledge variant file shown path -> rendered text
    variant_texts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return str(self.source)

    def error(self, line: int, message: str, path: str | None = None) -> None:
        self.problems.append(Problem(path or self.path, line, message, "error"))

    def warn(self, line: int, message: str, path: str | None = None) -> None:
        self.problems.append(Problem(path or self.path, line, message, "warning"))

    def show(self, absolute: Path) -> str:
        """A file of the campaign as the user would name it: the schedule's folder (as given) + the relative path."""
        try:
            rel = absolute.relative_to(self.root)
        except ValueError:
            return str(absolute)
        return str(self.source.parent / rel)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def load_campaign(path: Path | str) -> Campaign:
    """The campaign at ``path`` (schedule.toml); :class:`CampaignError` with every problem if any is an error."""
    campaign, problems = analyse(Path(path))
    if campaign is None or any(p.severity == "error" for p in problems):
        raise CampaignError([p for p in problems if p.severity == "error"] or problems)
    return campaign


def analyse(path: Path, now: datetime | None = None) -> tuple[Campaign | None, list[Problem]]:
    """Load and check ``path``; ``now`` (aware) enables the times-in-the-past warnings."""
    from social_campaign.campaign import rules

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
    ctx = Context(source=path, root=path.resolve().parent, index=LineIndex(source))
    campaign = _build(ctx, doc, raw)
    rules.check_all(ctx, campaign, now)
    if ctx.has_errors:
        return None, ctx.problems
    return campaign, ctx.problems


# --- helpers ---------------------------------------------------------------------------------------------------------


def unknown_keys(ctx: Context, table: dict[str, Any], allowed: tuple[str, ...], where: str, *path: str | int) -> None:
    for key in table:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(allowed)})"
        ctx.error(ctx.index.line(*path, key), f"unknown key '{key}' in {where}{hint}")


def typed(
    ctx: Context, table: dict[str, Any], key: str, kind: type, where: str, *path: str | int, required: bool = False
) -> Any:
    """``table[key]`` if it has type ``kind`` (bool is not an int); otherwise an error and None."""
    line = ctx.index.line(*path, key)
    if key not in table:
        if required:
            ctx.error(ctx.index.line(*path), f"{where} is missing required key '{key}'")
        return None
    value = table[key]
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        ctx.error(line, f"'{key}' in {where} must be {_TYPE_NAMES.get(kind, kind.__name__)}, not {_describe(value)}")
        return None
    return value


def string_list(
    ctx: Context, table: dict[str, Any], key: str, where: str, *path: str | int, required: bool = False
) -> list[str] | None:
    value = typed(ctx, table, key, list, where, *path, required=required)
    if value is None:
        return None
    if not all(isinstance(v, str) for v in value):
        bad = next(v for v in value if not isinstance(v, str))
        ctx.error(
            ctx.index.line(*path, key), f"'{key}' in {where} must be a list of strings, but holds {_describe(bad)}"
        )
        return None
    return list(value)


def instant(
    ctx: Context, table: dict[str, Any], key: str, where: str, *path: str | int, required: bool = False
) -> datetime | None:
    """A TOML date-time as an aware instant (local times in the campaign's zone), or None after an error."""
    line = ctx.index.line(*path, key)
    if key not in table:
        if required:
            ctx.error(ctx.index.line(*path), f"{where} is missing required key '{key}'")
        return None
    value = table[key]
    if not isinstance(value, datetime):
        hint = ""
        if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d", value):
            hint = " (remove the quotes: TOML date-times are written bare)"
        elif isinstance(value, date | time):
            hint = " (give both date and time)"
        ctx.error(
            line, f"'{key}' in {where} must be a date-time such as 2027-11-18T10:00:00, not {_describe(value)}{hint}"
        )
        return None
    if value.tzinfo is not None:
        return value
    if ctx.tz is None:
        return None  # the time zone is already reported as unknown
    try:
        return localize(value, ctx.tz)
    except LocalTimeError as exc:
        ctx.error(line, f"'{key}' in {where}: {exc}")
        return None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, datetime):
        return f"the date-time {value.isoformat()}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, time):
        return f"the time {value.isoformat()}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def channels(
    ctx: Context, table: dict[str, Any], where: str, *path: str | int, required: bool, default: tuple[str, ...] = ()
) -> tuple[str, ...]:
    values = string_list(ctx, table, "channels", where, *path, required=required)
    if values is None:
        return default
    line = ctx.index.line(*path, "channels")
    if not values:
        ctx.error(line, f"'channels' in {where} is empty (choose from {', '.join(CHANNELS)})")
    out: list[str] = []
    for name in values:
        if name not in CHANNELS:
            close = difflib.get_close_matches(name.lower(), CHANNELS, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            ctx.error(line, f"unknown channel '{name}' in {where} (choose from {', '.join(CHANNELS)}){hint}")
        elif name in out:
            ctx.error(line, f"channel '{name}' is listed twice in {where}")
        else:
            out.append(name)
    return tuple(out)


# --- building --------------------------------------------------------------------------------------------------------


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
    values: dict[str, str | None] = {"link": link, "hashtags": " ".join(hashtags)}

    posts = _posts(ctx, doc, values)
    pledge = _pledge(ctx, doc, values)
    badge = _badge(ctx, doc)
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
    )


def _text(ctx: Context, file: Path, values: dict[str, str | None]) -> str | None:
    """The rendered text of a message file (read and checked once, however many channels use it)."""
    if file not in ctx.rendered:
        ctx.rendered[file] = _render_file(ctx, file, values)
    return ctx.rendered[file]


def _render_file(ctx: Context, file: Path, values: dict[str, str | None]) -> str | None:
    ctx.used.add(file)
    shown = ctx.show(file)
    try:
        template = msgs.read_message(file)
    except UnicodeDecodeError:
        ctx.error(1, "not UTF-8 text", shown)
        return None
    except OSError as exc:
        ctx.error(1, f"cannot read: {exc.strerror or exc}", shown)
        return None
    text, problems = msgs.render(template, values)
    for problem in problems:
        ctx.error(problem.line, problem.message, shown)
    if not text.strip():
        ctx.error(1, "message is empty", shown)
    return text


def _posts(ctx: Context, doc: dict[str, Any], values: dict[str, str | None]) -> list[Post]:
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
                text = _text(ctx, file, values)
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


def _pledge(ctx: Context, doc: dict[str, Any], values: dict[str, str | None]) -> PledgeSpec | None:
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
    message = typed(ctx, table, "message", str, where, "pledge", required=True)
    variants: list[str] = []
    org_texts: dict[str, str] = {}
    if message is not None:
        messages_dir = ctx.root / "messages"
        files = msgs.variant_files(messages_dir, message)
        if not files:
            ctx.error(
                ctx.index.line("pledge", "message"),
                f"message file {ctx.show(messages_dir / (message + '.md'))} not found",
            )
        for file in files:
            text = _text(ctx, file, values)
            if text is not None:
                variants.append(text)
                ctx.variant_texts.append((ctx.show(file), text))
        for channel in chans:
            channel_file = msgs.channel_file(messages_dir, message, channel)
            if channel_file is not None:
                text = _text(ctx, channel_file, values)
                if text is not None:
                    org_texts[channel] = text
                    ctx.pledge_texts[channel] = text
                    ctx.text_sources[("[pledge]", channel)] = (ctx.show(channel_file), 1)
    if goal is None or deadline is None or fire_at is None or message is None or not variants:
        return None
    return PledgeSpec(
        goal=goal,
        deadline=deadline,
        fire_at=fire_at,
        message=message,
        channels=chans,
        variants=tuple(variants),
        org_texts=org_texts,
        line=ctx.index.line("pledge"),
    )


def _badge(ctx: Context, doc: dict[str, Any]) -> BadgeSpec | None:
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
