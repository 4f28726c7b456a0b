"""Wall-clock times across DST: gaps and folds refused for one-off times; cron fires at the right UTC instants."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from social_campaign.campaign.times import LocalTimeError, cron_occurrences, cron_trigger, localize, zone

NY = ZoneInfo("America/New_York")
ZH = ZoneInfo("Europe/Zurich")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "naive"),
    [(NY, datetime(2027, 3, 14, 2, 30)), (ZH, datetime(2027, 3, 28, 2, 30)), (NY, datetime(2027, 3, 14, 2, 0))],
)
def test_spring_forward_gap_is_refused(tz: ZoneInfo, naive: datetime) -> None:
    with pytest.raises(LocalTimeError, match="does not exist"):
        localize(naive, tz)


@pytest.mark.parametrize(("tz", "naive"), [(NY, datetime(2027, 11, 7, 1, 30)), (ZH, datetime(2027, 10, 31, 2, 30))])
def test_fall_back_fold_is_refused(tz: ZoneInfo, naive: datetime) -> None:
    with pytest.raises(LocalTimeError, match="happens twice"):
        localize(naive, tz)


def test_ordinary_times_around_the_changes() -> None:
    assert localize(datetime(2027, 3, 14, 1, 59), NY) == utc(2027, 3, 14, 6, 59)
    assert localize(datetime(2027, 3, 14, 3, 0), NY) == utc(2027, 3, 14, 7, 0)
    assert localize(datetime(2027, 11, 7, 2, 0), NY) == utc(2027, 11, 7, 7, 0)
    assert localize(datetime(2027, 3, 28, 3, 0), ZH) == utc(2027, 3, 28, 1, 0)
    assert localize(datetime(2027, 10, 31, 3, 0), ZH) == utc(2027, 10, 31, 2, 0)
    aware = datetime(2027, 11, 7, 1, 30, tzinfo=ZoneInfo("Etc/GMT+5"))
    assert localize(aware, NY) is aware  # an explicit offset is taken as given


def test_zone() -> None:
    assert zone("Europe/Zurich").key == "Europe/Zurich"
    for bad in ("Mars/Olympus", "", " Europe/Zurich", "../etc/passwd"):
        with pytest.raises(ValueError, match="unknown time zone"):
            zone(bad)


def test_weekly_cron_keeps_wall_clock_across_both_changes_new_york() -> None:
    got = cron_occurrences("0 9 * * MON", NY, None, None, utc(2027, 3, 1), utc(2027, 3, 23))
    assert got == [utc(2027, 3, 1, 14), utc(2027, 3, 8, 14), utc(2027, 3, 15, 13), utc(2027, 3, 22, 13)]
    got = cron_occurrences("0 9 * * mon", NY, None, None, utc(2027, 11, 1), utc(2027, 11, 16))
    assert got == [utc(2027, 11, 1, 14 - 1), utc(2027, 11, 8, 14), utc(2027, 11, 15, 14)]


def test_daily_cron_zurich_across_both_changes() -> None:
    got = cron_occurrences("30 8 * * *", ZH, None, None, utc(2027, 3, 27), utc(2027, 3, 30))
    assert got == [utc(2027, 3, 27, 7, 30), utc(2027, 3, 28, 6, 30), utc(2027, 3, 29, 6, 30)]
    got = cron_occurrences("30 8 * * *", ZH, None, None, utc(2027, 10, 30), utc(2027, 11, 2))
    assert got == [utc(2027, 10, 30, 6, 30), utc(2027, 10, 31, 7, 30), utc(2027, 11, 1, 7, 30)]


def test_cron_in_the_gap_fires_once_shifted_by_the_gap() -> None:
    got = cron_occurrences("30 2 * * *", NY, None, None, utc(2027, 3, 13), utc(2027, 3, 16))
    assert [g.astimezone(NY).strftime("%d %H:%M %Z") for g in got] == ["13 02:30 EST", "14 03:30 EDT", "15 02:30 EDT"]
    got = cron_occurrences("30 2 * * *", ZH, None, None, utc(2027, 3, 27), utc(2027, 3, 30))
    assert [g.astimezone(ZH).strftime("%d %H:%M %Z") for g in got] == ["27 02:30 CET", "28 03:30 CEST", "29 02:30 CEST"]


def test_cron_in_the_fold_fires_once_at_the_first_instant() -> None:
    got = cron_occurrences("30 1 * * *", NY, None, None, utc(2027, 11, 6), utc(2027, 11, 9))
    assert got == [utc(2027, 11, 6, 5, 30), utc(2027, 11, 7, 5, 30), utc(2027, 11, 8, 6, 30)]
    every_half_hour = cron_occurrences("*/30 1-3 * * *", ZH, None, None, utc(2027, 10, 30, 22), utc(2027, 10, 31, 3))
    local = [g.astimezone(ZH).strftime("%H:%M %Z") for g in every_half_hour]
    assert local == ["01:00 CEST", "01:30 CEST", "02:00 CEST", "02:30 CEST", "03:00 CET", "03:30 CET"]
    assert len(set(every_half_hour)) == len(every_half_hour)


def test_cron_window_start_end_and_after() -> None:
    start, end = utc(2027, 1, 4, 0), utc(2027, 1, 6, 14)
    got = cron_occurrences("0 9 * * *", NY, start, end, utc(2027, 1, 1), utc(2027, 2, 1))
    assert got == [utc(2027, 1, 4, 14), utc(2027, 1, 5, 14), utc(2027, 1, 6, 14)]
    assert cron_occurrences("0 9 * * *", NY, start, end, utc(2027, 1, 5, 14, 0, 1), utc(2027, 2, 1)) == [
        utc(2027, 1, 6, 14)
    ]


@pytest.mark.parametrize(
    ("dow", "days"),
    [("0", {6}), ("7", {6}), ("1-5", {0, 1, 2, 3, 4}), ("SAT,SUN", {5, 6}), ("*/2", {6, 1, 3, 5}), ("5-7", {4, 5, 6})],
)
def test_crontab_day_numbers_mean_what_cron_means(dow: str, days: set[int]) -> None:
    got = cron_occurrences(f"0 12 * * {dow}", NY, None, None, utc(2027, 6, 7), utc(2027, 6, 14))  # Mon 7 .. Sun 13
    assert {g.astimezone(NY).weekday() for g in got} == days


@pytest.mark.parametrize("bad", ["0 9 * *", "61 9 * * *", "0 9 * * FUNDAY", "0 9 32 * *", "0 9 * * 8", "0 9 * * 5-1"])
def test_bad_cron_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="cron"):
        cron_trigger(bad, NY)
