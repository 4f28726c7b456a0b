"""Mastodon: every failure maps to exactly one error class, and the fake never holds the same delivery twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from social_campaign.errors import AuthFailed, OutcomeUnknown, RateLimited, Rejected, Transient
from social_campaign.publishers.base import Media
from tests.fakes.mastodon_api import MAX_CHARACTERS, UNAUTHORIZED, rate_limit_headers

TEXT = "The UN Convention on the Rights of the Child is 35 years old #CRC35"
STATUSES = r"^/api/v1/statuses$"


def assert_once_per_key(fake):
    keys = Counter(p["idempotency_key"] for p in fake.posts)
    assert all(n == 1 for n in keys.values()), keys


def test_429_gives_rate_limited_with_the_reset_time(build):
    h = build("mastodon")
    reset = datetime.now(UTC).replace(microsecond=123000) + timedelta(minutes=5)
    h.fake.add_fault(
        "status", path=STATUSES, status=429, body={"error": "Too many requests"}, headers=rate_limit_headers(reset)
    )
    with pytest.raises(RateLimited) as info:
        h.publisher.publish(h.post(1, TEXT))
    assert info.value.reset_at == reset and info.value.http_status == 429
    assert h.fake.posts == []


def test_429_without_a_reset_header_still_rate_limits(build):
    h = build("mastodon")
    h.fake.add_fault("status", path=STATUSES, status=429, body={"error": "Too many requests"})
    with pytest.raises(RateLimited) as info:
        h.publisher.publish(h.post(1, TEXT))
    assert info.value.reset_at is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient_and_a_retry_posts_once(build, status):
    h = build("mastodon")
    h.fake.add_fault("status", path=STATUSES, status=status, body="<html>upstream error</html>")
    with pytest.raises(Transient) as info:
        h.publisher.publish(h.post(1, TEXT))
    assert info.value.http_status == status and h.fake.posts == []
    h.publisher.publish(h.post(1, TEXT))
    assert h.fake.texts() == [TEXT]
    assert_once_per_key(h.fake)


def test_unreachable_server_is_transient(build):
    h = build("mastodon")
    h.fake.stop()
    with pytest.raises(Transient, match="could not be reached"):
        h.publisher.publish(h.post(1, TEXT))


def test_a_revoked_token_is_auth_failed(build):
    h = build("mastodon", mastodon_access_token="revoked-token-value")
    with pytest.raises(AuthFailed, match="reconnect") as info:
        h.publisher.publish(h.post(1, TEXT))
    assert info.value.http_status == 401 and h.fake.posts == []


def test_403_is_auth_failed(build):
    h = build("mastodon")
    h.fake.add_fault(
        "status", path=STATUSES, status=403, body={"error": "This action is outside the authorized scopes"}
    )
    with pytest.raises(AuthFailed, match="outside the authorized scopes") as info:
        h.publisher.publish(h.post(1, TEXT))
    assert info.value.http_status == 403


def test_422_is_rejected_with_the_servers_words(build):
    h = build("mastodon")
    with pytest.raises(Rejected, match=f"Text character limit of {MAX_CHARACTERS} exceeded") as info:
        h.publisher.publish(h.post(1, "x" * (MAX_CHARACTERS + 1)))
    assert info.value.http_status == 422 and h.fake.posts == []


def test_401_on_reconciliation_is_auth_failed(build):
    h = build("mastodon")
    h.fake.add_fault("status", path="verify_credentials", status=401, body=UNAUTHORIZED, method="GET")
    with pytest.raises(AuthFailed):
        h.publisher.find_recent(h.post(1, TEXT), datetime.now(UTC))


@pytest.mark.parametrize("fault", ["reset", "drop"])
def test_no_answer_to_the_create_is_outcome_unknown_and_the_key_prevents_a_duplicate(build, fault):
    h = build("mastodon")
    since = datetime.now(UTC) - timedelta(seconds=1)
    h.fake.add_fault(fault, path=STATUSES, method="POST")
    with pytest.raises(OutcomeUnknown):
        h.publisher.publish(h.post(1, TEXT))
    found = h.publisher.find_recent(h.post(1, TEXT), since)
    assert (found is not None) == (fault == "reset")  # "drop" never reached the server
    result = h.publisher.publish(h.post(1, TEXT))
    assert h.fake.texts() == [TEXT] and h.fake.posts[0]["id"] == result.remote_id
    assert found is None or found.remote_id == result.remote_id
    assert_once_per_key(h.fake)


@pytest.mark.parametrize("status", [500, 422])
def test_a_failed_media_upload_posts_nothing(build, png, status):
    h = build("mastodon")
    h.fake.add_fault(
        "status",
        path=r"^/api/v2/media$",
        status=status,
        body={"error": "Validation failed: File content type is invalid"},
    )
    with pytest.raises(Transient if status == 500 else Rejected):
        h.publisher.publish(h.post(1, TEXT, (Media(png(), "alt"),)))
    assert h.fake.posts == [] and h.fake.requests_to(STATUSES) == []


def test_a_connection_reset_during_media_polling_is_transient(build, png):
    h = build("mastodon")
    h.publisher.media_poll = 0.01
    h.fake.add_fault("drop", path=r"^/api/v1/media/", method="GET")
    with pytest.raises(Transient):
        h.publisher.publish(h.post(1, TEXT, (Media(png(), "alt"),)))
    assert h.fake.posts == []


@pytest.mark.parametrize(("kind", "error"), [("reset", Transient), ("500", Transient), ("429", RateLimited)])
def test_reconciliation_that_cannot_be_answered_raises(build, kind, error):
    h = build("mastodon")
    h.publisher.publish(h.post(1, TEXT))
    timeline = r"^/api/v1/accounts/\d+/statuses$"
    if kind == "reset":
        h.fake.add_fault("reset", path=timeline, method="GET")
    else:
        h.fake.add_fault("status", path=timeline, method="GET", status=int(kind), body={"error": "busy"})
    with pytest.raises(error):
        h.publisher.find_recent(h.post(1, TEXT), datetime.now(UTC) - timedelta(minutes=1))
