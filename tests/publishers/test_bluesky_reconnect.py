"""``reconnect bluesky``: a parked account proves its new app password with one login, then is used again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from social_campaign.config import Settings
from social_campaign.db import make_engine, upgrade
from social_campaign.errors import AuthFailed, ConfigError
from social_campaign.models import Account, AccountStatus
from social_campaign.publishers import build_publisher
from social_campaign.publishers.base import OutgoingPost
from social_campaign.scheduling.accounts import reconnect
from tests.fakes import bluesky_settings
from tests.fakes.bluesky_pds import FakeBlueskyPDS


def settings(tmp_path: Path, fake: FakeBlueskyPDS, **kw: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", pledge_rate_limits="", _env_file=None, **{**bluesky_settings(fake), **kw}
    )


def test_reconnect_logs_in_with_the_new_password_and_unparks(tmp_path: Path, fake_bluesky: FakeBlueskyPDS) -> None:
    bad = settings(tmp_path, fake_bluesky, bluesky_app_password="revoked-password")
    engine = make_engine(bad.resolved_database_url)
    upgrade(engine)
    with build_publisher("bluesky", bad, engine) as publisher, pytest.raises(AuthFailed):
        publisher.publish(OutgoingPost(delivery_id=1, channel="bluesky", text="held", idempotency_key="c/p/bluesky/0"))
    with Session(engine) as s:
        assert s.get(Account, "bluesky").status == AccountStatus.needs_reconnect  # type: ignore[union-attr]

    with pytest.raises(ConfigError):
        reconnect(bad, engine, "bluesky", datetime.now(UTC))
    logins = fake_bluesky.logins

    good = settings(tmp_path, fake_bluesky)
    assert reconnect(good, engine, "bluesky", datetime.now(UTC)) == 0
    assert fake_bluesky.logins == logins + 1
    with Session(engine) as s:
        account = s.get(Account, "bluesky")
        assert account is not None and account.status == AccountStatus.ok and account.refresh_token_enc
    with build_publisher("bluesky", good, engine) as publisher:
        publisher.publish(OutgoingPost(delivery_id=2, channel="bluesky", text="back", idempotency_key="c/p2/bluesky/0"))
    assert fake_bluesky.logins == logins + 1 and len(fake_bluesky.posts) == 1
