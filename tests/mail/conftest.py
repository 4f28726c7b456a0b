"""Fixtures for the mail tests: the SMTP fixture and a small campaign with a pledge."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from social_campaign.campaign.model import Campaign, PledgeSpec


def make_campaign(tmp_path: Path, *, goal: int = 3, variants: tuple[str, ...] = ("Text one #CRC", "Text two #CRC")) -> Campaign:
    spec = PledgeSpec(
        goal=goal,
        deadline=datetime(2027, 11, 19, 12, 0, tzinfo=UTC),
        fire_at=datetime(2027, 11, 20, 15, 0, tzinfo=UTC),
        message="thunderclap",
        channels=("outbox",),
        variants=variants,
        org_texts={"outbox": variants[0]},
    )
    return Campaign(
        slug="childrens-day", name="Universal Children's Day", timezone=ZoneInfo("America/New_York"),
        hashtags=("#ChildrensDay",), link="https://example.org/crc", posts=(), root=tmp_path,
        source=tmp_path / "schedule.toml", content_hash="x", pledge=spec,
    )


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    return make_campaign(tmp_path)
