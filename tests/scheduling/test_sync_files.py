"""sync_campaign on real schedule.toml files: check, refusal of a bad edit, skipping an unchanged file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from social_campaign.errors import CampaignError
from social_campaign.models import CampaignRevision, ManagerNotice
from social_campaign.scheduling.sync import sync_campaign
from tests.scheduling.helpers import rows, set_state, states

NOW = datetime(2027, 11, 1, tzinfo=UTC)
GOOD = """
[campaign]
slug = "childrens-day"
name = "Children's Day"
timezone = "America/New_York"
hashtags = ["#ChildrensDay"]

[[post]]
id = "a"
at = 2027-11-18T10:00:00
channels = ["outbox", "x"]
message = "a"

[[post]]
id = "b"
at = 2027-11-19T10:00:00
channels = ["outbox"]
message = "b"
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "messages").mkdir()
    (tmp_path / "messages" / "a.md").write_text("Show your support for {hashtags}\n")
    (tmp_path / "messages" / "b.md").write_text("US only country that has not ratified the CRC\n")
    (tmp_path / "schedule.toml").write_text(GOOD)
    return tmp_path


def test_bad_edit_is_refused_and_the_last_good_version_keeps_running(settings, engine, folder):
    path = folder / "schedule.toml"
    report = sync_campaign(settings, engine, path, NOW)
    assert report.created == 3
    set_state(engine, rows(engine, post_id="b")[0].id, "sent")
    before = [(r.id, r.state, r.text, r.due_at) for r in rows(engine)]
    path.write_text(GOOD.replace('channels = ["outbox"]', 'channels = ["outbox", "myspace"]').replace('id = "a"', 'id = "a"\nbogus = 1'))
    with pytest.raises(CampaignError) as info:
        sync_campaign(settings, engine, path, NOW)
    assert any("myspace" in str(p) for p in info.value.problems)
    assert [(r.id, r.state, r.text, r.due_at) for r in rows(engine)] == before
    with Session(engine) as session:
        rev = session.get(CampaignRevision, "childrens-day")
        assert rev is not None and rev.last_refused and str(path) in rev.last_refused
        (notice,) = session.exec(select(ManagerNotice)).all()
        assert notice.kind == "refused" and "last good version keeps running" in notice.message
    with pytest.raises(CampaignError):  # the same bad file again: no second notice
        sync_campaign(settings, engine, path, NOW)
    with Session(engine) as session:
        assert len(session.exec(select(ManagerNotice)).all()) == 1
    path.write_text(GOOD.replace('id = "a"', 'id = "a2"'))  # a good edit: a renamed post
    report = sync_campaign(settings, engine, path, NOW)
    assert (report.created, report.cancelled) == (2, 2)
    assert states(engine) == {
        ("a", "outbox", ""): "cancelled", ("a", "x", ""): "cancelled", ("b", "outbox", ""): "sent",
        ("a2", "outbox", ""): "scheduled", ("a2", "x", ""): "scheduled",
    }  # fmt: skip
    with Session(engine) as session:
        assert session.get(CampaignRevision, "childrens-day").last_refused is None


def test_broken_toml_before_any_good_version_is_refused_with_its_line(settings, engine, folder):
    path = folder / "schedule.toml"
    path.write_text(GOOD.replace('slug = "childrens-day"', 'slug = "childrens-day'))
    with pytest.raises(CampaignError) as info:
        sync_campaign(settings, engine, path, NOW)
    assert str(info.value).startswith(f"{path}:")
    assert rows(engine) == []


def test_unchanged_file_is_skipped(settings, engine, folder):
    path = folder / "schedule.toml"
    sync_campaign(settings, engine, path, NOW, skip_unchanged=True)
    assert sync_campaign(settings, engine, path, NOW, skip_unchanged=True).skipped
    (folder / "messages" / "b.md").write_text("Wow! Infant mortality down 50% after #CRC\n")
    report = sync_campaign(settings, engine, path, NOW, skip_unchanged=True)
    assert not report.skipped and report.updated == 1
