"""``reconnect mastodon``: a Mastodon account parked by a revoked token is checked, then used again, posting once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from social_campaign.config import Settings
from social_campaign.errors import ConfigError
from social_campaign.models import Account, utcnow
from social_campaign.scheduling.accounts import reconnect
from social_campaign.scheduling.sync import sync_loaded
from social_campaign.scheduling.worker import Worker
from tests.fakes import mastodon_settings
from tests.fakes.mastodon_api import UNAUTHORIZED
from tests.scheduling.helpers import campaign, post, rows


@pytest.fixture
def msettings(tmp_path, fake_mastodon) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", pledge_rate_limits="", request_timeout=1.0, worker_threads=1,
        _env_file=None, **mastodon_settings(fake_mastodon),
    )  # type: ignore[call-arg]  # fmt: skip


def test_reconnect_mastodon_checks_the_token_then_requeues_the_held_posts(msettings, engine, tmp_path, fake_mastodon):
    due = utcnow() - timedelta(seconds=1)
    camp = campaign(tmp_path, [post(i, at=due, channels=("mastodon",), text=f"Post {i} #CRC") for i in ("a", "b")])
    sync_loaded(msettings, engine, camp, due - timedelta(minutes=1))
    fake_mastodon.add_fault("status", path="^/api/v1/statuses$", method="POST", status=401, body=UNAUTHORIZED)
    worker = Worker(msettings, engine)
    worker.run_once()
    assert [r.state for r in rows(engine)] == ["needs_reconnect", "scheduled"]

    fake_mastodon.add_fault("status", path="verify_credentials", method="GET", times=-1, status=401, body=UNAUTHORIZED)
    with pytest.raises(ConfigError, match="mastodon: the network still refuses the credentials"):
        reconnect(msettings, engine, "mastodon", utcnow())
    with Session(engine) as session:
        assert session.get(Account, "mastodon").status == "needs_reconnect"
    assert worker.run_once() == 0 and fake_mastodon.posts == []

    fake_mastodon.clear_faults()
    assert reconnect(msettings, engine, "mastodon", utcnow()) == 1
    with Session(engine) as session:
        assert session.get(Account, "mastodon").status == "ok"
    assert worker.run_once() + worker.run_once() == 2
    assert [r.state for r in rows(engine)] == ["sent", "sent"]
    assert sorted(fake_mastodon.texts()) == ["Post a #CRC (mastodon)", "Post b #CRC (mastodon)"]
    worker.pool.close()
