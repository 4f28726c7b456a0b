"""The instants a post is due in a window: its ``at``, or its cron occurrences (expanded by ``campaign/times.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from social_campaign.campaign.model import Post


def occurrences_between(post: Post, tz: ZoneInfo, after: datetime, until: datetime) -> list[datetime]:
    """UTC instants of ``post`` with ``after <= t < until`` (an ``at`` post has at most one)."""
    if post.at is not None:
        at = post.at.astimezone(UTC)
        return [at] if after <= at < until else []
    if not post.cron:
        return []
    from social_campaign.campaign.times import cron_occurrences

    return cron_occurrences(post.cron, tz, post.start, post.end, after, until)
