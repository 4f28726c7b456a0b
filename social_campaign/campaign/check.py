"""``check``: every problem of a campaign at once, and the summary the command prints.

``check_campaign(path, now)`` returns errors and warnings (warnings alone do not fail); ``run_check`` gives the campaign
with them, from the same single parse. The rules themselves live in ``campaign/loader.py`` and the table builders it
calls (keys, types, times, files: ``fields.py``, ``posts.py``, ``extras.py``) and ``campaign/rules.py`` (content); see
docs/CAMPAIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from social_campaign.campaign.loader import analyse
from social_campaign.campaign.model import Campaign
from social_campaign.errors import Problem
from social_campaign.text import MASTODON_MAX

__all__ = ["CheckResult", "check_campaign", "count_deliveries", "run_check"]


@dataclass(frozen=True)
class CheckResult:
    campaign: Campaign | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]


def check_campaign(path: Path | str, now: datetime | None = None, *, mastodon_max: int = MASTODON_MAX) -> list[Problem]:
    """Every problem of the campaign at ``path``; ``now`` (default: the current time) dates the past-time warnings;
    ``mastodon_max`` is the Mastodon server's limit (``settings.mastodon_max_chars``, default 500)."""
    return run_check(path, now, mastodon_max=mastodon_max).problems


def run_check(path: Path | str, now: datetime | None = None, *, mastodon_max: int = MASTODON_MAX) -> CheckResult:
    campaign, problems = analyse(Path(path), now or datetime.now(UTC), mastodon_max=mastodon_max)
    return CheckResult(campaign, problems)


def count_deliveries(campaign: Campaign, now: datetime, horizon_days: int) -> int:
    """Deliveries from ``now`` on: one per channel of each future ``at`` post and of each cron firing in the horizon."""
    until = now + timedelta(days=horizon_days)
    total = 0
    for post in campaign.posts:
        window_end = datetime.max.replace(tzinfo=UTC) if post.at is not None else until
        total += len(post.channels) * len(post.occurrences(now, window_end))
    return total
