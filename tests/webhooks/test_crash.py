"""kill -9 of a real ``social-campaign worker`` mid fan-out: restarted, every event id arrives at least once.

The receiver runs in this process on 127.0.0.1; the worker is a real process (``python -m social_campaign worker``)
killed with SIGKILL twice while it is sending, then restarted. At least once: each event id arrives ≥ 1 time,
duplicates only for rows in flight at the kill, and the receiver's de-duplication by ``webhook-id`` gives exactly
the set of events emitted. Every request's signature is checked with standardwebhooks' verifier.
"""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from standardwebhooks import Webhook

from social_campaign.config import Settings
from social_campaign.db import make_engine, session_scope, upgrade
from social_campaign.models import WebhookDelivery, utcnow
from social_campaign.webhooks import endpoints
from social_campaign.webhooks.events import emit
from tests.fakes.webhook_receiver import Receiver
from tests.scheduling.procs import start_worker, stop, wait_for, worker_env
from tests.webhooks.conftest import new_secret

pytestmark = pytest.mark.slow
N = 3000
D = WebhookDelivery.__table__  # type: ignore[attr-defined]


def test_no_event_is_lost_across_kill_9_of_the_worker(any_url: str, tmp_path: Path, receiver: Receiver) -> None:
    secret, data = new_secret(), tmp_path / "data"
    env_settings = {"SOCIAL_CAMPAIGN_DATABASE_URL": any_url, "SOCIAL_CAMPAIGN_SECRET_KEY": "crash-test-key-0001",
                    "SOCIAL_CAMPAIGN_WEBHOOK_URL": receiver.url, "SOCIAL_CAMPAIGN_WEBHOOK_SECRET": secret}
    settings = Settings(data_dir=data, database_url=any_url, secret_key=SecretStr("crash-test-key-0001"),
                        webhook_url=receiver.url, webhook_secret=secret, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(any_url)
    upgrade(engine)
    endpoints.sync_from_settings(settings, engine, utcnow())
    with session_scope(engine) as session:
        ids = {emit(session, "delivery.sent", {"delivery_id": i, "channel": "x"}, campaign="c", now=utcnow())
               for i in range(N)}  # fmt: skip
    env = worker_env(data, "http://127.0.0.1:9", **env_settings)
    log = tmp_path / "worker.log"
    for kill_at in (600, 1800):
        proc = start_worker(env, log)
        wait_for(lambda p=proc, k=kill_at: receiver.count >= k or p.poll() is not None, 120, f"{kill_at} received")
        assert proc.poll() is None, log.read_text()[-2000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert len(set(receiver.ok_ids())) < N  # killed mid fan-out
    proc = start_worker(env, log)

    def all_sent() -> bool:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(D).where(D.c.state == "sent")).scalar_one() == N

    wait_for(all_sent, 180, "every webhook sent")
    assert stop(proc) == 0
    got = Counter(receiver.ok_ids())
    assert set(got) == ids  # de-duplicated by webhook-id: exactly the events emitted, none lost
    assert all(n >= 1 for n in got.values())
    duplicates = sum(got.values()) - N
    assert duplicates <= 2 * 200  # at most a claimed batch per kill is sent again
    verifier = Webhook(secret)
    for item in receiver.received:
        assert verifier.verify(item["body"], item["headers"])["type"] == "delivery.sent"
    engine.dispose()
