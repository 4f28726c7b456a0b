"""Delivery end to end over real HTTP: signatures (checked by standardwebhooks' own verifier), retries with the same
id after a 500, a timeout and garbage, bounded reads, personal data only to personal endpoints, pausing a failing
receiver with a manager notice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session
from standardwebhooks import Webhook

from social_campaign.config import Settings
from social_campaign.crypto import encrypt
from social_campaign.db import session_scope
from social_campaign.models import ManagerNotice, WebhookDelivery, WebhookEndpoint, utcnow
from social_campaign.webhooks import endpoints, worker
from social_campaign.webhooks.events import emit
from tests.fakes.webhook_receiver import Receiver
from tests.webhooks.conftest import new_secret

D = WebhookDelivery.__table__  # type: ignore[attr-defined]


def _emit(engine: Engine, n: int = 1, type_: str = "pledge.confirmed") -> list[str]:
    with session_scope(engine) as session:
        return [emit(session, type_, {"pledge_id": i}, campaign="childrens-day",
                     personal={"name": f"Ada {i}", "email": f"ada{i}@example.org"}, now=utcnow()) for i in range(n)]


def _rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(D).order_by(D.c.id)).all())


def _time_passes(engine: Engine) -> None:
    """Make every waiting retry due now (as if its backoff had elapsed)."""
    with engine.begin() as conn:
        conn.execute(update(D).where(D.c.state == "queued").values(not_before=utcnow() - timedelta(seconds=1)))


def _verified(secret: str, item: dict[str, Any]) -> Any:
    return Webhook(secret).verify(item["body"], item["headers"])


def test_each_event_is_signed_and_verifies(wh_settings: Settings, wh_engine: Engine, receiver: Receiver, secret: str) -> None:
    ids = _emit(wh_engine, 3)
    assert worker.drain(wh_settings, wh_engine) == 3
    assert sorted(r["id"] for r in receiver.received) == sorted(ids)
    for item in receiver.received:
        body = _verified(secret, item)
        assert body["type"] == "pledge.confirmed" and body["timestamp"].endswith("Z")
        assert body["data"]["campaign"] == "childrens-day" and body["data"]["email"].endswith("@example.org")
        assert item["headers"]["content-type"] == "application/json"
    assert [r.state for r in _rows(wh_engine)] == ["sent"] * 3
    wrong = new_secret()
    try:
        _verified(wrong, receiver.received[0])
        raise AssertionError("a wrong secret verified")
    except Exception as exc:
        assert "signature" in str(exc).lower()


def test_a_500_is_retried_with_backoff_and_the_same_id(wh_settings: Settings, wh_engine: Engine, receiver: Receiver, secret: str) -> None:
    (event,) = _emit(wh_engine)
    receiver.fault("status", status=500)
    before = utcnow()
    worker.drain(wh_settings, wh_engine)
    (row,) = _rows(wh_engine)
    assert (row.state, row.attempts) == ("queued", 1) and row.last_error.startswith("HTTP 500")
    assert before + timedelta(seconds=worker.BACKOFF[0]) <= row.not_before <= utcnow() + timedelta(seconds=worker.BACKOFF[0])
    assert worker.drain(wh_settings, wh_engine) == 0  # not due yet
    _time_passes(wh_engine)
    worker.drain(wh_settings, wh_engine)
    (row,) = _rows(wh_engine)
    assert (row.state, row.attempts) == ("sent", 2)
    assert [(r["id"], r["answered"]) for r in receiver.received] == [(event, 500), (event, 204)]
    assert all(_verified(secret, r)["data"]["pledge_id"] == 0 for r in receiver.received)


def test_a_receiver_that_does_not_answer_in_time_is_retried(wh_settings: Settings, wh_engine: Engine, receiver: Receiver, secret: str) -> None:
    (event,) = _emit(wh_engine)
    receiver.fault("hang", seconds=3)
    worker.drain(wh_settings, wh_engine)
    (row,) = _rows(wh_engine)
    assert row.state == "queued" and "no answer within 0.5 s" in row.last_error
    _time_passes(wh_engine)
    worker.drain(wh_settings, wh_engine)
    assert _rows(wh_engine)[0].state == "sent"
    assert [r["id"] for r in receiver.received] == [event, event] and receiver.received[-1]["answered"] == 204
    _verified(secret, receiver.received[-1])


def test_garbage_is_a_failure_and_endless_or_huge_bodies_are_read_only_so_far(
    wh_settings: Settings, wh_engine: Engine, receiver: Receiver
) -> None:
    _emit(wh_engine, 3)
    for kind in ("garbage", "trickle", "huge"):
        receiver.fault(kind)
    settings = wh_settings.model_copy(update={"webhook_concurrency": 1})  # the faults meet the rows in order
    worker.drain(settings, wh_engine)
    first, second, third = _rows(wh_engine)
    assert first.state == "queued" and first.last_error  # not HTTP: failed, will be retried
    assert second.state == "sent" and third.state == "sent"  # a 2xx came back; the rest of its body was not waited for
    _time_passes(wh_engine)
    worker.drain(settings, wh_engine)
    assert [r.state for r in _rows(wh_engine)] == ["sent"] * 3


def test_personal_data_goes_only_to_personal_endpoints(wh_settings: Settings, wh_engine: Engine, receiver: Receiver, secret: str) -> None:
    crm_secret = new_secret()
    with Session(wh_engine) as s:
        s.add(WebhookEndpoint(name="stats", url=receiver.url, secret_enc=encrypt(wh_settings.key, crm_secret), personal=False))
        s.add(WebhookEndpoint(name="only-releases", url=receiver.url, secret_enc=encrypt(wh_settings.key, crm_secret),
                              events="release.*"))
        s.commit()
    (event,) = _emit(wh_engine)
    worker.drain(wh_settings, wh_engine)
    assert {r.endpoint for r in _rows(wh_engine)} == {"default", "stats"}  # only-releases is not subscribed
    bodies = {}
    for item in receiver.received:
        assert item["id"] == event
        try:
            bodies["default"] = _verified(secret, item)
        except Exception:
            bodies["stats"] = _verified(crm_secret, item)
    assert bodies["default"]["data"] == {"campaign": "childrens-day", "pledge_id": 0, "name": "Ada 0", "email": "ada0@example.org"}
    assert bodies["stats"]["data"] == {"campaign": "childrens-day", "pledge_id": 0}
    assert "ada0" not in next(r for r in _rows(wh_engine) if r.endpoint == "stats").payload_json


def test_a_receiver_that_keeps_failing_is_paused_and_the_manager_told(
    wh_settings: Settings, wh_engine: Engine, receiver: Receiver
) -> None:
    ids = _emit(wh_engine, 6)
    receiver.fault("status", status=503, times=-1)
    wh_settings = wh_settings.model_copy(update={"webhook_concurrency": 1})  # in order: no sends already in flight
    worker.drain(wh_settings, wh_engine)
    assert len(receiver.received) == wh_settings.webhook_pause_after  # the rest of the batch was not tried
    with Session(wh_engine) as s:
        ep = s.get(WebhookEndpoint, "default")
        assert ep is not None and ep.paused_at is not None and ep.failures == wh_settings.webhook_pause_after
        (notice,) = s.query(ManagerNotice).filter(ManagerNotice.kind == "webhook").all()
    assert "'default' paused after 4 failed deliveries in a row" in notice.message and "HTTP 503" in notice.message
    assert {r.state for r in _rows(wh_engine)} == {"paused"}
    (late,) = _emit(wh_engine)  # events while paused are kept, not lost
    assert _rows(wh_engine)[-1].state == "paused"
    _time_passes(wh_engine)
    assert worker.drain(wh_settings, wh_engine) == 0  # nothing goes to a paused endpoint
    receiver.faults.clear()
    assert endpoints.resume(wh_engine, "default") == 7
    _time_passes(wh_engine)
    worker.drain(wh_settings, wh_engine)
    assert {r.state for r in _rows(wh_engine)} == {"sent"}
    assert set(receiver.ok_ids()) == {*ids, late}


def test_a_row_left_sending_by_a_dead_worker_is_sent_again(wh_settings: Settings, wh_engine: Engine, receiver: Receiver) -> None:
    (event,) = _emit(wh_engine)
    rows = worker.claim(wh_engine, "otherhost:boot:1:h-dead", utcnow())
    assert [r.event_id for r in rows] == [event]
    assert worker.drain(wh_settings, wh_engine) == 0  # another host's claim: waits for the lease
    worker.recover(wh_engine, utcnow() + timedelta(seconds=wh_settings.lease_seconds + 1), wh_settings.lease_seconds)
    assert worker.drain(wh_settings, wh_engine) == 1
    (row,) = _rows(wh_engine)
    assert (row.state, row.attempts) == ("sent", 1) and receiver.ok_ids() == [event]
