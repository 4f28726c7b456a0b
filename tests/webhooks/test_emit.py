"""Events are queued in the same transaction as the change that causes them, at every emission point."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.crypto import encrypt
from social_campaign.db import session_scope
from social_campaign.models import Pledge, WebhookDelivery, WebhookEndpoint, utcnow
from social_campaign.pledges import intake, release, tokens
from social_campaign.scheduling.worker import Worker
from social_campaign.webhooks.events import emit, new_event_id, subscribed
from tests.fakes import x_oauth1_settings
from tests.pledges.release_support import add_pledges, make_campaign
from tests.scheduling.helpers import campaign, post
from tests.webhooks.conftest import new_secret


def _endpoint(engine: Engine, key: bytes, name: str = "default", personal: bool = True) -> None:
    with Session(engine) as s:
        s.add(WebhookEndpoint(name=name, url="http://127.0.0.1:9/", secret_enc=encrypt(key, new_secret()), personal=personal))
        s.commit()


def _events(engine: Engine) -> list[tuple[str, dict]]:
    with Session(engine) as s:
        rows = s.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    return [(r.type, json.loads(r.payload_json)["data"]) for r in rows]


def test_event_ids_are_unique_and_subscriptions_match() -> None:
    ids = {new_event_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(i.startswith("evt_") and len(i) == 30 for i in ids)
    assert subscribed("*", "pledge.erased") and subscribed("pledge.*,release.decided", "pledge.erased")
    assert not subscribed("release.*", "pledge.erased") and not subscribed("delivery.sent", "delivery.failed")


def test_no_endpoint_no_row_and_a_rollback_takes_the_event_with_it(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as session:
        assert emit(session, "autoshare.posted", {"pledge_id": 1}, campaign="c", now=utcnow()).startswith("evt_")
    _endpoint(engine, settings.key)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        emit(session, "pledge.confirmed", {"pledge_id": 1}, campaign="c", now=utcnow())
        raise RuntimeError("the change failed")
    with engine.begin() as conn:  # a Connection works as well as a Session
        emit(conn, "pledge.erased", {"pledge_id": 1}, campaign="c", now=utcnow())
    assert [t for t, _ in _events(engine)] == ["pledge.erased"]
    with pytest.raises(ValueError, match="personal"), session_scope(engine) as session:
        emit(session, "pledge.confirmed", {"email": "a@example.org"}, campaign="c", now=utcnow())


def test_confirm_and_withdraw_emit_pledge_events(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    _endpoint(engine, settings.key)
    base = make_campaign(tmp_path)
    now = utcnow()
    assert base.pledge is not None
    camp = replace(base, pledge=replace(base.pledge, deadline=now + timedelta(days=1), fire_at=now + timedelta(days=2)))
    with engine.begin() as conn:
        conn.execute(insert(Pledge.__table__).values(  # type: ignore[attr-defined]
            campaign=camp.slug, name="Ada", email="ada@example.org", email_canonical="ada@example.org",
            active_email="ada@example.org", status="pending", ip_hash="", created_at=now, country="CH",
            confirm_token_hash=tokens.token_hash("c-token"), withdraw_token_hash=tokens.token_hash("w-token")))
    pledge = intake.confirm(settings, engine, camp, "c-token", now)
    intake.withdraw(settings, engine, camp, "w-token", now)
    intake.withdraw(settings, engine, camp, "w-token", now)  # idempotent: no second event
    assert _events(engine) == [
        ("pledge.confirmed", {"campaign": camp.slug, "pledge_id": pledge.id, "status": "confirmed", "country": "CH",
                              "name": "Ada", "email": "ada@example.org"}),
        ("pledge.withdrawn", {"campaign": camp.slug, "pledge_id": pledge.id, "status": "withdrawn", "country": "CH",
                              "name": "Ada", "email": "ada@example.org", "was_confirmed": True}),
    ]  # fmt: skip


def test_release_decided_is_emitted_once(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    _endpoint(engine, settings.key, personal=False)
    camp = make_campaign(tmp_path, goal=3)
    add_pledges(engine, 2)
    assert camp.pledge is not None
    for _ in range(2):
        release.advance(settings, engine, camp, utcnow())
    ((kind, data),) = _events(engine)
    assert kind == "release.decided" and (data["state"], data["confirmed"], data["goal"]) == ("failed", 2, 3)


def test_deliveries_emit_sent_and_failed(tmp_path: Path, fake_x, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    from social_campaign.scheduling.sync import sync_loaded

    settings = Settings(data_dir=tmp_path / "data", pledge_rate_limits="", request_timeout=1.0, _env_file=None,
                        **x_oauth1_settings(fake_x))  # type: ignore[call-arg]
    _endpoint(engine, settings.key, personal=False)
    due = utcnow() - timedelta(seconds=1)
    camp = campaign(tmp_path, [post(i, at=due, channels=("x",), text=f"Post {i}: ratify the #CRC") for i in ("a", "b")])
    sync_loaded(settings, engine, camp, due - timedelta(minutes=1))
    fake_x.add_fault("status", path="/2/tweets$", method="POST", times=1, status=403,
                     body={"detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403})
    worker = Worker(settings.model_copy(update={"worker_threads": 1}), engine)
    while worker.run_once():
        pass
    worker.pool.close()
    events = sorted(_events(engine), key=lambda e: e[0])
    assert [t for t, _ in events] == ["delivery.failed", "delivery.sent"]
    failed, sent = events[0][1], events[1][1]
    assert sent["channel"] == "x" and sent["remote_id"] == fake_x.posts[0]["id"] and sent["url"]
    assert failed["channel"] == "x" and failed["reason"] and failed["post"] in ("a", "b")


def test_a_reconciled_delivery_emits_sent_once(tmp_path: Path, fake_x, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    """An uncertain attempt found on the network by reconciliation is as sent as a direct send: one delivery.sent."""
    from social_campaign.scheduling.sweeper import sweep
    from social_campaign.scheduling.sync import sync_loaded

    settings = Settings(data_dir=tmp_path / "data", pledge_rate_limits="", request_timeout=1.0, _env_file=None,
                        **x_oauth1_settings(fake_x))  # type: ignore[call-arg]
    _endpoint(engine, settings.key, personal=False)
    due = utcnow() - timedelta(seconds=1)
    sync_loaded(settings, engine, campaign(tmp_path, [post("a", at=due, channels=("x",), text="Ratify the #CRC")]),
                due - timedelta(minutes=1))
    fake_x.add_fault("hang", path="/2/tweets$", method="POST", seconds=3)  # accepted; the answer comes too late
    worker = Worker(settings.model_copy(update={"worker_threads": 1}), engine)
    worker.run_once()
    assert _events(engine) == []  # outcome unknown: nothing to announce yet
    assert sweep(settings, engine, utcnow(), pool=worker.pool).sent == 1
    assert sweep(settings, engine, utcnow(), pool=worker.pool).sent == 0
    worker.pool.close()
    events = _events(engine)
    assert [t for t, _ in events] == ["delivery.sent"]
    assert events[0][1]["channel"] == "x" and events[0][1]["url"] and events[0][1]["post"] == "a"
