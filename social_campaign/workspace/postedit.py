"""A post's edit form (``/admin/c/{slug}/posts/{post_id}``) as data, and the form sent back as file changes.

:func:`load` reads what the form shows from the files on disk: the post's ``[[post]]`` (through tomlkit, so the
values are the ones written), its message files (the default text ``messages/<name>.md`` of the post's language,
the per-channel overrides ``<name>[.<lang>].<channel>.md``, the other languages' texts ``<name>.<lang>.md``).
:func:`changes_from` turns the submitted fields into ``changes`` for :func:`~social_campaign.workspace.save.save_files`:
only files whose text really changed are in it (a textarea's ``\\r\\n`` and a missing final newline do not count), an
emptied override deletes its file. :func:`field_errors` places each ``check`` problem at the form field it is about
(by file, and by line of the post in ``schedule.toml``), the rest at the top of the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from social_campaign.campaign.model import CHANNELS, Campaign
from social_campaign.campaign.toml_lines import LineIndex
from social_campaign.errors import BadRequest, Problem
from social_campaign.i18n import _
from social_campaign.workspace import tomledit

__all__ = ["FIELD_KEYS", "PostForm", "changes_from", "field_errors", "known_channels", "load", "local_value"]

FIELD_KEYS = {"at": "at", "channels": "channels", "message": "message", "media": "media_file", "alt": "media_alt",
              "lang": "message", "cron": "at", "start": "at", "end": "at", "id": "top"}


@dataclass
class PostForm:
    """What the edit page shows: ``texts`` maps a field name (``message``, ``message_<channel>``,
    ``message_<lang>``) to its text and ``files`` the same names to the file each is saved in."""

    post_id: str
    index: int
    at: str  # datetime-local value in the campaign's zone ("" for a cron post)
    at_seconds: bool
    cron: str
    channels: list[str]
    message: str
    lang: str
    fold: str = ""  # the submitted at_fold: "0" the first of a fold's two instants, "1" the second
    texts: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


def known_channels(campaign: Campaign) -> list[str]:
    """x, facebook, outbox, then any other channel the campaign's posts or ``[pledge]`` name."""
    found = ["x", "facebook", "outbox"] + [c for c in CHANNELS if c not in ("x", "facebook", "outbox")]
    for post in campaign.posts:
        found.extend(c for c in post.channels if c not in found)
    if campaign.pledge is not None:
        found.extend(c for c in campaign.pledge.channels if c not in found)
    return found


def local_value(value: Any, campaign: Campaign) -> tuple[str, bool]:
    """A TOML date-time as a ``datetime-local`` value in the campaign's zone, and whether it needs seconds."""
    if not isinstance(value, datetime):
        return "", False
    local = value.astimezone(campaign.timezone) if value.tzinfo is not None else value
    seconds = local.second != 0
    return local.strftime("%Y-%m-%dT%H:%M:%S" if seconds else "%Y-%m-%dT%H:%M"), seconds


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").removesuffix("\n")
    except (OSError, UnicodeDecodeError):
        return ""


def load(campaign: Campaign, post_id: str, doc: Any | None = None) -> PostForm:
    """The form of post ``post_id`` from the files on disk; :class:`NotFound` when there is no such post."""
    segments = tomledit.Segments(campaign.source.read_text(encoding="utf-8"))
    doc = doc if doc is not None else segments.post(post_id)
    table = tomledit.find_post(doc, post_id)
    index = segments.post_ids().index(post_id)
    default = campaign.languages[0]
    lang = str(table.get("lang") or default)
    message = str(table.get("message", ""))
    at, seconds = local_value(table.get("at"), campaign)
    chans = [str(c) for c in table.get("channels", [])]
    form = PostForm(post_id, index, at, seconds, str(table.get("cron", "")), chans, message, lang)
    infix = "" if lang == default else f".{lang}"
    form.files["message"] = f"messages/{message}{infix}.md"
    for channel in known_channels(campaign):
        form.files[f"message_{channel}"] = f"messages/{message}{infix}.{channel}.md"
    if "lang" not in table:
        for other in campaign.languages[1:]:
            form.files[f"message_{other}"] = f"messages/{message}.{other}.md"
    form.texts = {name: _read(campaign.root / rel) for name, rel in form.files.items()}
    return form


def _normal(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")


def changes_from(campaign: Campaign, form: PostForm, fields: dict[str, str]) -> dict[str, str | bytes | None]:
    """The message files the submitted ``fields`` change (text + final newline; ``None``: delete an override)."""
    changes: dict[str, str | bytes | None] = {}
    for name, rel in form.files.items():
        if name not in fields:
            continue
        new = _normal(fields[name])
        old = form.texts.get(name, "")
        exists = (campaign.root / rel).is_file()
        if name == "message" or name.removeprefix("message_") in campaign.languages:
            if new != old or not exists:
                if not new.strip():
                    raise BadRequest(_("Please write the text of this post."), field=name)
                changes[rel] = new + "\n"
        elif not new.strip():
            if exists:
                changes[rel] = None  # an emptied override: the channel gets the default text
        elif new != old or not exists:
            changes[rel] = new + "\n"
    return changes


def field_errors(problems: list[Problem], form: PostForm, schedule_text: str) -> tuple[dict[str, list[str]], list[str]]:
    """``(field -> messages, messages for the top of the page)`` of the errors among ``problems``."""
    by_file = {rel: name for name, rel in form.files.items()}
    lines: dict[int, str] = {}
    try:
        index = LineIndex(schedule_text)
        for key, name in FIELD_KEYS.items():
            if ("post", form.index, key) in index.lines:
                lines.setdefault(index.lines[("post", form.index, key)], name)
    except ValueError:
        pass
    at_fields: dict[str, list[str]] = {}
    top: list[str] = []
    for problem in problems:
        if problem.severity != "error":
            continue
        found = by_file.get(problem.path) if problem.path != "schedule.toml" else lines.get(problem.line)
        if found is None or found == "top":
            top.append(str(problem))
        else:
            at_fields.setdefault(found, []).append(problem.message)
    return at_fields, top
