"""Fixtures for the webhook tests: a recording receiver on 127.0.0.1, a ``whsec_`` secret, settings pointing at both."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.models import utcnow
from social_campaign.webhooks import endpoints
from tests.fakes.webhook_receiver import Receiver


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver().start()
    yield rec
    rec.stop()


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def wh_settings(tmp_path: Path, receiver: Receiver, secret: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", pledge_rate_limits="", webhook_url=receiver.url, webhook_secret=secret,
                    webhook_timeout_seconds=0.5, webhook_pause_after=4, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def wh_engine(any_engine: Engine, wh_settings: Settings) -> Engine:
    """``any_engine`` (SQLite, and PostgreSQL when a server answers) with the settings endpoint synced."""
    assert endpoints.sync_from_settings(wh_settings, any_engine, utcnow()) == "default"
    return any_engine
