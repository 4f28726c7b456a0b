"""``workspace.campaigns``: the campaign files served, duplicate slugs, and a new campaign made from the shipped one
(comments kept, private files, audited; a bad slug, name or zone refused at its field with nothing on disk)."""

from __future__ import annotations

import difflib
import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from social_campaign import audit
from social_campaign.campaign.loader import load_campaign
from social_campaign.config import Settings
from social_campaign.errors import BadRequest, ConfigError
from social_campaign.workspace.campaigns import (
    TEMPLATE,
    campaign_paths,
    campaigns_dir,
    check_unique,
    create_from_template,
    read_slug,
)

ROOT = Path(__file__).resolve().parents[2]


def create(settings: Settings, engine: Engine, **kw: object) -> Path:
    values: dict[str, object] = {"slug": "girls-education", "name": "Girls' education now", "timezone": "Africa/Nairobi",
                                 "actor": "owner@example.org", "taken": {"childrens-day"}, **kw}
    return create_from_template(settings, engine, **values)  # type: ignore[arg-type]


def leftovers(settings: Settings) -> list[str]:
    folder = campaigns_dir(settings)
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_the_template_is_the_shipped_campaign() -> None:
    assert TEMPLATE == ROOT / "schedule.toml" and read_slug(TEMPLATE) == "childrens-day"


def test_a_new_campaign_is_a_checked_private_copy_with_every_comment_kept(settings: Settings, engine: Engine) -> None:
    path = create(settings, engine)
    assert path == campaigns_dir(settings) / "girls-education" / "schedule.toml"
    original, copy = TEMPLATE.read_text(encoding="utf-8"), path.read_text(encoding="utf-8")
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#") or " # " in line]
    assert comments and all(line in copy.splitlines() for line in comments if "name =" not in line)
    assert 'slug = "girls-education"' in copy and 'name = "Girls\' education now"' in copy
    assert 'timezone = "Africa/Nairobi"' in copy and "America/New_York\"" not in copy.split("[[post]]")[0]
    diff = list(difflib.unified_diff(original.splitlines(), copy.splitlines(), lineterm="", n=0))[2:]
    removed = [line[1:].split(" =")[0] for line in diff if line.startswith("-")]
    added = [line[1:] for line in diff if line.startswith("+")]
    assert removed == ["slug", "name", "timezone", "name", "name", "name"]  # the translated names go: no stale title
    assert added == ['slug = "girls-education"', 'name = "Girls\' education now"', 'timezone = "Africa/Nairobi"']
    campaign = load_campaign(path)
    assert campaign.slug == "girls-education" and campaign.timezone.key == "Africa/Nairobi"
    assert {campaign.name_in(lang) for lang in ("en", "fr", "es", "ar")} == {"Girls' education now"}
    folder = path.parent
    for sub in ("messages", "infographics"):
        assert sorted(p.name for p in (folder / sub).rglob("*")) == sorted(p.name for p in (ROOT / sub).rglob("*"))
    for item in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(item.stat().st_mode)
        assert mode == (0o700 if item.is_dir() else 0o600), (item, oct(mode))
    assert leftovers(settings) == ["girls-education"]  # no staging folder left behind
    assert path in campaign_paths(settings)
    with Session(engine) as s:
        (entry,) = audit.entries(s, action="campaign.create")
    details = json.loads(entry.details)
    assert (entry.actor, entry.campaign, entry.target) == ("owner@example.org", "girls-education", "girls-education")
    assert '+slug = "girls-education"' in details["diff"] and '-timezone = "America/New_York"' in details["diff"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "Girls Education"}, "slug"),
        ({"slug": "-dash"}, "slug"),
        ({"slug": "../escape"}, "slug"),
        ({"slug": "childrens-day"}, "slug"),  # served already
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": ""}, "timezone"),
    ],
)
def test_bad_input_is_refused_at_its_field_with_nothing_written(
    settings: Settings, engine: Engine, change: dict[str, str], field: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        create(settings, engine, **change)
    assert caught.value.field == field and caught.value.status == 400 and str(caught.value)
    assert leftovers(settings) == []
    with Session(engine) as s:
        assert audit.entries(s, action="campaign.create") == []


def test_a_slug_made_twice_is_refused_the_second_time(settings: Settings, engine: Engine) -> None:
    create(settings, engine)
    with pytest.raises(BadRequest) as caught:
        create(settings, engine, name="Another")
    assert caught.value.field == "slug" and leftovers(settings) == ["girls-education"]


def test_a_copy_that_fails_check_leaves_nothing(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    (broken / "messages").mkdir(parents=True)
    (broken / "schedule.toml").write_text(  # the message file is missing: check refuses the copy
        '# keep me\n[campaign]\nslug = "x"\nname = "X"\ntimezone = "UTC"\n\n'
        '[[post]]\nid = "p"\nat = 2030-01-01T10:00:00\nchannels = ["x"]\nmessage = "gone"\n'
    )
    with pytest.raises(BadRequest) as caught:
        create(settings, engine, template=broken / "schedule.toml")
    assert caught.value.field is None and "gone" in str(caught.value)
    assert leftovers(settings) == []


def test_campaign_paths_are_the_configured_ones_then_the_workspace_ones_each_once(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    assert campaign_paths(settings) == [settings.schedule]
    created = create(settings, engine)
    (campaigns_dir(settings) / ".new-half-done").mkdir()  # a staging folder is never served
    (campaigns_dir(settings) / ".new-half-done" / "schedule.toml").write_text("")
    configured = settings.model_copy(update={"campaigns": [TEMPLATE, Path(os.path.relpath(TEMPLATE)), created]})
    assert campaign_paths(configured) == [TEMPLATE, created]


def test_two_files_with_one_slug_are_named_in_one_line(tmp_path: Path) -> None:
    check_unique([("a", tmp_path / "1.toml"), ("b", tmp_path / "2.toml"), ("a", tmp_path / "1.toml")])  # same file
    with pytest.raises(ConfigError) as caught:
        check_unique([("a", tmp_path / "1.toml"), ("a", tmp_path / "3.toml")])
    assert str(caught.value) == (f"two campaigns have the slug 'a': {tmp_path / '1.toml'} and {tmp_path / '3.toml'}; "
                                 "give one of them another slug")
