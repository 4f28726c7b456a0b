"""The Bluesky publisher against the fake PDS (real HTTP on 127.0.0.1), built through ``build_publisher``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session

from social_campaign.config import Settings
from social_campaign.crypto import decrypt
from social_campaign.db import make_engine, upgrade
from social_campaign.errors import AuthFailed, OutcomeUnknown, RateLimited, Rejected, Transient
from social_campaign.models import Account, AccountStatus
from social_campaign.publishers import build_publisher
from social_campaign.publishers.base import Media, OutgoingPost
from social_campaign.publishers.bluesky import BlueskyPublisher
from tests.fakes import bluesky_settings
from tests.fakes.bluesky_pds import APP_PASSWORD, DID, FakeBlueskyPDS

Build = Callable[..., tuple[BlueskyPublisher, Engine, Settings]]


@pytest.fixture
def build(tmp_path: Path, fake_bluesky: FakeBlueskyPDS) -> Iterator[Build]:
    made: list[BlueskyPublisher] = []

    def make(**kw: Any) -> tuple[BlueskyPublisher, Engine, Settings]:
        settings = Settings(data_dir=tmp_path / "data", pledge_rate_limits="", _env_file=None,
                            **{**bluesky_settings(fake_bluesky), "request_timeout": 2.0, **kw})  # fmt: skip
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        publisher = build_publisher("bluesky", settings, engine)
        assert isinstance(publisher, BlueskyPublisher)
        made.append(publisher)
        return publisher, engine, settings

    yield make
    for p in made:
        p.close()


def post(n: int, text: str, media: tuple[Media, ...] = ()) -> OutgoingPost:
    return OutgoingPost(
        delivery_id=n, channel="bluesky", text=text, media=media, idempotency_key=f"camp/p{n}/bluesky/0"
    )


def test_text_post_has_link_and_tag_facets_at_utf8_byte_offsets(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build()
    text = "🎉 مرحبا #حقوق_الطفل read https://example.org/pledge."
    result = publisher.publish(post(1, text))
    [stored] = fake_bluesky.posts
    assert result.remote_id == stored["uri"] == f"at://{DID}/app.bsky.feed.post/{publisher.rkey(post(1, text))}"
    raw = text.encode()
    facets = stored["value"]["facets"]
    spans = [raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets]
    assert spans == ["#حقوق_الطفل", "https://example.org/pledge"]
    assert facets[0]["features"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "حقوق_الطفل"}]
    assert facets[1]["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/pledge"}]
    assert facets[1]["index"]["byteStart"] > text.index("https")  # bytes, not characters
    card = stored["value"]["embed"]
    assert card["$type"] == "app.bsky.embed.external" and card["external"]["uri"] == "https://example.org/pledge"
    assert card["external"]["title"] and card["external"]["description"]


def test_record_key_is_a_deterministic_tid(build: Build) -> None:
    publisher, _, _ = build()
    keys = {publisher.rkey(post(n, "x")) for n in range(200)}
    assert len(keys) == 200
    assert publisher.rkey(post(7, "a")) == publisher.rkey(post(7, "b"))
    from social_campaign.publishers.bluesky_text import is_tid

    assert all(len(k) == 13 and is_tid(k) for k in keys)


def test_image_with_alt_and_aspect_ratio(build: Build, fake_bluesky: FakeBlueskyPDS, tmp_path: Path) -> None:
    path = tmp_path / "card.png"
    Image.new("RGB", (320, 160), "red").save(path)
    publisher, _, _ = build()
    publisher.publish(post(2, "Join us https://example.org", (Media(path, "A red banner"),)))
    embed = fake_bluesky.posts[0]["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"  # an image, so no link card
    [image] = embed["images"]
    assert image["alt"] == "A red banner"
    assert (image["aspectRatio"]["width"], image["aspectRatio"]["height"]) == (320, 160)
    cid = image["image"]["ref"]["$link"]
    assert fake_bluesky.blobs[cid]["mimeType"] == "image/png" and fake_bluesky.blobs[cid]["size"] == path.stat().st_size


def test_large_image_is_reencoded_under_the_blob_limit(
    build: Build, fake_bluesky: FakeBlueskyPDS, tmp_path: Path
) -> None:
    path = tmp_path / "big.png"
    Image.frombytes("RGB", (900, 700), os.urandom(900 * 700 * 3)).save(path)
    assert path.stat().st_size > 1_000_000
    publisher, _, _ = build()
    publisher.publish(post(3, "Noisy", (Media(path, "Noise"),)))
    [image] = fake_bluesky.posts[0]["value"]["embed"]["images"]
    blob = fake_bluesky.blobs[image["image"]["ref"]["$link"]]
    assert blob["size"] <= 1_000_000 and blob["mimeType"] == "image/jpeg"
    ratio = image["aspectRatio"]
    assert abs(ratio["width"] / ratio["height"] - 900 / 700) < 0.01


def test_session_is_stored_encrypted_and_refreshed_not_relogged(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, engine, settings = build()
    for n in range(5):
        publisher.publish(post(10 + n, f"post {n}"))
    assert fake_bluesky.logins == 1
    with Session(engine) as s:
        account = s.get(Account, "bluesky")
        assert account is not None and account.access_token_enc and account.refresh_token_enc
        assert APP_PASSWORD not in account.access_token_enc and "eyJ" not in account.access_token_enc
        stored = json.loads(decrypt(settings.key, account.access_token_enc))
        assert stored["did"] == DID and stored["accessJwt"] in fake_bluesky.access
    fake_bluesky.expire_access_tokens()
    publisher.publish(post(20, "after expiry"))  # 400 ExpiredToken -> refreshSession, no login
    assert (fake_bluesky.logins, fake_bluesky.refreshes) == (1, 1)
    second, _, _ = build()  # a new worker process reads the stored session
    second.publish(post(21, "from another worker"))
    assert fake_bluesky.logins == 1 and len(fake_bluesky.posts) == 7


def test_dead_refresh_token_logs_in_again(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build()
    publisher.publish(post(1, "one"))
    fake_bluesky.expire_access_tokens()
    fake_bluesky.revoke_refresh_tokens()
    publisher.publish(post(2, "two"))
    assert fake_bluesky.logins == 2


def test_retried_create_after_500_makes_no_second_post(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build()
    first = publisher.publish(post(5, "once only"))
    again = publisher.publish(post(5, "once only"))  # the PDS answers the repeated rkey with 500
    assert again.remote_id == first.remote_id and len(fake_bluesky.posts) == 1
    assert fake_bluesky.requests_to("getRecord", "GET")


def test_lost_answer_after_accept_resolves_to_the_record(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build()
    publisher.publish(post(1, "warm up"))
    fake_bluesky.reset_after_accept("createRecord$")
    result = publisher.publish(post(6, "accepted, answer lost"))
    assert result.remote_id == fake_bluesky.posts[-1]["uri"] and len(fake_bluesky.posts) == 2


def test_timeout_after_accept_resolves(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build(request_timeout=0.5)
    publisher.publish(post(1, "warm up"))
    fake_bluesky.hang_after_accept("createRecord$", seconds=2)
    result = publisher.publish(post(7, "slow"))
    assert result.remote_id.endswith(publisher.rkey(post(7, "slow")))


def test_500_before_accept_is_transient_and_retry_posts_once(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build()
    fake_bluesky.server_error()
    with pytest.raises(Transient):
        publisher.publish(post(8, "retry me"))
    assert fake_bluesky.posts == []
    publisher.publish(post(8, "retry me"))
    assert len(fake_bluesky.posts) == 1


def test_500_and_unreadable_record_is_outcome_unknown(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build()
    publisher.publish(post(1, "warm up"))
    fake_bluesky.server_error()
    fake_bluesky.server_error(503, path="getRecord$")
    with pytest.raises(OutcomeUnknown):
        publisher.publish(post(9, "unknown"))


def test_rate_limited_with_reset(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build()
    fake_bluesky.rate_limit(reset_in=120)
    with pytest.raises(RateLimited) as info:
        publisher.publish(post(1, "too fast"))
    assert info.value.reset_at is not None
    assert timedelta(seconds=100) < info.value.reset_at - datetime.now(UTC) <= timedelta(seconds=121)


def test_unauthorized_is_fixed_by_refresh_once(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build()
    fake_bluesky.unauthorized()
    publisher.publish(post(1, "after a 401"))
    assert len(fake_bluesky.posts) == 1 and fake_bluesky.refreshes == 1


def test_auth_failed_when_password_is_wrong_and_account_parked(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, engine, _ = build(bluesky_app_password="wrong-password")
    with pytest.raises(AuthFailed):
        publisher.publish(post(1, "nope"))
    with Session(engine) as s:
        account = s.get(Account, "bluesky")
        assert account is not None and account.status == AccountStatus.needs_reconnect


def test_invalid_request_is_rejected_in_plain_words(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build()
    with pytest.raises(Rejected) as info:
        publisher.publish(post(1, "x" * 3001))
    assert "longer than 3000" in info.value.reason


def test_connection_refused_is_transient(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build(bluesky_pds_url="http://127.0.0.1:9")
    with pytest.raises(Transient):
        publisher.publish(post(1, "nowhere"))


def test_drop_on_create_before_accept_is_transient(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build()
    publisher.publish(post(1, "warm up"))
    fake_bluesky.add_fault("drop", path="createRecord$")
    with pytest.raises(Transient):
        publisher.publish(post(2, "dropped"))
    assert len(fake_bluesky.posts) == 1


def test_find_recent_reads_exactly_that_record(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    publisher, _, _ = build()
    since = datetime.now(UTC)
    assert publisher.find_recent(post(3, "later"), since) is None
    made = publisher.publish(post(3, "later"))
    found = publisher.find_recent(post(3, "later"), since)
    assert found is not None and found.remote_id == made.remote_id
    assert found.url == f"https://bsky.app/profile/{DID}/post/{publisher.rkey(post(3, 'later'))}"


def test_fake_admin_counts_sessions(build: Build, fake_bluesky: FakeBlueskyPDS) -> None:
    import urllib.request

    publisher, _, _ = build()
    publisher.publish(post(1, "count"))
    with urllib.request.urlopen(f"{fake_bluesky.url}/_fake/sessions") as response:
        assert json.load(response) == {"createSession": 1, "refreshSession": 0}


def test_password_and_tokens_are_never_logged(
    build: Build, fake_bluesky: FakeBlueskyPDS, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    publisher, _, _ = build()
    publisher.publish(post(1, "quiet"))
    fake_bluesky.expire_access_tokens()
    publisher.publish(post(2, "still quiet"))
    assert "Bluesky session refreshed" in caplog.text
    secrets = [APP_PASSWORD, *fake_bluesky.access, *fake_bluesky.refresh]
    assert not any(s in caplog.text for s in secrets)
