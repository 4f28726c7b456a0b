"""The dashboard's SVG charts: well-formed, titled, and with their lines where the numbers put them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from social_campaign.i18n import catalogs
from social_campaign.workspace import charts
from social_campaign.workspace.dashboard import Series

NS = {"svg": "http://www.w3.org/2000/svg"}
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")


def _series(**kw: object) -> Series:
    values: dict[str, object] = {
        "days": [(date(2026, 11, 10) + timedelta(days=i), n) for i, n in enumerate([2, 0, 0, 0, 0, 3, 0, 0, 0, 4, 0])],
        "confirmed": 9, "goal": 100, "now": NOW, "deadline": NOW + timedelta(days=30), "recent": 7, "zone": NY,
    }
    values.update(kw)
    return Series(**values)  # type: ignore[arg-type]


def _parse(markup: str) -> ET.Element:
    root = ET.fromstring(str(markup))
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("role") == "img"
    title, desc = root.find("svg:title", NS), root.find("svg:desc", NS)
    assert title is not None and title.text and desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return root


@pytest.mark.parametrize(("value", "top"), [(0, 10), (9, 10), (11, 12), (110, 120), (550, 600), (1001, 1200),
                                            (2600, 3000), (70000, 80000)])
def test_nice_ceiling(value: float, top: int) -> None:
    assert charts.nice_ceiling(value) == top


def test_goal_line_and_projection_sit_where_the_numbers_put_them() -> None:
    root = _parse(charts.pledges_chart(_series()))
    # x: Nov 10 .. Dec 20 (40 days) over 60..620; y: 0..120 (1.1 x the goal, rounded up) over 240..20
    goal = root.find(".//svg:line[@class='goal']", NS)
    assert goal is not None
    assert (goal.get("x1"), goal.get("x2"), goal.get("y1"), goal.get("y2")) == ("60", "620", "56.7", "56.7")
    projection = root.find(".//svg:line[@class='projection']", NS)
    assert projection is not None  # from today (Nov 20, 9 confirmed) to the deadline (Dec 20, 9 + 30 x 1 a day)
    assert [projection.get(k) for k in ("x1", "y1", "x2", "y2")] == ["200.0", "223.5", "620.0", "168.5"]
    line = root.find(".//svg:polyline[@class='confirmed']", NS)
    assert line is not None
    points = line.get("points", "").split()
    assert points[0] == "60.0,236.3" and points[-1] == "200.0,223.5" and len(points) == 11  # cumulative 2 .. 9
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Goal: 100" in texts and "120" in texts


def test_no_projection_line_after_the_deadline() -> None:
    root = _parse(charts.pledges_chart(_series(deadline=NOW - timedelta(days=1))))
    assert root.find(".//svg:line[@class='projection']", NS) is None
    assert root.find(".//svg:line[@class='goal']", NS) is not None


def test_an_empty_series_still_draws() -> None:
    root = _parse(charts.pledges_chart(_series(days=[], confirmed=0, recent=0)))
    assert root.find(".//svg:polyline", NS) is None and root.find(".//svg:circle[@class='now']", NS) is not None


def test_bars_carry_numbers_and_shares_as_text() -> None:
    root = _parse(charts.bars("f", "Funnel", "Steps", [("Pledged", 200), ("Confirmed", 150), ("Clicked", 0)], 200))
    rects = root.findall(".//svg:rect", NS)
    assert [r.get("width") for r in rects] == ["270.0", "202.5", "0.0"]
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["Pledged", "200 (100%)", "Confirmed", "150 (75%)", "Clicked", "0 (0%)"]


def test_bars_mirror_in_arabic() -> None:
    with catalogs.use("ar"):
        root = _parse(charts.bars("f", "Funnel", "Steps", [("Pledged", 200)], 200))
    rect = root.find(".//svg:rect", NS)
    assert rect is not None and rect.get("x") == str(400 - 8 - 270.0)  # grows from the right edge
    assert {t.get("text-anchor") for t in root.iter("{http://www.w3.org/2000/svg}text")} == {"end"}


def test_timeline_stacks_states_with_patterns() -> None:
    days = [(date(2026, 11, 19), {"sent": 2, "failed": 1}), (date(2026, 11, 21), {"scheduled": 4})]
    root = _parse(charts.timeline_chart(days, "Posts", today=date(2026, 11, 20)))
    patterns = {p.get("id") for p in root.iter("{http://www.w3.org/2000/svg}pattern")}
    assert patterns == {f"pattern-{s}" for s in charts.STATE_STYLE}
    sent = root.find(".//svg:rect[@class='state-sent']", NS)
    failed = root.find(".//svg:rect[@class='state-failed']", NS)
    assert sent is not None and failed is not None and sent.get("fill") == "url(#pattern-sent)"
    # y: 0..10 over 240..20; sent fills 0..2, failed 2..3 on top of it
    assert (sent.get("y"), sent.get("height")) == ("196.0", "44.0")
    assert (failed.get("y"), failed.get("height")) == ("174.0", "22.0")
    assert root.find(".//svg:line[@class='today']", NS) is not None
    assert 'fill="url(#pattern-failed)"' in str(charts.swatch("failed"))
