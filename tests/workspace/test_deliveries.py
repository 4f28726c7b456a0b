"""Retry and cancel: which states move where, refusals that change nothing, the audit entry, and the worker's view."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.db import session_scope
from social_campaign.errors import Conflict, NotFound
from social_campaign.models import AuditEntry, Delivery
from social_campaign.scheduling.claim import claim_due
from social_campaign.workspace import deliveries
from tests.workspace.dashboard_seed import NOW, delivery

SLUG = "childrens-day"
LATER = NOW + timedelta(minutes=5)


def _add(engine: Engine, state: str) -> int:
    with session_scope(engine) as s:
        row = delivery(SLUG, state, NOW - timedelta(days=2), last_error="boom" if state != "scheduled" else None)
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


def _row(engine: Engine, delivery_id: int) -> Delivery:
    with Session(engine) as s:
        row = s.get(Delivery, delivery_id)
        assert row is not None
        return row


def _audit(engine: Engine) -> list[AuditEntry]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEntry)).all())


@pytest.mark.parametrize("state", ["failed", "missed", "cancelled"])
def test_retry_schedules_it_now_and_the_worker_claims_it(any_engine: Engine, state: str) -> None:
    delivery_id = _add(any_engine, state)
    change = deliveries.retry(any_engine, SLUG, delivery_id, actor="ed@example.org", now=LATER, expected=state)
    assert (change.before, change.after) == (state, "scheduled")
    row = _row(any_engine, delivery_id)
    assert row.state == "scheduled" and row.due_at == LATER and row.last_error is None and row.next_attempt_at is None
    [entry] = _audit(any_engine)
    assert (entry.actor, entry.action, entry.campaign, entry.target) == (
        "ed@example.org", "delivery.retry", SLUG, f"delivery:{delivery_id}")
    assert json.loads(entry.details)["diff"]["state"] == [state, "scheduled"]
    claims = claim_due(any_engine, "worker-1", LATER + timedelta(seconds=1), 10, grace=timedelta(minutes=30))
    assert [c.delivery.id for c in claims] == [delivery_id]


@pytest.mark.parametrize("state", ["scheduled", "failed", "needs_reconnect", "missed"])
def test_cancel_moves_to_cancelled_and_the_worker_leaves_it(any_engine: Engine, state: str) -> None:
    delivery_id = _add(any_engine, state)
    deliveries.cancel(any_engine, SLUG, delivery_id, actor="ed@example.org", now=LATER)
    assert _row(any_engine, delivery_id).state == "cancelled"
    assert [e.action for e in _audit(any_engine)] == ["delivery.cancel"]
    assert claim_due(any_engine, "worker-1", LATER, 10, grace=timedelta(days=30)) == []


@pytest.mark.parametrize(("state", "action"), [
    ("unconfirmed", "retry"), ("sending", "retry"), ("sent", "retry"), ("scheduled", "retry"),
    ("needs_reconnect", "retry"), ("unconfirmed", "cancel"), ("sending", "cancel"), ("sent", "cancel"),
    ("cancelled", "cancel"),
])
def test_refused_moves_change_nothing(any_engine: Engine, state: str, action: str) -> None:
    delivery_id = _add(any_engine, state)
    before = _row(any_engine, delivery_id)
    move = deliveries.retry if action == "retry" else deliveries.cancel
    with pytest.raises(Conflict) as refused:
        move(any_engine, SLUG, delivery_id, actor="ed@example.org", now=LATER)
    assert str(refused.value)
    after = _row(any_engine, delivery_id)
    assert (after.state, after.due_at, after.updated_at) == (before.state, before.due_at, before.updated_at)
    assert _audit(any_engine) == []


def test_unconfirmed_is_explained_not_retried(any_engine: Engine) -> None:
    delivery_id = _add(any_engine, "unconfirmed")
    with pytest.raises(Conflict, match="reconciliation"):
        deliveries.retry(any_engine, SLUG, delivery_id, actor="ed@example.org", now=LATER)


def test_the_state_seen_on_the_page_is_the_condition(any_engine: Engine) -> None:
    """The worker claimed the row after the page was drawn: the form's state no longer holds and nothing moves."""
    delivery_id = _add(any_engine, "scheduled")
    with session_scope(any_engine) as s:
        row = s.get(Delivery, delivery_id)
        assert row is not None
        row.state = "sending"
        s.add(row)
    with pytest.raises(Conflict, match="changed since the page was loaded"):
        deliveries.cancel(any_engine, SLUG, delivery_id, actor="ed@example.org", now=LATER, expected="scheduled")
    assert _row(any_engine, delivery_id).state == "sending" and _audit(any_engine) == []


def test_another_campaign_s_delivery_is_not_found(any_engine: Engine) -> None:
    delivery_id = _add(any_engine, "failed")
    with pytest.raises(NotFound):
        deliveries.retry(any_engine, "another", delivery_id, actor="ed@example.org", now=LATER)
    with pytest.raises(NotFound):
        deliveries.cancel(any_engine, SLUG, delivery_id + 1000, actor="ed@example.org", now=LATER)
    assert _row(any_engine, delivery_id).state == "failed"
