"""Retry and cancel a delivery from the dashboard: conditional UPDATEs, so a race with the worker never double-sends.

* **Retry** moves ``failed``, ``missed`` or ``cancelled`` back to ``scheduled``, due now (the worker claims it on its
  next round). Never ``unconfirmed``: the platform may have published it, so only reconciliation (which reads the
  account's recent posts) may decide; never ``sending`` or ``sent``.
* **Cancel** moves ``scheduled``, ``failed``, ``needs_reconnect`` or ``missed`` to ``cancelled``.

Each UPDATE names the state the manager saw (the form's ``state``) in its WHERE clause: when the worker claimed or
finished the row meanwhile, nothing changes and the manager is told (409). Each change is audited in the same
transaction. A cancel sticks across syncs (``scheduling/sync.py`` revives a cancelled row only when its post was
removed from the file and put back, or its text, media or time changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult, Engine

from social_campaign import audit
from social_campaign.db import session_scope
from social_campaign.errors import Conflict, NotFound
from social_campaign.i18n import _
from social_campaign.models import Delivery, DeliveryState
from social_campaign.pledges.progress import iso_utc

D = Delivery.__table__  # type: ignore[attr-defined]

RETRYABLE = frozenset({DeliveryState.failed, DeliveryState.missed, DeliveryState.cancelled})
CANCELLABLE = frozenset({DeliveryState.scheduled, DeliveryState.failed, DeliveryState.needs_reconnect,
                         DeliveryState.missed})


@dataclass(frozen=True)
class Change:
    delivery_id: int
    post_id: str
    channel: str
    before: str
    after: str


def retry(engine: Engine, slug: str, delivery_id: int, *, actor: str, now: datetime, expected: str | None = None,
          posts: frozenset[str] | None = None) -> Change:
    """``failed``/``missed``/``cancelled`` → ``scheduled`` due ``now``. ``posts``: the post ids the schedule has now
    (a delivery of a post deleted from it is not sent again). Raises :class:`NotFound` or :class:`Conflict`."""
    return _move(engine, slug, delivery_id, "retry", RETRYABLE, actor=actor, now=now, expected=expected, posts=posts)


def cancel(engine: Engine, slug: str, delivery_id: int, *, actor: str, now: datetime, expected: str | None = None) -> Change:
    """``scheduled``/``failed``/``needs_reconnect``/``missed`` → ``cancelled``. Raises :class:`NotFound`/:class:`Conflict`."""
    return _move(engine, slug, delivery_id, "cancel", CANCELLABLE, actor=actor, now=now, expected=expected)


def refusal(action: str, state: str) -> str:
    """Why ``action`` cannot apply to a delivery in ``state``, in words for the manager."""
    if state == DeliveryState.unconfirmed:
        return _("This post cannot be retried from here: the network may have published it. The reconciliation job "
                 "checks the account's recent posts and settles it, so it is never posted twice.")
    if state in (DeliveryState.sending, DeliveryState.sent):
        return _("This post is being sent or has been sent, so it can no longer be retried or cancelled.")
    if action == "retry":
        return _("Only failed, missed or cancelled posts can be retried.")
    return _("Only scheduled, failed, missed posts or posts waiting for a reconnection can be cancelled.")


def _move(engine: Engine, slug: str, delivery_id: int, action: str, allowed: frozenset[DeliveryState], *, actor: str,
          now: datetime, expected: str | None, posts: frozenset[str] | None = None) -> Change:
    with session_scope(engine) as session:
        row = session.execute(
            select(D.c.state, D.c.post_id, D.c.channel, D.c.due_at).where(D.c.id == delivery_id, D.c.campaign == slug)
        ).first()
        if row is None:
            raise NotFound(_("There is no such post delivery in this campaign."))
        state = str(row.state)
        if expected and expected != state:
            raise Conflict(_("This post changed since the page was loaded: it is now %(state)s. Nothing was changed; "
                             "please look again.") % {"state": state_label(state)})
        if state not in allowed:
            raise Conflict(refusal(action, state))
        if posts is not None and row.post_id not in posts:
            raise Conflict(_("This post is no longer in the schedule, so it is not sent again. Add it back to the "
                             "schedule to post it."))
        values: dict[str, object] = {"state": DeliveryState.cancelled, "updated_at": now,
                                     "last_error": f"cancelled in the workspace by {actor}"[:500]}
        if action == "retry":
            values = {"state": DeliveryState.scheduled, "due_at": now, "next_attempt_at": None, "claimed_by": None,
                      "claimed_at": None, "last_error": None, "updated_at": now}
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(D).where(D.c.id == delivery_id, D.c.campaign == slug, D.c.state == state).values(**values)
        )
        done = result.rowcount
        if not done:  # the worker moved it between our read and our write
            raise Conflict(_("This post changed while you were acting on it. Nothing was changed; please look again."))
        after = str(values["state"])
        diff: dict[str, list[str]] = {"state": [state, after]}
        if action == "retry":
            diff["due_at"] = [iso_utc(row.due_at), iso_utc(now)]
        audit.record(session, actor=actor, action=f"delivery.{action}", campaign=slug, target=f"delivery:{delivery_id}",
                     details={"post_id": row.post_id, "channel": row.channel, "diff": diff}, at=now)
    return Change(delivery_id, str(row.post_id), str(row.channel), state, after)


def state_label(state: str) -> str:
    """A delivery state in words (the page's legend and messages)."""
    labels = {
        "scheduled": _("scheduled"), "sending": _("sending"), "sent": _("sent"), "failed": _("failed"),
        "needs_reconnect": _("waiting for a reconnection"), "unconfirmed": _("outcome unknown"),
        "cancelled": _("cancelled"), "missed": _("missed"),
    }
    return labels.get(state, state)
