"""The ``[pledge]`` section and its message variants, as the workspace's pledge form edits them.

:func:`load` reads the form's values from the files (times as wall-clock ``YYYY-MM-DDTHH:MM`` in the campaign's zone,
the variants' texts as written, placeholders unfilled). :func:`changes` turns a submitted form into the changes for
``save_files``: ``schedule.toml`` edited with tomlkit (only the keys whose value changed are set, so every comment,
the key order and the formatting stay) and one file per variant and language
(``campaign.languages.variant_name``: ``<message>.md``, ``<message>.v2.md``, ``<message>.<lang>.md`` …); a variant
emptied in every language is deleted (its files become ``None``). Field errors (a goal that is not a number, a time
that does not exist or happens twice, a deadline after the release) are raised together as :class:`FieldErrors`
before anything is computed to write; ``check`` then runs on the whole result in ``save_files``.

Form fields: ``goal``, ``deadline``, ``fire_at`` (datetime-local), ``deadline_fold``/``fire_at_fold`` (``0`` or ``1``:
which of the two when the time happens twice), ``message``, ``channels`` (repeated), ``variant_<n>`` (the default
language) and ``variant_<lang>_<n>``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from social_campaign.campaign.languages import variant_files, variant_name
from social_campaign.campaign.messages import read_message
from social_campaign.campaign.model import CHANNELS, Campaign
from social_campaign.campaign.times import LocalTimeError, localize
from social_campaign.errors import BadRequest
from social_campaign.i18n import _

__all__ = ["FieldErrors", "PledgeForm", "changes", "fold_choices", "load", "variant_field"]

TIME_FIELDS = ("deadline", "fire_at")
_LOCAL = "%Y-%m-%dT%H:%M"


class FieldErrors(BadRequest):
    """Several field errors at once: ``errors`` maps a field name to its message (the first one is ``str(exc)``)."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        first = next(iter(errors.items()))
        super().__init__(first[1], field=first[0])


@dataclass
class PledgeForm:
    """The values the pledge form shows. ``variants`` maps a language to its texts by variant number (1-based)."""

    goal: str = ""
    deadline: str = ""
    fire_at: str = ""
    message: str = ""
    channels: list[str] = field(default_factory=list)
    variants: dict[str, dict[int, str]] = field(default_factory=dict)
    folds: dict[str, str] = field(default_factory=dict)  # time field -> "0"/"1" chosen for a time happening twice

    def numbers(self) -> list[int]:
        """Every variant number any language has, in order (at least ``[1]``)."""
        found = sorted({n for texts in self.variants.values() for n in texts})
        return found or [1]


def variant_field(lang: str, number: int, default: str) -> str:
    """The textarea's name: ``variant_<n>`` for the default language, ``variant_<lang>_<n>`` otherwise."""
    return f"variant_{number}" if lang == default else f"variant_{lang}_{number}"


def _local(value: Any, tz: ZoneInfo) -> str:
    if not isinstance(value, datetime):
        return ""
    return (value.astimezone(tz) if value.tzinfo is not None else value).strftime(_LOCAL)


def load(campaign: Campaign) -> PledgeForm:
    """The form's values from ``schedule.toml`` and ``messages/`` as they are on disk."""
    try:
        doc = tomllib.loads(campaign.source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        doc = {}
    table = doc.get("pledge") if isinstance(doc.get("pledge"), dict) else {}
    assert isinstance(table, dict)
    message = str(table.get("message", "") or "")
    channels = table.get("channels", ["outbox"])
    form = PledgeForm(
        goal=str(table.get("goal", "")),
        deadline=_local(table.get("deadline"), campaign.timezone),
        fire_at=_local(table.get("fire_at"), campaign.timezone),
        message=message,
        channels=[c for c in channels if isinstance(c, str)] if isinstance(channels, list) else [],
    )
    default = campaign.default_language
    for lang in campaign.languages:
        texts: dict[int, str] = {}
        if message:
            for number, path in variant_files(campaign.root / "messages", message, lang, default):
                try:
                    texts[number] = read_message(path)
                except (OSError, UnicodeDecodeError):
                    texts[number] = ""
        form.variants[lang] = texts
    return form


def fold_choices(value: str, tz: ZoneInfo) -> list[tuple[str, str]]:
    """For a wall-clock time that happens twice: ``[("0", "…-04:00"), ("1", "…-05:00")]`` (value, offset), else []."""
    try:
        naive = datetime.strptime(value, _LOCAL)
    except ValueError:
        return []
    early, late = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if early.utcoffset() == late.utcoffset() or early.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        return []
    return [("0", _offset(early)), ("1", _offset(late))]


def _offset(dt: datetime) -> str:
    minutes = int((dt.utcoffset() or timedelta(0)).total_seconds() // 60)
    return f"UTC{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _values(form: Any, name: str) -> list[str]:
    if hasattr(form, "getlist"):
        return [v for v in form.getlist(name) if isinstance(v, str)]
    value = form.get(name)
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


def _one(form: Any, name: str) -> str:
    found = _values(form, name)
    return found[0].strip() if found else ""


def read_form(campaign: Campaign, form: Any) -> PledgeForm:
    """The submitted values, as the page shows them back (nothing checked yet)."""
    default = campaign.default_language
    out = PledgeForm(
        goal=_one(form, "goal"), deadline=_one(form, "deadline"), fire_at=_one(form, "fire_at"),
        message=_one(form, "message"), channels=_values(form, "channels"),
        folds={name: _one(form, f"{name}_fold") for name in TIME_FIELDS if _one(form, f"{name}_fold") in ("0", "1")},
    )
    keys = list(form.keys())
    for lang in campaign.languages:
        texts: dict[int, str] = {}
        prefix = "variant_" if lang == default else f"variant_{lang}_"
        for key in keys:
            rest = key[len(prefix):] if key.startswith(prefix) else ""
            if rest.isdigit() and 1 <= int(rest) <= 50:
                texts[int(rest)] = _one_raw(form, key)
        out.variants[lang] = texts
    return out


def _one_raw(form: Any, name: str) -> str:
    found = _values(form, name)
    return found[0].replace("\r\n", "\n").strip("\n") if found else ""


def _instant(name: str, value: str, fold: str | None, tz: ZoneInfo, errors: dict[str, str]) -> datetime | None:
    """The aware instant of a datetime-local field, or None with the field's error recorded."""
    try:
        naive = datetime.strptime(value, _LOCAL)
    except ValueError:
        errors[name] = _("Please enter a date and time.")
        return None
    try:
        return localize(naive, tz)
    except LocalTimeError:
        choices = fold_choices(value, tz)
        if not choices:
            errors[name] = _("This time does not exist in %(zone)s: the clocks spring forward then. Please choose "
                             "another time.") % {"zone": tz.key}
            return None
        if fold is None:
            errors[name] = _("This time happens twice in %(zone)s: the clocks fall back then. Please choose which "
                             "one you mean.") % {"zone": tz.key}
            return None
        return naive.replace(tzinfo=tz, fold=int(fold))


def changes(campaign: Campaign, submitted: PledgeForm) -> dict[str, str | None]:
    """The changes for ``save_files``; raises :class:`FieldErrors` when a field cannot be used."""
    import tomlkit

    errors: dict[str, str] = {}
    tz = campaign.timezone
    goal: int | None = None
    if not submitted.goal.isdigit() or int(submitted.goal) < 1:
        errors["goal"] = _("Please enter the number of supporters needed, a whole number of at least 1.")
    else:
        goal = int(submitted.goal)
    times = {name: _instant(name, getattr(submitted, name), submitted.folds.get(name), tz, errors)
             for name in TIME_FIELDS}
    if times["deadline"] and times["fire_at"] and times["deadline"] > times["fire_at"]:
        errors["deadline"] = _("The deadline must come before the release time, or at the same time.")
    if not submitted.message or "/" in submitted.message or submitted.message.startswith("."):
        errors["message"] = _("Please enter the name of the message file, such as thunderclap.")
    known = set(CHANNELS)
    channels = [c for c in submitted.channels if c in known]
    if not channels:
        errors["channels"] = _("Please choose at least one channel.")
    default = campaign.default_language
    if not submitted.variants.get(default, {}).get(1, "").strip():
        errors[variant_field(default, 1, default)] = _("Please write the text supporters post.")
    if errors:
        raise FieldErrors(errors)
    text = campaign.source.read_text(encoding="utf-8")
    doc = tomlkit.parse(text)
    if "pledge" not in doc:
        doc.add(tomlkit.nl())
        doc["pledge"] = tomlkit.table()
    table: Any = doc["pledge"]
    wanted: dict[str, Any] = {"goal": goal, "message": submitted.message, "channels": channels}
    for name, instant in times.items():
        assert instant is not None
        wanted[name] = _toml_time(table.get(name), instant, tz)
    for key, value in wanted.items():
        if _plain(table.get(key)) != _plain(value):
            table[key] = value
    out: dict[str, str | None] = {}
    new_text = tomlkit.dumps(doc)
    if new_text != text:
        out["schedule.toml"] = new_text
    out.update(_variant_changes(campaign, submitted))
    return out


def _toml_time(current: Any, instant: datetime, tz: ZoneInfo) -> datetime:
    """A local date-time (the file's style) unless the time needs an offset (one of two at a fold) or the file's
    value already had one."""
    local = instant.astimezone(tz)
    naive = local.replace(tzinfo=None, fold=0)
    try:
        if localize(naive, tz) == instant and not (isinstance(current, datetime) and current.tzinfo is not None):
            return naive
    except LocalTimeError:
        pass
    return local


def _plain(value: Any) -> Any:
    if hasattr(value, "unwrap"):
        value = value.unwrap()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return (value.utcoffset(), value.replace(tzinfo=None))
    return value


def _variant_changes(campaign: Campaign, submitted: PledgeForm) -> dict[str, str | None]:
    messages = campaign.root / "messages"
    default = campaign.default_language
    message = submitted.message
    out: dict[str, str | None] = {}
    for lang in campaign.languages:
        texts = submitted.variants.get(lang, {})
        on_disk = dict(variant_files(messages, message, lang, default))
        for number in sorted(texts):  # a variant the form did not send stays as it is
            rel = f"messages/{variant_name(message, number, lang, default)}"
            new = texts.get(number, "").strip("\n")
            path = on_disk.get(number)
            old = read_message(path) if path is not None else None
            if not new.strip():
                if path is not None and (number > 1 or lang != default):
                    out[rel] = None
                continue
            if new != old:
                out[rel] = new + "\n"
    return out
