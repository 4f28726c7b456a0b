"""pledge_edit: the form's values from the files, and its changes: tomlkit edits that keep comments, variant files
per language, field errors before anything is computed to write."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.errors import CampaignError
from social_campaign.workspace import pledge_edit, revisions
from social_campaign.workspace.save import save_files
from tests.workspace.support import campaign_at, copy_shipped, tree


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    return campaign_at(copy_shipped(tmp_path / "c"))


def test_load_reads_the_shipped_pledge(campaign: Campaign) -> None:
    form = pledge_edit.load(campaign)
    assert (form.goal, form.deadline, form.fire_at, form.message) == (
        "100", "2027-11-20T09:00", "2027-11-20T12:00", "thunderclap")
    assert form.channels == ["x", "facebook"]
    assert form.numbers() == [1, 2, 3] and set(form.variants) == {"en", "fr", "es", "ar"}
    assert "{hashtags}" in form.variants["en"][1] or "#" in form.variants["en"][1]


def test_unchanged_form_changes_nothing(campaign: Campaign) -> None:
    assert pledge_edit.changes(campaign, pledge_edit.load(campaign)) == {}


def test_changes_keep_comments_and_write_variants(campaign: Campaign, settings: Settings, engine: Engine) -> None:
    form = pledge_edit.load(campaign)
    form.goal = "150"
    form.variants["en"][2] = "A new second text #childrights {link}"
    form.variants["fr"][2] = "Un nouveau texte"
    changes = pledge_edit.changes(campaign, form)
    assert set(changes) == {"schedule.toml", "messages/thunderclap.v2.md", "messages/thunderclap.v2.fr.md"}
    schedule = changes["schedule.toml"]
    assert schedule is not None
    assert "goal = 150                        # supporters needed, or nothing is posted" in schedule
    assert changes["messages/thunderclap.v2.md"] == "A new second text #childrights {link}\n"
    save_files(settings, engine, campaign, dict(changes), version=revisions.version_of(campaign.root),
               author="ed@example.org", summary="pledge")
    again = pledge_edit.load(campaign)
    assert again.goal == "150" and again.variants["fr"][2] == "Un nouveau texte"


def test_field_errors_come_together(campaign: Campaign) -> None:
    form = pledge_edit.load(campaign)
    form.goal, form.deadline, form.channels = "lots", "2027-11-21T09:00", []
    with pytest.raises(pledge_edit.FieldErrors) as caught:
        pledge_edit.changes(campaign, form)
    assert set(caught.value.errors) == {"goal", "deadline", "channels"}
    form = pledge_edit.load(campaign)
    form.fire_at = "2027-03-14T02:15"
    with pytest.raises(pledge_edit.FieldErrors) as gap:
        pledge_edit.changes(campaign, form)
    assert "spring forward" in gap.value.errors["fire_at"]


def test_removing_a_variant_in_one_language_only_fails_check_and_writes_nothing(
    campaign: Campaign, settings: Settings, engine: Engine
) -> None:
    form = pledge_edit.load(campaign)
    form.variants["fr"][3] = ""
    changes = pledge_edit.changes(campaign, form)
    assert changes == {"messages/thunderclap.v3.fr.md": None}
    before = tree(campaign.root)
    with pytest.raises(CampaignError) as caught:
        save_files(settings, engine, campaign, dict(changes), version=revisions.version_of(campaign.root),
                   author="ed@example.org", summary="pledge")
    assert any("thunderclap.v3.fr.md" in p.message for p in caught.value.problems)
    assert tree(campaign.root) == before


def test_fold_choices() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/New_York")
    assert pledge_edit.fold_choices("2027-11-07T01:30", tz) == [("0", "UTC-04:00"), ("1", "UTC-05:00")]
    assert pledge_edit.fold_choices("2027-11-07T03:30", tz) == []
    assert pledge_edit.fold_choices("2027-03-14T02:30", tz) == []
