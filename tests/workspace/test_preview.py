"""preview.measure: the same numbers as text.py (what check uses) for X and Facebook, the published rules for
Mastodon and Bluesky, and the text marked up safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from social_campaign.campaign.model import Campaign
from social_campaign.text import X_MAX, facebook_length, x_weighted_length
from social_campaign.workspace import preview
from tests.workspace.support import campaign_at, copy_shipped


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    return campaign_at(copy_shipped(tmp_path / "c"))


@pytest.mark.parametrize("text", [
    "Short.", "Visit example.org and https://example.org/a/very/long/path/that/counts/as/twenty-three",
    "日本語のテキスト", "Family 🧑‍🧑‍🧒 and flag 🇫🇷", "{hashtags} {link}", "é" * 300,
])
def test_x_and_facebook_equal_text_py(campaign: Campaign, text: str) -> None:
    posted = preview.render_text(campaign, text)
    assert preview.measure(campaign, "x", text).length == x_weighted_length(posted)
    assert preview.measure(campaign, "facebook", text).length == facebook_length(posted)


def test_shipped_messages_measure_as_the_loaded_campaign(campaign: Campaign) -> None:
    for post in campaign.posts:
        template = (campaign.root / "messages" / f"{post.message}.md").read_text()
        assert preview.measure(campaign, "x", template).length == x_weighted_length(post.texts["x"])


def test_limits_and_over(campaign: Campaign) -> None:
    found = preview.measure(campaign, "x", "a" * (X_MAX + 1))
    assert (found.limit, found.length, found.over) == (280, 281, True)
    assert preview.measure(campaign, "outbox", "a" * 100_000).over is False
    assert preview.mastodon_length("see https://example.org/" + "x" * 100) == len("see ") + 23
    assert preview.bluesky_length("e\u0301 🧑‍🧑‍🧒 🇫🇷") == 5  # é, space, family, space, flag


def test_markup_is_escaped_and_marks_links_and_tags() -> None:
    html = preview.mark_up("<script>x</script> #CRC @unicef example.org & more")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<span class="tag">#CRC</span>' in html and '<span class="tag">@unicef</span>' in html
    assert '<span class="link">example.org</span>' in html and "&amp; more" in html
