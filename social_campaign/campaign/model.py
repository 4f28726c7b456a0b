"""The loaded campaign: plain, immutable values built by ``campaign/loader.py`` and read by everything else.

Times are timezone-aware. ``Post.at`` is the post's instant (from the campaign's time zone unless the TOML value had an
offset); cron posts have ``cron`` set and produce instants through ``Post.occurrences``. Paths are absolute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

#: Channels a post may name. mastodon and bluesky come later.
CHANNELS = ("outbox", "x", "facebook")


@dataclass(frozen=True)
class MediaRef:
    """One media item of a post: an image file, or an infographic spec (``*.toml``) rendered per channel."""

    path: Path
    alt: str | None
    line: int = 0

    @property
    def is_spec(self) -> bool:
        return self.path.suffix.lower() == ".toml"


@dataclass(frozen=True)
class Post:
    id: str
    channels: tuple[str, ...]
    message: str  # message name: messages/<message>.md, overridden by messages/<message>.<channel>.md
    texts: dict[str, str]  # channel -> rendered text ({link} and {hashtags} filled in)
    media: tuple[MediaRef, ...] = ()
    at: datetime | None = None
    cron: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    line: int = 0
    tz: ZoneInfo | None = None  # the campaign's zone: cron fields are wall-clock times in it

    def text_for(self, channel: str) -> str:
        return self.texts[channel]

    def occurrences(self, after: datetime, until: datetime) -> list[datetime]:
        """UTC instants with ``after <= t < until``: ``[at]`` if it falls in the window, or the cron's firings."""
        if self.at is not None:
            at = self.at.astimezone(UTC)
            return [at] if after <= at < until else []
        if self.cron is None or self.tz is None:
            return []
        from social_campaign.campaign.times import cron_occurrences

        return cron_occurrences(self.cron, self.tz, self.start, self.end, after, until)


@dataclass(frozen=True)
class PledgeSpec:
    """``[pledge]``: the all-or-nothing release. ``message`` names messages/<message>.md (+ .v2.md … variants)."""

    goal: int
    deadline: datetime
    fire_at: datetime
    message: str
    channels: tuple[str, ...] = ("outbox",)
    variants: tuple[str, ...] = ()  # rendered texts of messages/<message>.md, <message>.v2.md, … in order
    org_texts: dict[str, str] = field(default_factory=dict)  # channel -> text the organisation's accounts post
    line: int = 0
    minimum_age: int | None = None  # pledgers must tick "I am N or older" (supporters/consent.py)


@dataclass(frozen=True)
class BadgeSpec:
    """``[badge]``: the profile-photo frame."""

    overlay: Path
    size: int = 400
    download_size: int = 1080
    shape: str = "circle"  # circle | square
    line: int = 0


@dataclass(frozen=True)
class Campaign:
    slug: str
    name: str
    timezone: ZoneInfo
    hashtags: tuple[str, ...]
    link: str | None
    posts: tuple[Post, ...]
    root: Path  # folder holding schedule.toml
    source: Path  # schedule.toml itself
    content_hash: str  # sha256 over schedule.toml and every file it uses
    pledge: PledgeSpec | None = None
    badge: BadgeSpec | None = None
    description: str = ""
    organisation: str = ""  # who runs it: the pledge page's "Keep me informed by <organisation>" box
    co_sponsors: tuple[str, ...] = ()  # one more such box each (supporters/consent.py)
