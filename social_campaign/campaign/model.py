"""The loaded campaign: plain, immutable values built by ``campaign/loader.py`` and read by everything else.

Times are timezone-aware. ``Post.at`` is the post's instant (from the campaign's time zone unless the TOML value had an
offset); cron posts have ``cron`` set and produce instants through ``Post.occurrences``. Paths are absolute.

Languages (``[campaign] languages``, the first is the default; file names in ``campaign/languages.py``): every text
field keeps the default language's words (``Campaign.name``/``description``, ``PledgeSpec.variants`` and
``org_texts``; ``Post.texts`` are in ``Post.lang``), and the ``*_in``/``*_for`` methods give another language's,
falling back to the default language's when the campaign has none in it. A language is matched exactly, then by its
first subtag (``fr-CA`` -> ``fr``); ``None`` or an unknown one means the default.

- ``Campaign.name_in(lang)``, ``Campaign.description_in(lang)``: from ``[campaign.translations.<lang>]``.
- ``Post.lang``: the language the organisation posts it in (``[[post]] lang``, default: the campaign's default);
  ``Post.texts`` are in it. ``Post.texts_in(lang)``: a post without ``lang`` has its message in every language.
- ``PledgeSpec.variants_for(lang)``: the supporters' texts in ``lang`` (``<message>.<lang>.md``,
  ``<message>.v2.<lang>.md`` ...; ``check`` wants at least the default's, a language may have more).
  ``PledgeSpec.org_texts_for(lang)``: channel -> the organisation's text in ``lang``.
  ``PledgeSpec.share_text(lang, channel, variant_index)``: the one text a supporter shares, what the release, the
  share page and auto-share use: variant ``variant_index`` modulo the language's number of variants, or (with no
  variants) the organisation's text for ``channel``.
- Card specs: ``campaign.languages.card_spec_for(spec_path, lang)`` gives the ``<stem>.<lang>.toml`` translation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from social_campaign.campaign.languages import match

#: Channels a post (and ``[pledge] channels``) may name; the publishers register under these names.
CHANNELS = ("outbox", "x", "facebook", "mastodon", "bluesky")


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
    lang: str = "en"  # the language it is posted in: [[post]] lang, else the campaign's default
    texts_by_lang: dict[str, dict[str, str]] = field(default_factory=dict)  # lang -> channel -> text, every language

    def text_for(self, channel: str) -> str:
        return self.texts[channel]

    def texts_in(self, lang: str | None) -> dict[str, str]:
        """channel -> text in ``lang`` (the posted texts when the post has none in it)."""
        found = match(lang, tuple(self.texts_by_lang))
        return self.texts_by_lang[found] if found is not None else self.texts

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
    variants_by_lang: dict[str, tuple[str, ...]] = field(default_factory=dict)  # lang -> its variants (every language)
    org_texts_by_lang: dict[str, dict[str, str]] = field(default_factory=dict)  # lang -> channel -> text

    def variants_for(self, lang: str | None) -> tuple[str, ...]:
        """The supporters' texts in ``lang``; the default language's (``variants``) when it has none."""
        found = match(lang, tuple(self.variants_by_lang))
        return (self.variants_by_lang[found] if found is not None else ()) or self.variants

    def org_texts_for(self, lang: str | None) -> dict[str, str]:
        """channel -> the organisation's text in ``lang``; the default language's (``org_texts``) when it has none."""
        found = match(lang, tuple(self.org_texts_by_lang))
        return (self.org_texts_by_lang[found] if found is not None else {}) or self.org_texts

    def share_text(self, lang: str | None, channel: str | None, variant_index: int) -> str:
        """The text a supporter shares in ``lang``: variant ``variant_index`` (modulo the language's count), or
        without variants the organisation's text for ``channel`` (or any channel's)."""
        variants = self.variants_for(lang)
        if variants:
            return variants[variant_index % len(variants)]
        texts = self.org_texts_for(lang)
        return texts.get(channel or "", "") or next(iter(texts.values()), "")


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
    languages: tuple[str, ...] = ("en",)  # [campaign] languages: the first is the default (i18n/negotiate.py)
    names: dict[str, str] = field(default_factory=dict)  # lang -> name, from [campaign.translations.<lang>]
    descriptions: dict[str, str] = field(default_factory=dict)  # lang -> description, likewise

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else "en"

    def language_for(self, lang: str | None) -> str:
        """The campaign's language that ``lang`` names (``fr-CA`` -> ``fr``), else the default."""
        return match(lang, self.languages) or self.default_language

    def name_in(self, lang: str | None) -> str:
        """The campaign's name in ``lang``; ``name`` (the default language's) when it has no translated one."""
        return self.names.get(self.language_for(lang)) or self.name

    def description_in(self, lang: str | None) -> str:
        """The campaign's story in ``lang``; ``description`` when it has no translated one."""
        return self.descriptions.get(self.language_for(lang)) or self.description
