"""Dates, numbers and percentages in the active language, through Babel (imported here only, on first use).

:func:`when` is the one time format of every page, email and consent text: the full date and the time in the
campaign's zone, with the zone's abbreviation (pages turn it into the visitor's local time with a script, keeping the
campaign's time in the ``title``).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from social_campaign.i18n.catalogs import base, current


def _locale(lang: str | None) -> str:
    from babel import Locale, UnknownLocaleError

    code = (lang or current()).replace("-", "_")
    try:
        Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        code = base(code)
        try:
            Locale.parse(code)
        except (UnknownLocaleError, ValueError):
            return "en"
    return code


def when(moment: datetime, zone: ZoneInfo, lang: str | None = None) -> str:
    """``Saturday 20 November 2027, 12:00 EST`` in the language's own words and order."""
    from babel.dates import format_date, format_time

    locale = _locale(lang)
    local = moment.astimezone(zone)
    date = format_date(local, "full", locale=locale)
    time = format_time(local, "short", tzinfo=zone, locale=locale)
    comma = "\u060c " if base(locale) in ("ar", "fa", "ur", "ps") else ", "  # the Arabic comma in Arabic script
    return f"{date}{comma}{time} {local.tzname()}"  # EST/CET as people know them (CLDR gives -0500 in most languages)


def day(moment: datetime, zone: ZoneInfo, lang: str | None = None) -> str:
    """``20 November 2027`` (the long date alone, in the campaign's zone)."""
    from babel.dates import format_date

    return str(format_date(moment.astimezone(zone), "long", locale=_locale(lang)))


def number(value: int | float, lang: str | None = None) -> str:
    """``12,345`` / ``12 345`` / ``12.345`` / ``١٢٬٣٤٥`` as the language writes it."""
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=_locale(lang)))


def percent(fraction: float, lang: str | None = None) -> str:
    """``0.42`` -> ``42%`` (``42 %`` in French)."""
    from babel.numbers import format_percent

    return str(format_percent(fraction, locale=_locale(lang)))


def language_name(lang: str) -> str:
    """A language's own name for itself (``français``), for the switcher."""
    from babel import Locale

    try:
        name = Locale.parse(lang.replace("-", "_")).get_display_name(lang.replace("-", "_"))
    except (ValueError, LookupError):
        return lang
    return str(name[:1].upper() + name[1:]) if name else lang
