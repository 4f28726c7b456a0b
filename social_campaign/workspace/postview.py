"""What the posts pages show, and the edit form's fields applied to ``schedule.toml`` (``web/routes/admin_posts.py``).

The pages are server-rendered and work without JavaScript: each text has its weighted length per network next to it
(``workspace.preview.measure``: ``check``'s numbers) in an ``<output class="length" data-for="<textarea id>">`` that
``static/admin-editor.js`` keeps live. A time in a DST fold offers the two instants it names (``at_fold``: 0 the
first, 1 the second); a time in a gap is left to ``check``, which reports it at the ``at`` field.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from social_campaign.campaign.model import Campaign
from social_campaign.campaign.times import LocalTimeError, localize
from social_campaign.errors import BadRequest
from social_campaign.i18n import _, use
from social_campaign.models import User
from social_campaign.workspace import postedit, tomledit
from social_campaign.workspace.accounts import rank
from social_campaign.workspace.preview import Measure, measure

__all__ = ["apply_fields", "default_time", "diff_lines", "edit_context", "list_context", "starter_texts", "submitted"]

TEXT_START = 90


@dataclass(frozen=True)
class Row:
    """One post in the list."""

    id: str
    at: datetime | None
    cron: str
    channels: tuple[str, ...]
    states: list[tuple[str, str, int]]  # (state, label, rows)
    text: str


def _label(state: str) -> str:
    from social_campaign.workspace.deliveries import state_label

    return state_label(state)


def list_context(campaign: Campaign, states: Mapping[str, Mapping[str, int]], user: User) -> dict[str, Any]:
    rows = []
    for post in campaign.posts:
        text = next(iter(post.texts.values()), "")
        start = text if len(text) <= TEXT_START else text[:TEXT_START].rstrip() + "…"
        found = states.get(post.id, {})
        rows.append(Row(post.id, post.at, post.cron or "", post.channels,
                        [(s, _label(s), n) for s, n in sorted(found.items())], start))
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda r: (r.at or far, r.id))
    days: list[tuple[str, list[Row]]] = []
    for row in rows:
        key = row.at.astimezone(campaign.timezone).date().isoformat() if row.at else ""
        if not days or days[-1][0] != key:
            days.append((key, []))
        days[-1][1].append(row)
    return {"campaign": campaign, "days": days, "rows": rows, "can_edit": rank(user.role) >= rank("editor"),
            "errors": [], "conflict": "", "diff_lines": []}


def default_time(campaign: Campaign, moment: datetime) -> datetime:
    """A new post's time: 10:00 in the campaign's zone on the day of ``moment`` (local, naive)."""
    local = moment.astimezone(campaign.timezone).replace(hour=10, minute=0, second=0, microsecond=0, tzinfo=None)
    return local


def starter_texts(campaign: Campaign, post_id: str) -> dict[str, str | bytes | None]:
    """The message files of a new post: a first line in each of the campaign's languages."""
    out: dict[str, str | bytes | None] = {}
    default = campaign.languages[0]
    for lang in campaign.languages:
        with use(lang, default):
            text = _("Write the text of this post here. {hashtags} {link}")
        infix = "" if lang == default else f".{lang}"
        out[f"messages/{post_id}{infix}.md"] = text + "\n"
    return out


def copy_messages(campaign: Campaign, doc: Any, post_id: str, new_id: str) -> dict[str, str | bytes | None]:
    """A duplicated post's own message files (``messages/<new_id>[.<lang>][.<channel>].md``, copies of the
    original's), its ``message`` pointed at them and its channels set to the outbox alone: the networks refuse the
    same text twice, so the copy goes to them only once its text is changed."""
    table = tomledit.find_post(doc, new_id)
    message = str(table.get("message", ""))
    parts = set(campaign.languages) | set(postedit.known_channels(campaign))
    out: dict[str, str | bytes | None] = {}
    folder = campaign.root / "messages"
    for path in sorted(folder.glob(f"{message}.*")):
        middle = path.name[len(message):].removesuffix(".md")
        if path.suffix != ".md" or not all(part in parts for part in middle.split(".")[1:]):
            continue
        out[f"messages/{new_id}{middle}.md"] = path.read_bytes()
    tomledit.set_message(doc, new_id, new_id)
    tomledit.set_channels(doc, new_id, ["outbox"])
    return out


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """``(kind, line)`` of a unified diff: kind ``add``, ``del``, ``hunk``, ``file`` or ``same``."""
    out = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            out.append(("file", line))
        elif line.startswith("@@"):
            out.append(("hunk", line))
        elif line.startswith("+"):
            out.append(("add", line))
        elif line.startswith("-"):
            out.append(("del", line))
        else:
            out.append(("same", line))
    return out


def submitted(campaign: Campaign, form: postedit.PostForm, form_data: Any, fields: Mapping[str, str]) -> postedit.PostForm:
    """``form`` with the values the browser sent (what a page with an error shows again)."""
    sent = copy.deepcopy(form)
    if "at" in fields:
        sent.at = fields["at"].strip()
    if "channels_shown" in fields or "channels" in fields:
        chosen = set(form_data.getlist("channels")) if hasattr(form_data, "getlist") else {fields.get("channels", "")}
        sent.channels = [c for c in postedit.known_channels(campaign) if c in chosen]
    for name in sent.texts:
        if name in fields:
            sent.texts[name] = fields[name].replace("\r\n", "\n")
    sent.fold = fields.get("at_fold", "")
    return sent


def _parse_at(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(_("Please enter a date and time, such as 2027-11-20 12:00."), field="at") from None
    return parsed.replace(tzinfo=None)


def apply_fields(campaign: Campaign, doc: Any, form: postedit.PostForm, sent: postedit.PostForm,
                 form_data: Any) -> dict[str, str | bytes | None]:
    """Write the submitted time and channels into ``doc``; the message and media files that change."""
    if form.at and (sent.at != form.at or sent.fold in ("0", "1")):
        fold = int(sent.fold) if sent.fold in ("0", "1") and fold_choices(campaign, sent.at) else None
        tomledit.set_at(doc, form.post_id, _parse_at(sent.at), campaign.timezone, fold=fold)
    if not sent.channels:
        raise BadRequest(_("Please choose at least one channel."), field="channels")
    if set(sent.channels) != set(form.channels):
        tomledit.set_channels(doc, form.post_id, sent.channels)
    changes = postedit.changes_from(campaign, form, dict(sent.texts))
    try:
        from social_campaign.workspace.media import apply_media_fields
    except ImportError:  # the media fields are optional
        return changes
    post = next((p for p in campaign.posts if p.id == form.post_id), None)
    if post is not None and hasattr(form_data, "getlist"):
        files = {k: v for k, v in form_data.items() if not isinstance(v, str)}
        media = apply_media_fields(campaign, post, form_data, files)
        changes.update(media)
        media.apply_to(doc, form.post_id)
    return changes


def fold_choices(campaign: Campaign, value: str) -> list[tuple[str, str]]:
    """For a wall-clock time that happens twice: ``[("0", first instant), ("1", second instant)]``, else ``[]``."""
    try:
        naive = datetime.fromisoformat(value).replace(tzinfo=None)
        localize(naive, campaign.timezone)
    except LocalTimeError:
        first, second = (naive.replace(tzinfo=campaign.timezone, fold=f) for f in (0, 1))
        if first.astimezone(UTC).astimezone(campaign.timezone).replace(tzinfo=None) != naive:
            return []  # a gap, not a fold
        return [(str(n), f"{naive:%H:%M} {moment.tzname()} (UTC{_offset(moment)})")
                for n, moment in enumerate((first, second))]
    except ValueError:
        return []
    return []


def _offset(moment: datetime) -> str:
    minutes = int((moment.utcoffset() or timedelta(0)).total_seconds() // 60)
    return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _language_name(lang: str) -> str:
    """``lang``'s name in the page's language (``French`` on an English page, ``francés`` on a Spanish one)."""
    from babel import Locale, UnknownLocaleError

    from social_campaign.i18n import current

    try:
        return str(Locale.parse(lang.replace("-", "_")).get_display_name(current().replace("-", "_")) or lang)
    except (ValueError, UnknownLocaleError):
        return lang


def _lengths(campaign: Campaign, form: postedit.PostForm) -> dict[str, list[Measure]]:
    """field name -> the measure of its text on each channel it is posted on."""
    out: dict[str, list[Measure]] = {}
    overridden = {c for c in form.channels if form.texts.get(f"message_{c}", "").strip()}
    for name, text in form.texts.items():
        suffix = name.removeprefix("message_") if name != "message" else ""
        if name == "message":
            chans = [c for c in form.channels if c not in overridden] or form.channels[:1]
        elif suffix in campaign.languages:
            chans = list(form.channels)
        else:
            chans = [suffix] if text.strip() else []  # an empty override: the channel posts the text above
        out[name] = [measure(campaign, c, text) for c in chans]
    return out


def edit_context(campaign: Campaign, form: postedit.PostForm, user: User, *, version: str,
                 errors: Mapping[str, list[str]] | None = None, top: list[str] | None = None) -> dict[str, Any]:
    errors = errors or {}
    channels = postedit.known_channels(campaign)
    langs = [lang for lang in campaign.languages[1:] if f"message_{lang}" in form.files]
    overridden = [c for c in form.channels if form.texts.get(f"message_{c}", "").strip()]
    own = [c for c in form.channels if c not in overridden]
    return {
        "campaign": campaign, "form": form, "version": version, "errors": errors, "top_errors": top or [],
        "channels": channels, "override_channels": channels, "other_langs": langs,
        "lengths": _lengths(campaign, form), "can_edit": rank(user.role) >= rank("editor"),
        "fold_choices": fold_choices(campaign, form.at) if "at" in errors else [],
        "message_channel": " ".join(own or form.channels or ["x"]),  # the networks the default text goes to
        "overrides_open": bool(overridden) or any(f"message_{c}" in errors for c in channels),
        "lang_names": {lang: _language_name(lang) for lang in campaign.languages},
        "conflict": "", "diff_lines": [], "post": next((p for p in campaign.posts if p.id == form.post_id), None),
    }
