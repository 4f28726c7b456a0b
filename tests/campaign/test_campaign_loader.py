"""The shipped Universal Children's Day campaign loads, checks clean, and hashes its content."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from social_campaign.campaign.check import check_campaign, count_deliveries
from social_campaign.campaign.languages import card_spec_for
from social_campaign.campaign.loader import load_campaign
from social_campaign.campaign.toml_lines import LineIndex
from social_campaign.errors import CampaignError
from social_campaign.text import X_MAX, x_weighted_length
from tests.campaign.campaign_helpers import make_campaign, post

ROOT = Path(__file__).resolve().parents[2]
SCHEDULE = ROOT / "schedule.toml"


def test_shipped_campaign_loads() -> None:
    campaign = load_campaign(SCHEDULE)
    assert campaign.slug == "childrens-day"
    assert campaign.timezone.key == "America/New_York"
    assert campaign.hashtags == ("#ChildrensDay", "#childrights", "#CRC", "#USstandsAlone")
    ids = [p.id for p in campaign.posts]
    assert {"show-support", "only-country", "infant-mortality"} <= set(ids)
    for p in campaign.posts:
        assert set(p.channels) == {"x", "facebook"}
        assert p.at is not None and p.at.year == 2027 and p.at.month == 11 and 16 <= p.at.day <= 20
        assert p.texts["facebook"] != p.texts["x"] and len(p.texts["facebook"]) > len(p.texts["x"])
        assert x_weighted_length(p.texts["x"]) <= X_MAX
        assert p.media and all(m.alt and m.path.is_file() for m in p.media)
    by_id = {p.id: p for p in campaign.posts}
    assert by_id["show-support"].texts["x"].startswith("Show your support for #ChildrensDay and #childrights")
    assert (
        "US only country that has not ratified UN Convention on Rights of Child #USstandsAlone"
        in by_id["only-country"].texts["x"]
    )
    assert (
        "Wow! Infant mortality down 50% after #CRC. Time for US to join the world #USstandsAlone"
        in by_id["infant-mortality"].texts["x"]
    )
    assert "{" not in "".join(t for p in campaign.posts for t in p.texts.values())
    pledge = campaign.pledge
    assert pledge is not None and pledge.goal == 100 and len(pledge.variants) >= 3
    assert pledge.deadline == datetime(2027, 11, 20, 14, 0, tzinfo=UTC)
    assert pledge.fire_at == datetime(2027, 11, 20, 17, 0, tzinfo=UTC)
    assert set(pledge.org_texts) == {"x", "facebook"}
    badge = campaign.badge
    assert (
        badge is not None
        and badge.overlay.name == "frame-childrights.png"
        and badge.size == 400
        and badge.shape == "circle"
    )


def test_shipped_campaign_checks_clean_before_the_day() -> None:
    problems = check_campaign(SCHEDULE, now=datetime(2026, 11, 21, tzinfo=UTC))
    assert [p for p in problems if p.severity == "error"] == []
    # the only warning is the link in the X "show support" post (pay-per-use pricing)
    assert all("URL" in p.message for p in problems)


def test_shipped_campaign_speaks_four_languages() -> None:
    campaign = load_campaign(SCHEDULE)
    assert campaign.languages == ("en", "fr", "es", "ar")
    for lang in campaign.languages[1:]:
        assert campaign.name_in(lang) != campaign.name and campaign.description_in(lang) != campaign.description
        for p in campaign.posts:
            texts = p.texts_in(lang)
            assert set(texts) == {"x", "facebook"} and texts["x"] != p.texts["x"]
            assert x_weighted_length(texts["x"]) <= X_MAX
            for ref in p.media:
                assert card_spec_for(ref.path, lang) == ref.path.with_name(f"{ref.path.stem}.{lang}.toml")
        pledge = campaign.pledge
        assert pledge is not None and len(pledge.variants_for(lang)) == len(pledge.variants)
        assert set(pledge.variants_for(lang)).isdisjoint(pledge.variants)
        assert set(pledge.org_texts_for(lang)) == {"x", "facebook"}
    assert all(p.lang == "en" for p in campaign.posts)


def test_deliveries_count_and_occurrences() -> None:
    campaign = load_campaign(SCHEDULE)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    assert count_deliveries(campaign, now, 60) == 2 * len(campaign.posts)
    first = campaign.posts[0]
    assert first.occurrences(now, datetime(2028, 1, 1, tzinfo=UTC)) == [first.at]
    assert first.occurrences(now, datetime(2027, 1, 1, tzinfo=UTC)) == []


def test_content_hash_covers_messages_and_media(tmp_path: Path) -> None:
    copy = tmp_path / "c"
    copy.mkdir()
    shutil.copy(SCHEDULE, copy / "schedule.toml")
    shutil.copytree(ROOT / "messages", copy / "messages")
    shutil.copytree(ROOT / "infographics", copy / "infographics")
    before = load_campaign(copy / "schedule.toml").content_hash
    assert before == load_campaign(copy / "schedule.toml").content_hash
    (copy / "messages" / "only-country.facebook.md").write_text("Changed copy #CRC\n")
    after_message = load_campaign(copy / "schedule.toml").content_hash
    assert after_message != before
    with (copy / "infographics" / "show-support.toml").open("a") as fh:
        fh.write("\n# edited\n")
    assert load_campaign(copy / "schedule.toml").content_hash != after_message


def test_load_campaign_raises_with_every_problem(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post("a", message="nope") + post("a", message="nope2"), {})
    with pytest.raises(CampaignError) as caught:
        load_campaign(path)
    messages = [p.message for p in caught.value.problems]
    assert any("duplicate post id 'a'" in m for m in messages)
    assert sum("not found" in m for m in messages) == 2
    assert str(caught.value).startswith(str(path))


def test_cron_post_and_start_end(tmp_path: Path) -> None:
    body = post().replace(
        "at = 2027-11-18T10:00:00", 'cron = "0 9 * * MON"\nstart = 2027-11-01T00:00:00\nend = 2027-11-30T00:00:00'
    )
    path = make_campaign(
        tmp_path, body.replace('["x", "facebook"]', '["outbox"]'), {"hello.md": "Weekly reminder #CRC"}
    )
    campaign = load_campaign(path)
    got = campaign.posts[0].occurrences(datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
    assert got[0] == datetime(2027, 11, 1, 13, 0, tzinfo=UTC)  # EDT until 7 Nov
    assert got[1:] == [datetime(2027, 11, d, 14, 0, tzinfo=UTC) for d in (8, 15, 22, 29)]  # EST after


def test_line_index_tables_keys_and_multiline_values() -> None:
    source = '''# comment
[campaign]
slug = "s"
description = """
[[post]]
id = "not a key"
"""
hashtags = [
  "#a",
  "#b",
]

[[post]]
id = "one"   # first

[[post]]
"id" = "two"
at = 2027-01-01T00:00:00
'''
    index = LineIndex(source)
    assert index.line("campaign") == 2
    assert index.line("campaign", "description") == 4
    assert index.line("campaign", "hashtags") == 8
    assert index.line("post", 0) == 13
    assert index.line("post", 0, "id") == 14
    assert index.line("post", 1, "id") == 17
    assert index.line("post", 1, "at") == 18
    assert index.line("post", 1, "missing") == 16  # falls back to the table
