"""Recording what one send attempt came to: the row's new state and the attempt's details, in one transaction.

Every update is conditional on the row still being ``sending`` for this worker, so a row the sweeper took over (lease
expired) is never overwritten by a late answer. Handling per error class:

* success → ``sent`` with ``remote_id``/``remote_url``/``sent_at``;
* ``RateLimited`` → back to ``scheduled`` with ``next_attempt_at`` = the API's reset time, and every other waiting row
  of the channel is held until then too;
* ``Transient`` → ``scheduled`` again after exponential backoff with jitter, ``failed`` after ``max_attempts``;
* ``Rejected`` → ``failed`` with the platform's reason in plain words;
* ``AuthFailed`` → ``needs_reconnect``; the channel's ``Account`` is marked and the manager told;
* ``OutcomeUnknown`` → ``unconfirmed`` (never resent blindly; reconciliation decides).
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.errors import (
    AuthFailed,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from social_campaign.models import (
    Account,
    AccountStatus,
    Attempt,
    Delivery,
    DeliveryState,
)
from social_campaign.publishers.base import PublishResult
from social_campaign.scheduling.notices import notify

log = logging.getLogger(__name__)
RATE_LIMIT_FALLBACK = timedelta(seconds=60)


def record_sent(
    engine: Engine, claim_delivery: Delivery, attempt_id: int, worker_id: str, result: PublishResult, now: datetime
) -> bool:
    """Mark the row ``sent``; False when the row was no longer ours (the sweeper took it over)."""
    with session_scope(engine) as session:
        changed = _transition(
            session,
            claim_delivery.id,
            worker_id,
            now,
            state=DeliveryState.sent,
            remote_id=result.remote_id,
            remote_url=result.url,
            sent_at=now,
            last_error=None,
        )
        _finish_attempt(session, attempt_id, now, "sent", result.request_summary, result.http_status, None, None)
        if changed:
            event(session, "delivery.sent", claim_delivery, now, remote_id=result.remote_id, url=result.url)
    if not changed:
        log.warning("delivery %s was sent (remote id %s) after its lease ran out", claim_delivery.id, result.remote_id)
    return changed


def record_failure(
    settings: Settings,
    engine: Engine,
    row: Delivery,
    attempt_id: int,
    worker_id: str,
    exc: PublishError,
    now: datetime,
    summary: str = "",
) -> str:
    """Apply the error class's handling to the row; returns the row's new state."""
    reason = exc.reason
    with session_scope(engine) as session:
        if isinstance(exc, RateLimited):
            reset = exc.reset_at if exc.reset_at and exc.reset_at > now else now + RATE_LIMIT_FALLBACK
            state, values = (
                DeliveryState.scheduled,
                {"next_attempt_at": reset, "last_error": f"rate limited until {reset:%H:%M:%S} UTC"},
            )
            _hold_channel(session, row.channel, reset)
        elif isinstance(exc, Transient):
            tries = _count(session, row.id, "transient") + 1
            if tries >= settings.max_attempts:
                state, values = DeliveryState.failed, {"last_error": f"gave up after {tries} attempts: {reason}"}
            else:
                delay = settings.retry_base_seconds * 2 ** (tries - 1) * random.uniform(0.5, 1.5)
                state, values = (
                    DeliveryState.scheduled,
                    {"next_attempt_at": now + timedelta(seconds=delay), "last_error": reason},
                )
        elif isinstance(exc, Rejected):
            state, values = DeliveryState.failed, {"last_error": reason}
        elif isinstance(exc, AuthFailed):
            state, values = DeliveryState.needs_reconnect, {"last_error": reason}
            mark_account(session, row.campaign, row.channel, reason, now)
        elif isinstance(exc, OutcomeUnknown):
            state, values = DeliveryState.unconfirmed, {"last_error": reason}
        else:  # a PublishError without a class: treat as final
            state, values = DeliveryState.failed, {"last_error": reason}
        if state == DeliveryState.scheduled:
            values |= {"claimed_by": None, "claimed_at": None}
        changed = _transition(session, row.id, worker_id, now, state=state, **values)
        _finish_attempt(session, attempt_id, now, exc.kind, summary, exc.http_status, exc.code, reason)
        if changed and state == DeliveryState.failed:
            event(session, "delivery.failed", row, now, reason=values.get("last_error") or reason)
    log.info("delivery %s (%s/%s): %s → %s: %s", row.id, row.post_id, row.channel, exc.kind, state, reason)
    return state


def event(session: Session, type_: str, row: Delivery, now: datetime, **extra: object) -> None:
    """The webhook event of a delivery that became sent or failed, in the same transaction."""
    from social_campaign.webhooks.events import emit

    data = {"delivery_id": row.id, "post": row.post_id, "channel": row.channel, "kind": row.kind, **extra}
    emit(session, type_, data, campaign=row.campaign, now=now)


def mark_account(session: Session, campaign: str, channel: str, reason: str, now: datetime) -> None:
    """Stop using ``channel``'s account until reconnected, and tell the manager (once per episode)."""
    account = session.get(Account, channel) or Account(channel=channel)
    if account.status != AccountStatus.needs_reconnect:
        account.status, account.reason, account.updated_at = AccountStatus.needs_reconnect, reason, now
        session.add(account)
        notify(
            session,
            campaign=campaign,
            kind="reconnect",
            message=f"the {channel} account needs reconnecting ({reason}); its posts are held until then",
            dedupe_key=f"reconnect:{channel}:{now.isoformat()}",
        )


def account_reconnected(engine: Engine, channel: str, now: datetime) -> int:
    """The manager reconnected ``channel``: use the account again and requeue its parked rows. Returns how many."""
    with session_scope(engine) as session:
        account = session.get(Account, channel)
        if account is not None:
            account.status, account.reason, account.updated_at = AccountStatus.ok, None, now
            session.add(account)
        result = session.exec(
            update(Delivery)
            .where(col(Delivery.channel) == channel, col(Delivery.state) == DeliveryState.needs_reconnect)
            .values(
                state=DeliveryState.scheduled, claimed_by=None, claimed_at=None, next_attempt_at=None, updated_at=now
            )
        )
        return int(result.rowcount or 0)


def _hold_channel(session: Session, channel: str, until: datetime) -> None:
    session.exec(
        update(Delivery)
        .where(
            col(Delivery.channel) == channel,
            col(Delivery.state) == DeliveryState.scheduled,
            or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) < until),
        )
        .values(next_attempt_at=until)
    )


def _transition(session: Session, delivery_id: int | None, worker_id: str, now: datetime, **values: object) -> bool:
    result = session.exec(
        update(Delivery)
        .where(
            col(Delivery.id) == delivery_id,
            col(Delivery.state) == DeliveryState.sending,
            col(Delivery.claimed_by) == worker_id,
        )
        .values(updated_at=now, **values)
    )
    return bool(result.rowcount)


def _finish_attempt(
    session: Session,
    attempt_id: int,
    now: datetime,
    outcome: str,
    summary: str,
    status: int | None,
    code: str | None,
    reason: str | None,
) -> None:
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        return
    attempt.finished_at, attempt.outcome, attempt.request_summary = now, outcome, summary[:2000]
    attempt.http_status, attempt.error_code, attempt.reason = status, code, reason
    session.add(attempt)


def _count(session: Session, delivery_id: int | None, outcome: str) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Attempt)
            .where(Attempt.delivery_id == delivery_id, Attempt.outcome == outcome)
        ).one()
    )
