"""Reading one value out of a TOML table, or one message file, into the :class:`Context`.

Each reader returns the value when it has the right shape, and otherwise records one problem (naming the line and
the key, with a "did you mean" where it helps) and returns ``None`` or a default, so building goes on and every
problem is reported at once.
"""

from __future__ import annotations

import difflib
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from social_campaign.campaign import messages as msgs
from social_campaign.campaign.context import Context
from social_campaign.campaign.model import CHANNELS
from social_campaign.campaign.times import LocalTimeError, localize

__all__ = ["channels", "instant", "message_text", "string_list", "typed", "unknown_keys"]

_TYPE_NAMES = {str: "a string", int: "a whole number", list: "a list", bool: "true or false"}


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


def message_text(ctx: Context, file: Path, values: dict[str, str | None]) -> str | None:
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
