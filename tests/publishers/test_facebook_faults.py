"""Facebook: Graph error codes, HTTP failures and timeouts map to the error classes; no post is received twice."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from social_campaign.errors import (
    AuthFailed,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Transient,
)
from social_campaign.publishers.base import Media

TEXT = "Show your support for #ChildrensDay and #childrights: the US is the only country that has not ratified the CRC."


def assert_at_most_once(fake):
    created = Counter(fake.messages())
    assert all(n == 1 for n in created.values()), created


@pytest.mark.parametrize(
    ("code", "subcode", "error_class", "words"),
    [
        (4, None, RateLimited, "rate limit"),
        (17, None, RateLimited, "rate limit"),
        (32, None, RateLimited, "rate limit"),
        (613, None, RateLimited, "rate limit"),
        (80001, None, RateLimited, "rate limit"),
        (1, None, Transient, "temporary"),
        (2, None, Transient, "temporary"),
        (190, 463, AuthFailed, "token expired"),
        (10, None, AuthFailed, "permission"),
        (200, None, AuthFailed, "permission"),
        (299, None, AuthFailed, "permission"),
        (368, None, Rejected, "policies"),
        (506, None, Rejected, "duplicate"),
        (100, None, Rejected, "refused"),
    ],
)
@pytest.mark.parametrize("with_image", [False, True])
def test_graph_error_codes_map_to_error_classes(build, png, code, subcode, error_class, words, with_image):
    h = build("facebook")
    h.fake.error_fault(code, subcode=subcode)
    media = (Media(png(), "alt"),) if with_image else ()
    with pytest.raises(error_class, match=words) as info:
        h.publisher.publish(h.post(1, TEXT, media))
    err = info.value
    assert type(err) is error_class
    assert err.code == str(code) and err.http_status in (400, 403, 500, 503)
    assert "fbtrace_id" in err.reason and (subcode is None or f"subcode {subcode}" in err.reason)
    assert h.fake.posts == []


def test_rate_limit_reset_comes_from_the_business_use_case_header(build):
    h = build("facebook")
    usage = {"104000000000001": [{"type": "pages", "call_count": 100, "total_cputime": 5, "total_time": 5, "estimated_time_to_regain_access": 7}]}
    h.fake.error_fault(80001, headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as info:
        h.publisher.publish(h.post(1, TEXT))
    after = datetime.now(UTC)
    # 7 minutes from when the answer arrived, which lies between the two readings however slow the machine is
    assert before + timedelta(minutes=7) <= info.value.reset_at <= after + timedelta(minutes=7)


def test_the_same_message_twice_is_rejected_as_duplicate_by_the_fake_itself(build):
    h = build("facebook")
    h.publisher.publish(h.post(1, TEXT))
    with pytest.raises(Rejected, match="duplicate"):
        h.publisher.publish(h.post(2, TEXT))
    assert h.fake.messages() == [TEXT]


def test_a_wrong_page_token_is_auth_failed(build):
    h = build("facebook", facebook_page_token="EAAwrongtoken")
    with pytest.raises(AuthFailed, match="code 190"):
        h.publisher.publish(h.post(1, TEXT))


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_non_json_5xx_is_transient(build, status):
    h = build("facebook")
    h.fake.add_fault("status", path="/feed$", status=status, body="<html><body>Bad Gateway</body></html>")
    with pytest.raises(Transient) as info:
        h.publisher.publish(h.post(1, TEXT))
    assert info.value.http_status == status and h.fake.posts == []


def test_non_json_404_is_rejected_not_a_crash(build):
    h = build("facebook")
    h.fake.add_fault("status", path="/feed$", status=404, body="<html>not found</html>")
    with pytest.raises(Rejected, match="404"):
        h.publisher.publish(h.post(1, TEXT))


@pytest.mark.parametrize("fault", ["hang", "reset"])
@pytest.mark.parametrize("with_image", [False, True])
def test_accept_then_no_answer_is_outcome_unknown_and_the_post_exists_once(build, png, fault, with_image):
    h = build("facebook", request_timeout=0.5)
    h.fake.add_fault(fault, path=r"/(feed|photos)$", method="POST")
    since = datetime.now(UTC)
    with pytest.raises(OutcomeUnknown):
        h.publisher.publish(h.post(1, TEXT, (Media(png(), "alt"),) if with_image else ()))
    assert h.fake.messages() == [TEXT]
    found = h.publisher.find_recent(h.post(1, TEXT), since)
    assert found is not None and found.remote_id == h.fake.posts[0]["id"]
    assert_at_most_once(h.fake)


def test_unpublished_photo_upload_failure_is_transient(build, png):
    h = build("facebook", request_timeout=0.5)
    h.fake.add_fault("hang", path="/photos$")
    with pytest.raises(Transient):
        h.publisher.publish(h.post(1, TEXT, (Media(png("a.png"), "a"), Media(png("b.png"), "b"))))
    assert h.fake.posts == []


def test_refused_connection_is_transient(build):
    h = build("facebook")
    h.fake.stop()
    with pytest.raises(Transient, match="could not be reached"):
        h.publisher.publish(h.post(1, TEXT))
    h.fake.start()
    h.publisher.publish(h.post(1, TEXT))
    assert h.fake.messages() == [TEXT]


def test_find_recent_failures_are_transient_or_rate_limited(build):
    h = build("facebook", request_timeout=0.5)
    h.fake.add_fault("reset", path="/feed$", method="GET")
    with pytest.raises(Transient):
        h.publisher.find_recent(h.post(1, TEXT), datetime.now(UTC))
    h.fake.error_fault(17, path="/feed$", method="GET")
    with pytest.raises(RateLimited):
        h.publisher.find_recent(h.post(1, TEXT), datetime.now(UTC))


@pytest.mark.parametrize("url", ["http://nonexistent.invalid", "htp://wrong-scheme.example"])
def test_unresolvable_or_malformed_base_url_is_transient_never_unknown(build, url):
    h = build("facebook", facebook_graph_url=url)
    with pytest.raises(Transient, match="nothing was sent"):
        h.publisher.publish(h.post(1, TEXT))
