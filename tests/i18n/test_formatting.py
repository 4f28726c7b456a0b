"""Dates and numbers in each shipped language, through Babel."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from social_campaign.i18n import formatting, use

NOON_NY = datetime(2027, 11, 20, 17, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


def test_the_one_time_format_names_the_day_and_the_zone_in_each_language() -> None:
    assert formatting.when(NOON_NY, NEW_YORK, "en") == "Saturday, November 20, 2027, 12:00\u202fPM EST"
    assert formatting.when(NOON_NY, NEW_YORK, "fr") == "samedi 20 novembre 2027, 12:00 EST"
    assert formatting.when(NOON_NY, NEW_YORK, "es").startswith("s\u00e1bado, 20 de noviembre de 2027")
    arabic = formatting.when(NOON_NY, NEW_YORK, "ar")
    assert arabic.startswith("\u0627\u0644\u0633\u0628\u062a") and arabic.endswith("EST")  # السبت … EST
    assert ", " not in arabic and arabic.count("\u060c") == 2  # the Arabic comma, never a Latin one


def test_the_active_language_is_the_default_for_formatting() -> None:
    with use("fr"):
        assert formatting.number(12345) == "12\u202f345"
        assert formatting.percent(0.42) == "42\u00a0%"
    assert formatting.number(12345) == "12,345"


def test_an_unknown_language_formats_in_english() -> None:
    assert formatting.number(1234, "zz") == "1,234"
    assert formatting.day(NOON_NY, NEW_YORK, "xx-YY") == "November 20, 2027"


def test_language_names_are_their_own() -> None:
    assert [formatting.language_name(code) for code in ("en", "fr", "es", "ar")] == [
        "English", "Fran\u00e7ais", "Espa\u00f1ol", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629"]
