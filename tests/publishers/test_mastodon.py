"""Mastodon: text and image posts, Idempotency-Key retries, reconciliation, the server's limits, and the fake itself."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from social_campaign.errors import OutcomeUnknown, Transient
from social_campaign.publishers import build_publisher
from social_campaign.publishers.base import Media, OutgoingPost
from social_campaign.publishers.mastodon import MastodonPublisher
from social_campaign.publishers.mastodon_limits import Limits, forget_limits, html_to_text, instance_limits
from social_campaign.publishers.outbox import OutboxPublisher
from tests.fakes import mastodon_api, mastodon_settings
from tests.fakes.mastodon_api import FakeMastodon, to_html
from tests.publishers.conftest import make_settings
from tests.publishers.test_fake_servers import admin, start, stop

TEXT = "Every child has the right to be heard.\n\nRead the Convention: https://www.ohchr.org/en/instruments-mechanisms/instruments/convention-rights-child #CRC35"


@pytest.fixture(autouse=True)
def _fresh_limits():
    forget_limits()
    yield
    forget_limits()


def test_text_post_sends_the_delivery_key_and_is_found_again(build):
    h = build("mastodon")
    since = datetime.now(UTC) - timedelta(seconds=2)
    result = h.publisher.publish(h.post(7, TEXT))
    [post] = h.fake.posts
    assert post["text"] == TEXT and post["id"] == result.remote_id
    assert post["idempotency_key"] == "social-campaign-7" == result.extra["idempotency_key"]
    assert result.url == f"{h.fake.url}/@{mastodon_api.USERNAME}/{post['id']}"
    assert "<br />" not in post["content"] and "</p><p>" in post["content"]  # the server stores HTML, not the text
    found = h.publisher.find_recent(h.post(7, TEXT), since)
    assert found is not None and found.remote_id == result.remote_id


def test_the_posts_own_idempotency_key_wins(build):
    h = build("mastodon")
    h.publisher.publish(
        OutgoingPost(delivery_id=3, channel="mastodon", text="Hello", idempotency_key="campaign-9-delivery-3")
    )
    assert h.fake.posts[0]["idempotency_key"] == "campaign-9-delivery-3"


def test_a_retried_create_with_the_same_key_makes_no_second_post(build):
    h = build("mastodon")
    first = h.publisher.publish(h.post(1, TEXT))
    again = h.publisher.publish(h.post(1, TEXT))
    assert again.remote_id == first.remote_id
    assert len(h.fake.posts) == 1 and len(h.fake.requests_to(r"^/api/v1/statuses$")) == 2
    other = h.publisher.publish(h.post(2, TEXT))  # another delivery is another post (Mastodon allows equal texts)
    assert other.remote_id != first.remote_id and len(h.fake.posts) == 2


def test_retry_after_outcome_unknown_returns_the_post_already_made(build):
    h = build("mastodon")
    h.fake.reset_after_accept(r"^/api/v1/statuses$")
    with pytest.raises(OutcomeUnknown):
        h.publisher.publish(h.post(1, TEXT))
    [post] = h.fake.posts
    assert h.publisher.publish(h.post(1, TEXT)).remote_id == post["id"]
    assert len(h.fake.posts) == 1


def test_reconciliation_finds_the_post_after_a_timeout(build):
    h = build("mastodon", request_timeout=0.5)
    since = datetime.now(UTC) - timedelta(seconds=1)
    h.fake.hang_after_accept(r"^/api/v1/statuses$", seconds=5)
    with pytest.raises(OutcomeUnknown):
        h.publisher.publish(h.post(1, TEXT))
    found = h.publisher.find_recent(h.post(1, TEXT), since)
    assert found is not None and found.remote_id == h.fake.posts[0]["id"]
    assert h.publisher.find_recent(h.post(1, TEXT), datetime.now(UTC) + timedelta(minutes=5)) is None


def test_image_post_waits_for_processing_and_carries_the_alt_text(build, png):
    h = build("mastodon")
    h.fake.media_polls = 2  # answered 202, processed on the second poll
    h.publisher.media_poll = 0.01
    path = png("crc35.png")
    result = h.publisher.publish(h.post(1, TEXT, (Media(path, "Infographic: 196 countries ratified the Convention"),)))
    [post] = h.fake.posts
    assert post["id"] == result.remote_id
    [media] = post["media"]
    assert media["description"] == "Infographic: 196 countries ratified the Convention"
    assert media["size"] == path.stat().st_size and media["type"] == "image/png"
    assert len(h.fake.requests_to(r"^/api/v1/media/\d+$", method="GET")) == 2


def test_image_processed_at_once_is_not_polled(build, png):
    h = build("mastodon")
    h.fake.media_polls = 0
    h.publisher.publish(h.post(1, "Two cards", (Media(png("a.png"), "first"), Media(png("b.png", "blue"), "second"))))
    assert [m["description"] for m in h.fake.posts[0]["media"]] == ["first", "second"]
    assert h.fake.requests_to(r"^/api/v1/media/", method="GET") == []


def test_image_still_processing_after_the_wait_is_transient_and_nothing_is_posted(build, png):
    h = build("mastodon")
    h.fake.media_polls = 10_000
    h.publisher.media_wait, h.publisher.media_poll = 0.3, 0.05
    with pytest.raises(Transient, match="still processing"):
        h.publisher.publish(h.post(1, TEXT, (Media(png(), "alt"),)))
    assert h.fake.posts == [] and h.fake.requests_to(r"^/api/v1/statuses$") == []


def test_instance_limits_are_read_once_and_cached(tmp_path, fake_mastodon):
    settings = make_settings(tmp_path, **mastodon_settings(fake_mastodon), mastodon_max_chars=300)
    limits = instance_limits(settings)
    assert limits == Limits(
        max_characters=500,
        characters_reserved_per_url=23,
        max_media_attachments=4,
        description_limit=1500,
        from_server=True,
    )
    assert instance_limits(settings) is limits
    with MastodonPublisher(settings=settings) as pub:
        assert pub.limits() is limits
    assert fake_mastodon.instance_reads == 1


def test_instance_limits_fall_back_to_settings_and_retry_later(tmp_path, fake_mastodon):
    assert instance_limits(make_settings(tmp_path, mastodon_max_chars=300)) == Limits(max_characters=300)
    settings = make_settings(tmp_path, **mastodon_settings(fake_mastodon), mastodon_max_chars=300)
    fake_mastodon.add_fault("status", path="^/api/v2/instance$", status=503, body="<html>busy</html>")
    assert instance_limits(settings) == Limits(max_characters=300)
    assert instance_limits(settings).from_server  # the failure was not cached
    assert fake_mastodon.instance_reads == 1


def test_build_publisher_picks_mastodon_by_credentials(tmp_path, engine, fake_mastodon):
    assert isinstance(build_publisher("mastodon", make_settings(tmp_path), engine), OutboxPublisher)
    publisher = build_publisher("mastodon", make_settings(tmp_path, **mastodon_settings(fake_mastodon)), engine)
    assert isinstance(publisher, MastodonPublisher)
    publisher.close()


def test_the_token_is_never_logged_or_in_errors(build, caplog):
    caplog.set_level(logging.DEBUG)
    h = build("mastodon")
    h.publisher.publish(h.post(1, TEXT))
    bad = build("mastodon", mastodon_access_token="revoked-t0ken-value")
    with pytest.raises(Exception) as info:
        bad.publisher.publish(bad.post(2, TEXT))
    for secret in (mastodon_api.ACCESS_TOKEN, "revoked-t0ken-value"):
        assert secret not in caplog.text and secret not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "Plain words",
        "Line one\nline two & <three>",
        "#CRC35 and @someone@example.org https://example.org/a/very/long/path/that/gets/shortened?x=1",
    ],
)
def test_status_html_reads_back_as_the_text_that_was_sent(text):
    from social_campaign.publishers.mastodon import _match_key

    assert _match_key(html_to_text(to_html(text, "https://m.example"))) == _match_key(text)


@pytest.mark.slow
def test_standalone_fake_mastodon_is_steered_over_http_and_remembers_keys_across_restarts(tmp_path):
    state = tmp_path / "mastodon-state.jsonl"
    proc, url = start("tests.fakes.mastodon_api", state)
    settings = make_settings(tmp_path, mastodon_api_url=url, mastodon_access_token=mastodon_api.ACCESS_TOKEN)
    try:
        with MastodonPublisher(settings=settings) as pub:
            admin(url, "/_fake/faults", {"kind": "status", "path": "^/api/v1/statuses$", "status": 503, "body": "busy"})
            with pytest.raises(Transient):
                pub.publish(OutgoingPost(1, "mastodon", "first"))
            made = pub.publish(OutgoingPost(1, "mastodon", "first"))
    finally:
        stop(proc)
    proc, url = start("tests.fakes.mastodon_api", state)
    settings = make_settings(tmp_path, mastodon_api_url=url, mastodon_access_token=mastodon_api.ACCESS_TOKEN)
    try:
        with MastodonPublisher(settings=settings) as pub:
            assert pub.publish(OutgoingPost(1, "mastodon", "first")).remote_id == made.remote_id
        assert [p["id"] for p in admin(url, "/_fake/posts")] == [made.remote_id]  # type: ignore[union-attr]
    finally:
        stop(proc)


def test_fake_media_polls_are_steerable_through_the_admin_endpoint():
    fake = FakeMastodon().start()
    try:
        admin(fake.url, "/_fake/faults", {"kind": "media_polls", "times": 3})
        assert fake.media_polls == 3
    finally:
        fake.stop()


def test_a_remote_mention_shown_without_its_server_still_matches():
    from social_campaign.publishers.mastodon import _match_key

    text = "Thank you @unicef@mastodon.social for #CRC35"
    shown = html_to_text(to_html(text, "https://m.example"))
    assert shown == "Thank you @unicef for #CRC35"
    assert _match_key(shown) == _match_key(text) != _match_key("Thank you for #CRC36")
