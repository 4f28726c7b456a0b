"""Reconciliation: an ``unconfirmed`` row is looked for on the network before anything is resent.

``publisher.find_recent(post, since=claimed_at - RECONCILE_SKEW)`` decides:

* found → ``sent``, storing the remote id (the post went out; it is never posted again);
* certainly absent → ``scheduled`` again (safe to resend; the grace window still applies, so a row too late becomes
  ``missed`` rather than going out hours late);
* cannot tell now (``Transient``, ``RateLimited``, ``AuthFailed``) → left ``unconfirmed`` for the next sweep.

Each decision is recorded as an ``Attempt`` with outcome ``reconciled`` and is conditional on the row still being
``unconfirmed``, so concurrent sweepers agree.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from social_campaign.db import session_scope
from social_campaign.errors import PublishError
from social_campaign.models import Attempt, Delivery, DeliveryState
from social_campaign.scheduling.outcome import event
from social_campaign.scheduling.pool import PublisherPool, to_outgoing

log = logging.getLogger(__name__)
RECONCILE_SKEW = timedelta(minutes=2)


def reconcile_row(engine: Engine, row: Delivery, pool: PublisherPool, now: datetime) -> str:
    """Resolve one ``unconfirmed`` row; returns ``"sent"``, ``"scheduled"`` or ``"unknown"``."""
    post = to_outgoing(row)
    since = (row.claimed_at or row.due_at) - RECONCILE_SKEW
    try:
        found = pool.get(row.channel).find_recent(post, since)
    except PublishError as exc:
        log.info("delivery %s: reconciliation on %s inconclusive (%s); retrying later", row.id, row.channel, exc.reason)
        return "unknown"
    with session_scope(engine) as session:
        base = update(Delivery).where(col(Delivery.id) == row.id, col(Delivery.state) == DeliveryState.unconfirmed)
        if found is not None:
            values = {
                "state": DeliveryState.sent,
                "remote_id": found.remote_id,
                "remote_url": found.url,
                "sent_at": row.claimed_at or now,
                "last_error": None,
                "updated_at": now,
            }
            outcome, reason = "sent", f"found on {row.channel} as {found.remote_id}: it went out; not resending"
        else:
            values = {
                "state": DeliveryState.scheduled,
                "claimed_by": None,
                "claimed_at": None,
                "next_attempt_at": None,
                "last_error": "not found on the network after an uncertain attempt; safe to resend",
                "updated_at": now,
            }
            outcome, reason = "scheduled", f"not on {row.channel}: safe to resend"
        changed = session.exec(base.values(**values)).rowcount
        if not changed:
            return "unknown"
        assert row.id is not None  # the update above matched the row by its id
        session.add(
            Attempt(
                delivery_id=row.id,
                worker="reconcile",
                started_at=now,
                finished_at=now,
                request_summary=f"read recent posts on {row.channel} since {since:%Y-%m-%d %H:%M:%S} UTC",
                outcome="reconciled",
                reason=reason,
            )
        )
        if outcome == "sent":  # the same event a direct send gives, in the same transaction
            event(session, "delivery.sent", row, now, url=found.url if found is not None else None)
    log.info("delivery %s (%s/%s) reconciled: %s", row.id, row.post_id, row.channel, reason)
    return outcome
