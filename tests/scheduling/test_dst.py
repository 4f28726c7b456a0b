"""Posts at wall-clock times across the spring-forward and fall-back days fire at the right UTC instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from social_campaign.scheduling.claim import claim_due
from social_campaign.scheduling.sync import sync_campaign
from tests.scheduling.helpers import rows

TOML = """
[campaign]
slug = "dst"
name = "DST"
timezone = "{tz}"

[[post]]
id = "noon"
at = {at}
channels = ["outbox"]
message = "noon"

[[post]]
id = "daily"
cron = "{cron}"
channels = ["outbox"]
message = "daily"
"""


def u(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


CASES = {
    # zone, sync "now", at (local), cron (local), expected at (UTC), expected cron instants (UTC) around the change
    "new-york-spring": ("America/New_York", u(2027, 3, 10), "2027-03-14T12:00:00", "0 9 * * *",
                        u(2027, 3, 14, 16), [u(2027, 3, 13, 14), u(2027, 3, 14, 13), u(2027, 3, 15, 13)]),
    "new-york-fall": ("America/New_York", u(2027, 11, 3), "2027-11-07T12:00:00", "30 1 * * *",
                      u(2027, 11, 7, 17), [u(2027, 11, 6, 5, 30), u(2027, 11, 7, 5, 30), u(2027, 11, 8, 6, 30)]),
    "zurich-spring": ("Europe/Zurich", u(2027, 3, 25), "2027-03-28T12:00:00", "0 9 * * *",
                      u(2027, 3, 28, 10), [u(2027, 3, 27, 8), u(2027, 3, 28, 7), u(2027, 3, 29, 7)]),
    "zurich-fall": ("Europe/Zurich", u(2027, 10, 28), "2027-10-31T12:00:00", "30 2 * * *",
                    u(2027, 10, 31, 11), [u(2027, 10, 30, 0, 30), u(2027, 10, 31, 0, 30), u(2027, 11, 1, 1, 30)]),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_wall_clock_posts_fire_at_the_right_instants(case, settings, engine, tmp_path):
    tz, now, at, cron, want_at, want_cron = CASES[case]
    (tmp_path / "messages").mkdir()
    (tmp_path / "messages" / "noon.md").write_text("Noon post #CRC\n")
    (tmp_path / "messages" / "daily.md").write_text("Daily post #CRC\n")
    path = tmp_path / "schedule.toml"
    path.write_text(TOML.format(tz=tz, at=at, cron=cron))
    settings = settings.model_copy(update={"horizon_days": 7})
    sync_campaign(settings, engine, path, now)
    (noon,) = rows(engine, post_id="noon")
    assert noon.due_at == want_at
    daily = [r.due_at for r in rows(engine, post_id="daily")]
    assert len(daily) == len(set(daily)) == 7  # once a day, also on the day a wall-clock time repeats
    for instant in want_cron:
        assert instant in daily
    # the worker's clock, driven explicitly: nothing is due a second early, the post is due on the instant
    grace = timedelta(minutes=15)
    for instant in [want_at, *want_cron]:
        assert all(c.delivery.due_at >= instant for c in claim_due(engine, "w", instant - timedelta(seconds=1), 100, grace=grace))
        assert instant in [c.delivery.due_at for c in claim_due(engine, "w", instant, 100, grace=grace)]
