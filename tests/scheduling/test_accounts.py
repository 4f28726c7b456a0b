"""``reconnect``: an account parked by an auth failure is checked with a read-only call, then used again."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlmodel import Session

from social_campaign.config import Settings
from social_campaign.errors import ConfigError, InputError
from social_campaign.models import Account, utcnow
from social_campaign.scheduling.accounts import reconnect
from social_campaign.scheduling.sync import sync_loaded
from social_campaign.scheduling.worker import Worker
from tests.fakes import x_api, x_oauth1_settings
from tests.scheduling.helpers import campaign, post, rows
from tests.scheduling.procs import ROOT


@pytest.fixture
def xsettings(tmp_path, fake_x) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", pledge_rate_limits="", request_timeout=1.0, worker_threads=1,
        _env_file=None, **x_oauth1_settings(fake_x),
    )  # type: ignore[call-arg]  # fmt: skip


def test_reconnect_checks_the_credentials_then_requeues_the_held_posts(xsettings, engine, tmp_path, fake_x):
    due = utcnow() - timedelta(seconds=1)
    camp = campaign(tmp_path, [post(i, at=due, channels=("x",), text=f"Post {i} #CRC") for i in ("a", "b")])
    sync_loaded(xsettings, engine, camp, due - timedelta(minutes=1))
    fake_x.add_fault("status", path="/2/tweets$", method="POST", times=1, status=401, body=x_api.UNAUTHORIZED)
    worker = Worker(xsettings, engine)
    worker.run_once()
    assert [r.state for r in rows(engine)] == ["needs_reconnect", "scheduled"]

    # the credentials are still refused: nothing changes
    fake_x.add_fault("status", path="/2/users", method="GET", times=-1, status=401, body=x_api.UNAUTHORIZED)
    with pytest.raises(ConfigError, match="x: the network still refuses the credentials"):
        reconnect(xsettings, engine, "x", utcnow())
    with Session(engine) as session:
        assert session.get(Account, "x").status == "needs_reconnect"
    assert worker.run_once() == 0 and fake_x.posts == []

    # fixed: the account is used again and both posts go out, once each
    fake_x.clear_faults()
    assert reconnect(xsettings, engine, "x", utcnow()) == 1
    with Session(engine) as session:
        assert session.get(Account, "x").status == "ok"
    assert worker.run_once() + worker.run_once() == 2
    assert [r.state for r in rows(engine)] == ["sent", "sent"] and len(fake_x.posts) == 2
    worker.pool.close()


def test_reconnect_names_the_known_channels(settings, engine):
    with pytest.raises(InputError, match="'myspace' is not a channel; choose one of outbox, x, facebook, mastodon, bluesky"):
        reconnect(settings, engine, "myspace", utcnow())
    assert reconnect(settings, engine, "x", utcnow()) == 0  # no credentials: the outbox needs no check


def test_reconnect_cli_is_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SOCIAL_CAMPAIGN_DATA_DIR": str(tmp_path / "data")}
    run = [sys.executable, "-m", "social_campaign", "reconnect"]
    bad = subprocess.run([*run, "myspace"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stderr.strip() == (
        "error: 'myspace' is not a channel; choose one of outbox, x, facebook, mastodon, bluesky"
    )
    good = subprocess.run([*run, "facebook"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert good.returncode == 0 and "facebook: account in use again; 0 held posts requeued" in good.stdout
