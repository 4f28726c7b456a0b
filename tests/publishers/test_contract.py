"""The publisher contract (publishers/base.py), run against every publisher and its fake remote end."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from social_campaign.errors import Rejected
from social_campaign.publishers import build_publisher
from social_campaign.publishers.base import Media
from social_campaign.publishers.facebook import FacebookPublisher
from social_campaign.publishers.outbox import OutboxPublisher
from social_campaign.publishers.x import XPublisher
from tests.publishers.conftest import KINDS, make_settings

TEXT = "Wow! Infant mortality down 50% after #CRC. Time for US to join the world #USstandsAlone https://example.org/crc"


@pytest.mark.parametrize("kind", KINDS)
def test_text_post_is_created_once_and_found_again(build, kind):
    h = build(kind)
    since = datetime.now(UTC) - timedelta(seconds=2)
    result = h.publisher.publish(h.post(1, TEXT))
    assert result.remote_id
    assert h.remote_texts() == [TEXT]
    found = h.publisher.find_recent(h.post(1, TEXT), since)
    assert found is not None and found.remote_id == result.remote_id


@pytest.mark.parametrize("kind", KINDS)
def test_find_recent_returns_none_for_a_post_that_is_not_there(build, kind):
    h = build(kind)
    since = datetime.now(UTC) - timedelta(seconds=2)
    h.publisher.publish(h.post(1, "Show your support for #ChildrensDay and #childrights"))
    assert h.publisher.find_recent(h.post(2, "US only country that has not ratified the CRC #USstandsAlone"), since) is None


@pytest.mark.parametrize("kind", ["x-oauth1", "x-oauth2", "facebook"])
def test_find_recent_ignores_posts_older_than_since(build, kind):
    h = build(kind)
    h.publisher.publish(h.post(1, TEXT))
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert h.publisher.find_recent(h.post(1, TEXT), later) is None


@pytest.mark.parametrize("kind", ["x-oauth1", "x-oauth2"])
def test_x_image_post_uploads_bytes_category_and_alt_text(build, png, kind):
    h = build(kind)
    path = png("us-stands-alone.png")
    result = h.publisher.publish(h.post(1, TEXT, (Media(path, "World map: every UN member except the United States"),)))
    [post] = h.fake.posts
    assert post["id"] == result.remote_id
    [media] = post["media"]
    assert media["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert media["category"] == "tweet_image"
    assert media["alt"] == "World map: every UN member except the United States"
    # the remote text has t.co links and a media link appended, and reconciliation still finds it
    assert post["text"] != TEXT
    assert h.publisher.find_recent(h.post(1, TEXT), datetime.now(UTC) - timedelta(minutes=1)).remote_id == result.remote_id


def test_x_four_images_keep_their_order_and_alt_texts(build, png):
    h = build("x-oauth1")
    media = tuple(Media(png(f"card{i}.png", c), f"alt {i}") for i, c in enumerate(["red", "green", "blue", "white"]))
    h.publisher.publish(h.post(1, "four cards", media))
    [post] = h.fake.posts
    assert [m["alt"] for m in post["media"]] == ["alt 0", "alt 1", "alt 2", "alt 3"]
    assert [m["sha256"] for m in post["media"]] == [hashlib.sha256(m.path.read_bytes()).hexdigest() for m in media]


def test_facebook_one_image_goes_to_photos_with_caption_and_alt(build, png):
    h = build("facebook")
    path = png()
    result = h.publisher.publish(h.post(1, TEXT, (Media(path, "Infographic: infant mortality halved"),)))
    [post] = h.fake.posts
    assert post["id"] == result.remote_id
    [photo] = post["photos"]
    assert photo["caption"] == TEXT and photo["alt"] == "Infographic: infant mortality halved" and photo["published"] is True
    assert photo["size"] == path.stat().st_size
    assert [r["path"] for r in h.fake.requests_to(r"/(feed|photos)$")] == [f"/v25.0/{post['id'].split('_')[0]}/photos"]


def test_facebook_several_images_are_unpublished_photos_attached_to_one_feed_post(build, png):
    h = build("facebook")
    media = (Media(png("a.png", "red"), "first"), Media(png("b.png", "blue"), "second"))
    result = h.publisher.publish(h.post(1, "two cards", media))
    [post] = h.fake.posts
    assert post["id"] == result.remote_id and post["message"] == "two cards"
    assert [(p["alt"], p["published"]) for p in post["photos"]] == [("first", False), ("second", False)]


def test_facebook_text_with_link_sends_the_link_field(build):
    h = build("facebook")
    h.publisher.publish(h.post(1, "Read why: https://example.org/crc."))
    assert h.fake.posts[0]["link"] == "https://example.org/crc"


def test_outbox_image_post_records_text_media_and_alt(build, png):
    h = build("outbox")
    path = png()
    h.publisher.publish(h.post(7, TEXT, (Media(path, "World map"),)))
    [file] = (h.settings.data_dir / "outbox" / "outbox").glob("*-7.md")
    body = file.read_text()
    assert TEXT in body and "alt: World map" in body
    [copied] = (h.settings.data_dir / "outbox" / "outbox" / "media").iterdir()
    assert copied.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("kind", ["x-oauth1", "facebook", "outbox"])
def test_unreadable_media_is_rejected_before_anything_is_sent(build, tmp_path, kind):
    h = build(kind)
    with pytest.raises(Rejected, match=r"missing\.png"):
        h.publisher.publish(h.post(1, TEXT, (Media(tmp_path / "missing.png", "alt"),)))
    assert h.remote_texts() == []


def test_build_publisher_picks_by_credentials(tmp_path, engine, fake_x, fake_graph):
    bare = make_settings(tmp_path)
    for channel in ("x", "facebook", "outbox"):
        publisher = build_publisher(channel, bare, engine)
        assert isinstance(publisher, OutboxPublisher) and publisher.channel == channel
    from tests.fakes import facebook_settings, x_oauth1_settings

    configured = make_settings(tmp_path, **x_oauth1_settings(fake_x), **facebook_settings(fake_graph))
    assert isinstance(build_publisher("x", configured, engine), XPublisher)
    assert isinstance(build_publisher("facebook", configured, engine), FacebookPublisher)
