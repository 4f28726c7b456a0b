"""What we hold about a person: their pledges in every campaign by canonical address, not erased, and per pledge a
JSON-ready summary."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from social_campaign.config import Settings
from social_campaign.models import PledgeData
from social_campaign.pledges import intake
from social_campaign.pledges.abuse import PledgeForm
from social_campaign.supporters.person import find_pledges, person_data
from tests.web import conftest as web_fixtures
from tests.web.conftest import make_campaign

web_settings = web_fixtures.web_settings


def test_find_pledges_by_canonical_address_across_campaigns(tmp_path: Path, any_engine: Engine, web_settings: Settings) -> None:
    now = datetime.now(UTC)
    a, b = make_campaign(tmp_path, slug="one"), make_campaign(tmp_path, slug="two")
    forms = [(a, "Ann.Lee@gmail.com", ""), (b, "annlee+crc@googlemail.com", ""), (a, "annlee@gmail.com", "bot"),
             (a, "other@example.org", "")]
    with any_engine.begin() as conn:
        intake.store_all(conn, web_settings, [
            intake.prepare(web_settings, c, PledgeForm(name="Ann", email=e, website=w), "10.0.0.9", now)
            for c, e, w in forms
        ])
    with Session(any_engine) as s:
        found = find_pledges(s, " ANNLEE@gmail.com ")
        assert [(p.campaign, p.status) for p in found] == [("one", "pending"), ("two", "pending"), ("one", "fraud")]
        assert find_pledges(s, "nobody@example.org") == [] and find_pledges(s, "not an address") == []
        data = person_data(s, found[1])
        json.dumps(data)  # JSON-ready
        assert data["pledge"]["email"] == "annlee+crc@googlemail.com" and data["pledge"]["campaign"] == "two"
        assert [e["kind"] for e in data["emails"]] == ["confirm"] and data["consents"][0]["given"] is True
        row = s.get(PledgeData, found[0].id)
        assert row is not None
        row.erased_at = now
        s.add(row)
        s.commit()
        assert [p.campaign for p in find_pledges(s, "annlee@gmail.com")] == ["two", "one"]
