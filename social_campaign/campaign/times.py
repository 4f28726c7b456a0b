"""Wall-clock times of a campaign: local times in the campaign's zone, DST checks, and cron expansion.

A TOML local date-time (``2027-11-18T10:00:00``) is a wall-clock time in the campaign's time zone. On the day clocks
spring forward some wall-clock times do not exist, and on the day they fall back some happen twice; both are refused
(:class:`LocalTimeError`) rather than guessed. Cron expressions use standard crontab fields (day of week 0 or 7 is
Sunday, names ``MON``…``SUN`` work too) and are expanded by APScheduler's ``CronTrigger`` in the campaign's zone, so
``0 9 * * MON`` fires at 09:00 local time before and after a DST change (at different UTC instants).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

__all__ = ["LocalTimeError", "cron_occurrences", "cron_trigger", "localize", "zone"]

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MAX_OCCURRENCES = 100_000
_WALL = ZoneInfo("UTC")  # a clock without DST: cron fields are matched against wall-clock readings on it


class LocalTimeError(ValueError):
    """A wall-clock time that does not exist (spring forward) or happens twice (fall back) in the zone."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ``ValueError`` with a clear message when it is unknown."""
    if not name or name != name.strip():
        raise ValueError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as 'America/New_York')") from None


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """``naive`` as a wall-clock time in ``tz``; aware values pass through. Raises :class:`LocalTimeError` on DST gaps/folds."""
    if naive.tzinfo is not None:
        return naive
    early = naive.replace(tzinfo=tz, fold=0)
    late = naive.replace(tzinfo=tz, fold=1)
    if early.utcoffset() != late.utcoffset():
        # The two folds disagree: either the time is skipped (round trip changes it) or it happens twice.
        roundtrip = early.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if roundtrip != naive:
            raise LocalTimeError(f"{naive:%Y-%m-%d %H:%M} does not exist in {tz.key} (clocks spring forward)")
        raise LocalTimeError(
            f"{naive:%Y-%m-%d %H:%M} happens twice in {tz.key} (clocks fall back); give an offset such as "
            f"{naive:%Y-%m-%dT%H:%M:%S}{_offset(early)} or pick another time"
        )
    return early


def _offset(dt: datetime) -> str:
    off = dt.utcoffset() or timedelta(0)
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _crontab_dow(field: str) -> str:
    """A crontab day-of-week field (0/7 = Sunday) in APScheduler 3.x terms (which numbers Monday 0): names only."""
    if not re.search(r"\d", field):
        return field.lower()
    days: set[int] = set()
    for part in field.lower().split(","):
        base, _, step_s = part.partition("/")
        step = int(step_s) if step_s else 1
        if step < 1:
            raise ValueError(f"bad step in day of week {part!r}")
        if base == "*":
            lo, hi = 0, 6
        elif "-" in base:
            a, b = base.split("-", 1)
            lo, hi = _day_number(a), _day_number(b)
            if hi == 0 and b.strip() == "7":
                hi = 7
        else:
            lo = _day_number(base)
            hi = 6 if step_s else lo
        if lo > hi:
            raise ValueError(f"day-of-week range {base!r} runs backwards")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def _day_number(token: str) -> int:
    token = token.strip()
    if token.isdigit():
        n = int(token)
        if not 0 <= n <= 7:
            raise ValueError(f"day of week {token} is out of range 0-7")
        return n % 7 if n == 7 else n
    if token[:3] in _DAY_NAMES:
        return _DAY_NAMES.index(token[:3])
    raise ValueError(f"unknown day of week {token!r}")


def cron_trigger(cron: str, tz: ZoneInfo, start: datetime | None = None, end: datetime | None = None) -> CronTrigger:
    """An APScheduler trigger for a 5-field crontab expression; ``ValueError`` with a reason when it is invalid."""
    from apscheduler.triggers.cron import CronTrigger  # here: a campaign without cron posts never loads APScheduler

    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"cron {cron!r} needs 5 fields (minute hour day month day-of-week), got {len(fields)}")
    minute, hour, day, month, dow = fields
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_dow(dow),
            start_date=start,
            end_date=end,
            timezone=tz,
        )
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"cron {cron!r} is invalid: {exc}") from None


def cron_occurrences(
    cron: str,
    tz: ZoneInfo,
    start: datetime | None,
    end: datetime | None,
    after: datetime,
    until: datetime,
) -> list[datetime]:
    """Every firing of ``cron`` (wall clock in ``tz``) with ``after <= t < until`` and within [start, end], in UTC.

    The expression is matched against wall-clock readings (APScheduler's CronTrigger run on a clock without DST), and
    each reading is then placed in ``tz``: a reading inside the spring-forward gap fires as far after the gap starts
    as it was meant to (02:30 → 03:30 in New York), and a reading that happens twice at fall-back fires once, at its
    first instant. So ``0 9 * * MON`` is 09:00 local time every Monday, before and after a DST change.
    """
    trigger = cron_trigger(cron, _WALL)  # validates; wall-clock readings are computed on a zone without DST
    lower = max(after, start) if start is not None else after
    upper = min(until, end + timedelta(microseconds=1)) if end is not None else until
    # Start a little early in wall-clock terms: a reading in a DST gap may land after ``lower``.
    cursor = lower.astimezone(tz).replace(tzinfo=None) - timedelta(hours=3)
    out: list[datetime] = []
    previous: datetime | None = None
    while len(out) < _MAX_OCCURRENCES:
        fire = trigger.get_next_fire_time(previous, cursor.replace(tzinfo=_WALL))
        if fire is None:
            break
        wall = fire.replace(tzinfo=None)
        instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
        if instant >= upper:
            break
        if instant >= lower and (not out or instant > out[-1]):
            out.append(instant)
        previous = fire
        cursor = wall + timedelta(seconds=1)
    return out
