"""The state of one ``check``/load run: where the schedule is, its line index, and every problem found so far.

Built by ``campaign/loader.py``; filled by the table builders (``fields.py``, ``posts.py``, ``extras.py``) and read by
the content rules (``rules.py``), so every rule sees every post, also incomplete ones, and every problem is reported at
once as ``path:line: message``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from social_campaign.campaign.model import Post
from social_campaign.campaign.toml_lines import LineIndex
from social_campaign.errors import Problem
from social_campaign.text import MASTODON_MAX

__all__ = ["Context"]


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
    #: pledge variants as (shown path, rendered text, language), in order
    variant_texts: list[tuple[str, str, str]] = field(default_factory=list)
    #: [campaign] languages (the first is the default), read before the posts and the pledge
    languages: tuple[str, ...] = ("en",)
    #: the pledge's organisation texts in the other languages: lang -> channel -> text
    pledge_texts_by_lang: dict[str, dict[str, str]] = field(default_factory=dict)
    #: card spec -> its own problems (each spec is checked and reported once, however many posts show it)
    specs: dict[Path, list[Problem]] = field(default_factory=dict)
    #: card specs (as written in the posts) -> (line of the first use, the languages posts show it in)
    cards: dict[Path, tuple[int, set[str]]] = field(default_factory=dict)
    #: the Mastodon server's limit (graphemes): ``settings.mastodon_max_chars`` when the caller has settings
    mastodon_max: int = MASTODON_MAX

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else "en"

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
