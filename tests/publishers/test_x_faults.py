"""X: every failure maps to exactly one error class, and the fake never receives the same post twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from social_campaign.errors import (
    AuthFailed,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Transient,
)
from social_campaign.publishers.base import Media

TEXT = "US only country that has not ratified UN Convention on Rights of Child #USstandsAlone"


def assert_at_most_once(fake):
    sent = Counter(r["summary"] for r in fake.requests_to(r"^/2/tweets$") if r["fault"] is None or r["fault"] in ("hang", "reset"))
    created = Counter(p["sent_text"] for p in fake.posts)
    assert all(n == 1 for n in created.values()), created
    assert all(n == 1 for n in sent.values()), sent


@pytest.mark.parametrize("kind", ["x-oauth1", "x-oauth2"])
def test_429_gives_rate_limited_with_the_reset_time(build, kind):
    h = build(kind)
    fault = h.fake.rate_limit(reset_in=600)
    with pytest.raises(RateLimited) as info:
        h.publisher.publish(h.post(1, TEXT))
    sent_reset = int(fault.headers["x-rate-limit-reset"])  # the epoch second the fake answered with
    assert info.value.reset_at == datetime.fromtimestamp(sent_reset, UTC)
    assert info.value.reset_at.tzinfo is not None and info.value.http_status == 429
    assert h.fake.posts == []


def test_429_from_the_24_hour_cap_uses_its_reset(build):
    h = build("x-oauth1")
    fault = h.fake.rate_limit(user_24h_reset_in=20_000)
    with pytest.raises(RateLimited) as info:
        h.publisher.publish(h.post(1, TEXT))
    # the 24-hour cap is spent (remaining 0), the 15-minute window is not: its reset is the one to wait for
    assert int(fault.headers["x-user-limit-24hour-reset"]) > int(fault.headers["x-rate-limit-reset"])
    assert info.value.reset_at == datetime.fromtimestamp(int(fault.headers["x-user-limit-24hour-reset"]), UTC)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient_and_nothing_is_created(build, status):
    h = build("x-oauth1")
    h.fake.add_fault("status", path="^/2/tweets$", status=status, body="<html>upstream error</html>")
    with pytest.raises(Transient) as info:
        h.publisher.publish(h.post(1, TEXT))
    assert info.value.http_status == status
    assert h.fake.posts == []
    h.publisher.publish(h.post(1, TEXT))  # a retry after the outage posts it once
    assert [p["sent_text"] for p in h.fake.posts] == [TEXT]
    assert_at_most_once(h.fake)


def test_401_is_auth_failed_for_oauth1(build):
    h = build("x-oauth1", x_access_token_secret="wrong-token-secret-value")
    with pytest.raises(AuthFailed) as info:
        h.publisher.publish(h.post(1, TEXT))
    assert info.value.http_status == 401 and h.fake.posts == []


def test_duplicate_text_is_rejected_with_plain_words(build):
    h = build("x-oauth1")
    h.publisher.publish(h.post(1, TEXT))
    with pytest.raises(Rejected, match="duplicate of an earlier post") as info:
        h.publisher.publish(h.post(2, TEXT))
    assert info.value.http_status == 403
    assert len(h.fake.posts) == 1


def test_over_long_text_is_rejected_as_not_permitted(build):
    h = build("x-oauth1")
    with pytest.raises(Rejected, match="did not permit"):
        h.publisher.publish(h.post(1, "€" * 200))
    assert h.fake.posts == []


def test_accept_then_hang_is_outcome_unknown_and_the_post_exists_once(build):
    h = build("x-oauth1", request_timeout=0.5)
    h.fake.add_fault("hang", path="^/2/tweets$")
    since = datetime.now(UTC)
    with pytest.raises(OutcomeUnknown):
        h.publisher.publish(h.post(1, TEXT))
    assert [p["sent_text"] for p in h.fake.posts] == [TEXT]
    assert h.publisher.find_recent(h.post(1, TEXT), since) is not None  # reconciliation resolves it to sent
    assert_at_most_once(h.fake)


def test_accept_then_reset_is_outcome_unknown(build):
    h = build("x-oauth2")
    h.fake.add_fault("reset", path="^/2/tweets$")
    with pytest.raises(OutcomeUnknown):
        h.publisher.publish(h.post(1, TEXT))
    assert [p["sent_text"] for p in h.fake.posts] == [TEXT]
    assert_at_most_once(h.fake)


def test_reset_before_accepting_is_still_outcome_unknown_and_reconciles_to_absent(build):
    h = build("x-oauth1")
    h.fake.add_fault("drop", path="^/2/tweets$")
    since = datetime.now(UTC)
    with pytest.raises(OutcomeUnknown):
        h.publisher.publish(h.post(1, TEXT))
    assert h.fake.posts == []
    assert h.publisher.find_recent(h.post(1, TEXT), since) is None  # safe to resend


def test_refused_connection_is_transient(build):
    h = build("x-oauth1")
    h.fake.stop()
    with pytest.raises(Transient, match="could not be reached"):
        h.publisher.publish(h.post(1, TEXT))
    h.fake.start()  # same port
    h.publisher.publish(h.post(1, TEXT))
    assert [p["sent_text"] for p in h.fake.posts] == [TEXT]


@pytest.mark.parametrize("fault", ["hang", "reset"])
@pytest.mark.parametrize("path", ["^/2/media/upload$", "^/2/media/metadata$"])
def test_media_failures_before_the_create_are_transient_not_unknown(build, png, fault, path):
    h = build("x-oauth1", request_timeout=0.5)
    h.fake.add_fault(fault, path=path)
    with pytest.raises(Transient):
        h.publisher.publish(h.post(1, TEXT, (Media(png(), "alt"),)))
    assert h.fake.posts == [] and h.fake.requests_to(r"^/2/tweets$") == []


def test_media_upload_503_and_429_are_classified(build, png):
    h = build("x-oauth1")
    h.fake.add_fault("status", path="^/2/media/upload$", status=503, body="busy")
    with pytest.raises(Transient):
        h.publisher.publish(h.post(1, TEXT, (Media(png(), "alt"),)))
    h.fake.rate_limit(path="^/2/media/upload$", reset_in=300)
    with pytest.raises(RateLimited):
        h.publisher.publish(h.post(1, TEXT, (Media(png(), "alt"),)))
    assert h.fake.posts == []


def test_find_recent_errors_are_never_outcome_unknown(build):
    h = build("x-oauth1", request_timeout=0.5)
    h.fake.add_fault("hang", path="/tweets$", method="GET")
    with pytest.raises(Transient):
        h.publisher.find_recent(h.post(1, TEXT), datetime.now(UTC))
    h.fake.rate_limit(path="/tweets$", reset_in=60)
    with pytest.raises(RateLimited):
        h.publisher.find_recent(h.post(1, TEXT), datetime.now(UTC))


@pytest.mark.parametrize("url", ["http://nonexistent.invalid", "htp://wrong-scheme.example"])
def test_unresolvable_or_malformed_base_url_is_transient_never_unknown(build, url):
    h = build("x-oauth1", x_api_url=url)
    with pytest.raises(Transient, match="nothing was sent"):
        h.publisher.publish(h.post(1, TEXT))
