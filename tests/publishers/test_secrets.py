"""Credentials never reach a log line (at any level) or an error message."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from social_campaign.errors import PublishError
from tests.fakes import graph_api, x_api


def secrets_of(fake_x) -> list[str]:
    fixed = [x_api.CONSUMER_SECRET, x_api.ACCESS_TOKEN, x_api.ACCESS_TOKEN_SECRET, x_api.CLIENT_SECRET, x_api.REFRESH_TOKEN, graph_api.PAGE_TOKEN]
    return fixed + list(fake_x.access_tokens) + list(fake_x.refresh_tokens)


def test_no_secret_in_debug_logs_or_error_messages(build, png, caplog):
    caplog.set_level(logging.DEBUG)
    from social_campaign.publishers.base import Media

    messages: list[str] = []
    for kind in ("x-oauth1", "x-oauth2", "facebook"):
        h = build(kind)
        h.publisher.publish(h.post(1, f"{kind} hello https://example.org", (Media(png(), "alt"),)))
        h.publisher.find_recent(h.post(1, f"{kind} hello"), datetime.now(UTC))
        h.fake.add_fault("status", path=r"^/2/tweets$|/(feed|photos)$", status=401 if kind != "facebook" else 400, times=2,
                         body=x_api.UNAUTHORIZED if kind != "facebook" else graph_api.graph_error(190, 460).body)  # fmt: skip
        with pytest.raises(PublishError) as info:
            h.publisher.publish(h.post(2, f"{kind} refused"))
        messages.append(str(info.value))
        messages.append(str(info.value.__cause__))
        h.fake.clear_faults()
    h = build("x-oauth2")
    h.fake.refresh_tokens.update(dict.fromkeys(h.fake.refresh_tokens, False))
    from sqlmodel import Session

    from social_campaign.models import Account

    with Session(h.engine) as s:
        s.delete(s.get(Account, "x"))
        s.commit()
    fresh = build("x-oauth2")
    with pytest.raises(PublishError) as info:
        fresh.publisher.publish(fresh.post(3, "spent token"))
    messages.append(str(info.value))
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "Making API request" in logged or "127.0.0.1" in logged  # the libraries did log at DEBUG
    for secret in secrets_of(h.fake):
        assert secret not in logged, f"a credential was logged: {secret[:6]}…"
        assert all(secret not in m for m in messages), f"a credential is in an error message: {secret[:6]}…"
