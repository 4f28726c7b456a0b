"""Bad webhook settings are refused at start with one line naming the setting; the settings endpoint is synced."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session

from social_campaign.config import Settings
from social_campaign.crypto import decrypt
from social_campaign.db import session_scope
from social_campaign.models import WebhookDelivery, WebhookEndpoint, utcnow
from social_campaign.webhooks import endpoints
from social_campaign.webhooks.events import emit
from tests.webhooks.conftest import new_secret

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("env", "expected"), [
    ({"SOCIAL_CAMPAIGN_WEBHOOK_URL": "ftp://hooks.example.org/in"},
     "SOCIAL_CAMPAIGN_WEBHOOK_URL: scheme 'ftp' is not http:// or https://"),
    ({"SOCIAL_CAMPAIGN_WEBHOOK_URL": "https://hooks.example.org/in", "SOCIAL_CAMPAIGN_WEBHOOK_SECRET": "hunter2-hunter2"},
     "SOCIAL_CAMPAIGN_WEBHOOK_SECRET: is not a whsec_… secret"),
    ({"SOCIAL_CAMPAIGN_WEBHOOK_URL": "https://hooks.example.org/in", "SOCIAL_CAMPAIGN_WEBHOOK_SECRET": "whsec_!!notbase64"},
     "SOCIAL_CAMPAIGN_WEBHOOK_SECRET: is not whsec_ followed by valid base64"),
    ({"SOCIAL_CAMPAIGN_WEBHOOK_URL": "https://hooks.example.org/in", "SOCIAL_CAMPAIGN_WEBHOOK_SECRET": "whsec_c2hvcnQ="},
     "SOCIAL_CAMPAIGN_WEBHOOK_SECRET: decodes to 5 bytes"),
    ({"SOCIAL_CAMPAIGN_WEBHOOK_URL": "https://hooks.example.org/in"},
     "Webhook credentials are incomplete: missing SOCIAL_CAMPAIGN_WEBHOOK_SECRET"),
])  # fmt: skip
def test_bad_webhook_settings_stop_the_worker_with_one_line(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
    proc = subprocess.run(
        [sys.executable, "-m", "social_campaign", "worker"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**base, "PYTHONPATH": str(ROOT), "SOCIAL_CAMPAIGN_DATA_DIR": str(tmp_path / "data"), **env},
    )  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and len(lines) == 1 and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and "hunter2" not in proc.stderr + proc.stdout
    assert not (tmp_path / "data" / "social-campaign.db").exists()  # nothing created


def test_the_settings_endpoint_is_stored_encrypted_updated_and_removed(settings: Settings, engine: Engine) -> None:
    first, second = new_secret(), new_secret()
    s1 = settings.model_copy(update={"webhook_url": "https://crm.example.org/hooks", "webhook_secret": SecretStr(first)})
    endpoints.sync_from_settings(s1, engine, utcnow())
    with Session(engine) as s:
        ep = s.get(WebhookEndpoint, "default")
        assert ep is not None and ep.personal and first not in ep.secret_enc and decrypt(settings.key, ep.secret_enc) == first
    s2 = s1.model_copy(update={"webhook_secret": SecretStr(second)})
    endpoints.sync_from_settings(s2, engine, utcnow())
    assert endpoints.load(engine, settings.key)["default"].secret == second
    with session_scope(engine) as session:
        emit(session, "pledge.withdrawn", {"pledge_id": 1}, campaign="c", now=utcnow())
    assert endpoints.sync_from_settings(settings, engine, utcnow()) is None  # unset: removed, its events dropped
    with Session(engine) as s:
        assert s.get(WebhookEndpoint, "default") is None
        (row,) = s.query(WebhookDelivery).all()
        assert (row.state, row.last_error) == ("failed", "endpoint removed from settings")
