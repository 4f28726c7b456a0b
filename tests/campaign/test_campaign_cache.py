"""The per-process campaign cache parses again exactly when one of the campaign's files changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from social_campaign.campaign.cache import load_cached, stamp
from social_campaign.errors import CampaignError
from tests.campaign.campaign_helpers import HEAD, make_campaign

BODY = """
[[post]]
id = "one"
at = 2027-11-18T10:00:00
channels = ["x"]
message = "one"
"""


def _touch(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))  # a new mtime even on a coarse clock


def test_unchanged_files_give_the_same_campaign_object(tmp_path: Path) -> None:
    path = make_campaign(tmp_path / "c", BODY, {"one.md": "Hello #CRC https://example.org/crc"})
    first = load_cached(path)
    assert load_cached(path) is first
    assert load_cached(str(path)) is first  # the same file by another spelling


def test_an_edited_message_is_parsed_again(tmp_path: Path) -> None:
    path = make_campaign(tmp_path / "c", BODY, {"one.md": "Hello #CRC https://example.org/crc"})
    first = load_cached(path)
    _touch(path.parent / "messages" / "one.md", "Changed #CRC https://example.org/crc")
    second = load_cached(path)
    assert second is not first
    assert second.content_hash != first.content_hash
    assert "Changed" in second.posts[0].texts["x"]


def test_a_broken_edit_raises_and_a_fix_loads(tmp_path: Path) -> None:
    path = make_campaign(tmp_path / "c", BODY, {"one.md": "Hello #CRC https://example.org/crc"})
    load_cached(path)
    source = path.read_text()
    _touch(path, source.replace('channels = ["x"]', 'channels = ["nope"]'))
    with pytest.raises(CampaignError):
        load_cached(path)
    _touch(path, source)
    assert load_cached(path).posts[0].id == "one"


def test_the_stamp_covers_new_files_in_the_folders(tmp_path: Path) -> None:
    path = make_campaign(tmp_path / "c", BODY, {"one.md": "Hello"})
    before = stamp(path)
    (path.parent / "infographics").mkdir()
    (path.parent / "infographics" / "card.toml").write_text("x = 1\n")
    after = stamp(path)
    assert before != after
    assert any(p.endswith("card.toml") for p, _, _ in after)


def test_an_edited_translation_is_parsed_again(tmp_path: Path) -> None:
    head = HEAD + 'languages = ["en", "fr"]\n'
    path = make_campaign(tmp_path / "c", BODY, {"one.md": "Hello #CRC", "one.fr.md": "Bonjour #CRC"}, head=head)
    first = load_cached(path)
    assert first.posts[0].texts_in("fr")["x"] == "Bonjour #CRC"
    _touch(path.parent / "messages" / "one.fr.md", "Salut #CRC")
    second = load_cached(path)
    assert second is not first and second.content_hash != first.content_hash
    assert second.posts[0].texts_in("fr")["x"] == "Salut #CRC" and second.posts[0].texts["x"] == "Hello #CRC"
