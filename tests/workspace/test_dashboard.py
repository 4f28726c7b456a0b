"""The dashboard's numbers, computed in SQL on a seeded database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from social_campaign.db import session_scope
from social_campaign.workspace import aggregates, dashboard
from tests.web.conftest import make_campaign
from tests.workspace.dashboard_seed import NOW, pledge, seed


def test_funnel_counts_each_step(any_engine: Engine, tmp_path: Path) -> None:
    seed(any_engine)
    f = dashboard.funnel(aggregates.compute(any_engine, "childrens-day"))
    assert f == dashboard.Funnel(pledged=12, confirmed=9, notified=2, clicked=2, autoposted=0)


def test_series_by_day_in_the_campaign_zone_and_projection(any_engine: Engine, tmp_path: Path) -> None:
    seed(any_engine)
    campaign = make_campaign(tmp_path, goal=100, deadline=NOW + timedelta(days=30))
    s = dashboard.series(aggregates.compute(any_engine, campaign.slug).hours, campaign, 9, NOW)
    assert s is not None
    by_day = dict(s.days)
    assert by_day[date(2026, 11, 10)] == 2 and by_day[date(2026, 11, 15)] == 3 and by_day[date(2026, 11, 19)] == 4
    assert s.days[0][0] == date(2026, 11, 10) and s.days[-1][0] == date(2026, 11, 20)  # through today, no gaps
    assert len(s.days) == 11 and sum(n for _d, n in s.days) == 9
    assert s.recent == 7 and s.rate == 1.0
    assert s.projected == 9 + 30


def test_a_pledge_late_in_the_utc_day_counts_on_the_campaign_s_day(any_engine: Engine, tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path, deadline=NOW + timedelta(days=3))  # America/New_York, UTC-5 in November
    with session_scope(any_engine) as s:
        s.add(pledge(campaign.slug, "confirmed", NOW.replace(hour=2)))  # 21:00 the day before in New York
    series = dashboard.series(aggregates.compute(any_engine, campaign.slug).hours, campaign, 1, NOW)
    assert series is not None and series.days[0] == (date(2026, 11, 19), 1)


def test_no_projection_after_the_deadline(any_engine: Engine, tmp_path: Path) -> None:
    seed(any_engine)
    campaign = make_campaign(tmp_path, deadline=NOW - timedelta(days=1))
    s = dashboard.series(aggregates.compute(any_engine, campaign.slug).hours, campaign, 9, NOW)
    assert s is not None and s.projected is None


def test_countries_fold_spelling_and_count_not_given(any_engine: Engine) -> None:
    seed(any_engine)
    rows = aggregates.compute(any_engine, "childrens-day").countries
    assert dashboard.countries(rows) == [("France", 4), ("Kenya", 2), (dashboard.NOT_GIVEN, 3)]


def test_countries_keep_the_top_15_then_other(any_engine: Engine) -> None:
    with session_scope(any_engine) as s:
        for i in range(17):
            for _ in range(20 - i):
                s.add(pledge("c2", "confirmed", NOW, f"Country {i:02d}"))
        s.add(pledge("c2", "pending", NOW, "Pending land"))
    rows = dashboard.countries(aggregates.compute(any_engine, "c2").countries)
    assert len(rows) == 16
    assert rows[0] == ("Country 00", 20) and rows[14] == ("Country 14", 6)
    assert rows[15] == (dashboard.OTHER, 5 + 4)


def test_deliveries_by_state_day_failures_and_accounts(any_engine: Engine, tmp_path: Path) -> None:
    ids = seed(any_engine)
    campaign = make_campaign(tmp_path, goal=100, deadline=NOW + timedelta(days=30))
    data = dashboard.numbers(any_engine, campaign, NOW)
    assert data.delivery_states == {"sent": 2, "failed": 1, "missed": 1, "unconfirmed": 1, "needs_reconnect": 1,
                                    "scheduled": 2, "cancelled": 1}
    assert data.failures_total == 4
    assert {r.state for r in data.failures} == {"failed", "missed", "unconfirmed", "needs_reconnect"}
    assert [r.id for r in data.upcoming] == [ids["scheduled"], ids["scheduled"] + 1]
    assert sum(sum(by.values()) for _d, by in data.delivery_days) == 9
    assert data.delivery_days[0] == (date(2026, 11, 18), {"sent": 2})  # NOW - 48 h and - 47 h, New York days
    assert data.accounts == [("x", "token revoked")]
    assert data.state == "open" and data.confirmed == 9


def test_live_and_json_agree_with_the_page(any_engine: Engine, tmp_path: Path) -> None:
    seed(any_engine)
    campaign = make_campaign(tmp_path, goal=100, deadline=NOW + timedelta(days=30))
    live = dashboard.live(any_engine, campaign, NOW)
    assert live["confirmed"] == 9 and live["goal"] == 100 and live["state"] == "open"
    assert live["funnel"] == {"pledged": 12, "confirmed": 9, "notified": 2, "clicked": 2, "autoposted": 0}
    assert live["deliveries"]["scheduled"] == 2 and live["failures"] == 4
    full = dashboard.as_json(dashboard.numbers(any_engine, campaign, NOW))
    assert full["funnel"] == live["funnel"]
    assert full["countries"][0] == {"country": "France", "confirmed": 4}
    assert sum(d["confirmed"] for d in full["pledges_by_day"]) == 9
    assert full["projection"]["rate_per_day"] == 1.0 and full["accounts_needing_reconnect"][0]["channel"] == "x"


def test_the_big_aggregates_are_never_older_than_max_age(any_engine: Engine) -> None:
    import time

    seed(any_engine)
    first = aggregates.cached(any_engine, "childrens-day", max_age=0.6)
    with session_scope(any_engine) as s:
        s.add(pledge("childrens-day", "confirmed", NOW, "Peru"))
    assert aggregates.cached(any_engine, "childrens-day", max_age=0.6) is first  # within max_age: the same result
    time.sleep(0.65)
    fresh = aggregates.cached(any_engine, "childrens-day", max_age=0.6)
    assert ("Peru", 1) in fresh.countries and sum(n for _h, n in fresh.hours) == 10
    assert aggregates.cached(any_engine, "childrens-day", max_age=0) is not fresh  # 0: always computed


def test_numbers_between_the_hour_and_the_day(any_engine: Engine, tmp_path: Path) -> None:
    """Hours fold into the campaign's days: 04:00 UTC is the day before in New York, 05:00 UTC the same day."""
    campaign = make_campaign(tmp_path, deadline=NOW + timedelta(days=3))
    with session_scope(any_engine) as s:
        s.add(pledge(campaign.slug, "confirmed", NOW.replace(hour=4, minute=59)))
        s.add(pledge(campaign.slug, "confirmed", NOW.replace(hour=5, minute=0)))
    s2 = dashboard.series(aggregates.compute(any_engine, campaign.slug).hours, campaign, 2, NOW)
    assert s2 is not None and s2.days == [(date(2026, 11, 19), 1), (date(2026, 11, 20), 1)]


def test_counting_takes_no_write_lock_on_sqlite(engine: Engine) -> None:
    """Pledge intake keeps writing while the dashboard counts: a writer holding SQLite's lock does not stop it."""
    import time

    seed(engine)
    with engine.connect() as writer:
        writer.exec_driver_sql("UPDATE pledge SET country = 'Chad' WHERE status = 'confirmed'")  # BEGIN IMMEDIATE
        started = time.monotonic()
        counts = aggregates.compute(engine, "childrens-day")  # would wait out the busy timeout inside BEGIN IMMEDIATE
        assert time.monotonic() - started < 5
        assert ("Chad", 9) not in counts.countries  # the uncommitted write is not seen
        writer.rollback()
