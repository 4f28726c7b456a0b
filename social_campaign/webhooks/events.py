"""Webhook events: :func:`emit` queues one event for every endpoint subscribed to it, in the caller's transaction.

An event is one ``WebhookDelivery`` row per enabled endpoint whose ``events`` list matches the type, inserted with
SQLAlchemy Core on the caller's connection (a :class:`~sqlmodel.Session` or a :class:`~sqlalchemy.engine.Connection`),
so the event exists exactly when the change that caused it is committed. The payload follows the Standard Webhooks
shape ``{"type": …, "timestamp": …, "data": {…}}`` and is stored as the exact bytes later signed and sent. The event
id (``evt_`` + a ULID: time-ordered, 80 random bits) is the ``webhook-id`` of every attempt, so receivers can
de-duplicate. Personal fields (name, email) are merged into ``data`` only for endpoints with ``personal=True``.

An endpoint that is paused still gets its rows (state ``paused``): nothing is lost while the receiver is down, and the
rows go out once it is resumed (``endpoints.resume``).
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from social_campaign.models import WebhookDelivery, WebhookEndpoint

EVENT_TYPES = frozenset({
    "pledge.confirmed", "pledge.withdrawn", "pledge.erased", "release.decided", "delivery.sent", "delivery.failed",
    "autoshare.posted",
})  # fmt: skip
#: Keys that are personal data: only endpoints allowed to receive it get them.
PERSONAL_KEYS = frozenset({"name", "email"})

D = WebhookDelivery.__table__  # type: ignore[attr-defined]
EP = WebhookEndpoint.__table__  # type: ignore[attr-defined]
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_event_id() -> str:
    """``evt_`` + a 26-character ULID (48-bit milliseconds, 80 random bits): unique and sortable by time."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "evt_" + "".join(reversed(chars))


def subscribed(events: str, type_: str) -> bool:
    """Whether an endpoint's ``events`` (``*``, or a comma-separated list of types and ``prefix.*``) covers ``type_``."""
    for item in (e.strip() for e in (events or "*").split(",")):
        if item == "*" or item == type_ or (item.endswith(".*") and type_.startswith(item[:-1])):
            return True
    return False


def payload(type_: str, data: dict[str, Any], now: datetime) -> str:
    """The JSON body of one event (compact, keys sorted: the exact text that is signed)."""
    stamp = now.isoformat().replace("+00:00", "Z")
    return json.dumps({"type": type_, "timestamp": stamp, "data": data}, separators=(",", ":"), sort_keys=True,
                      ensure_ascii=False, default=str)


def _connection(conn_or_session: Connection | Session) -> Connection:
    if isinstance(conn_or_session, Session):
        return conn_or_session.connection()
    return conn_or_session


def emit(
    conn_or_session: Connection | Session, type: str, data: dict[str, Any], *, campaign: str,
    personal: dict[str, Any] | None = None, now: datetime,
) -> str:  # fmt: skip
    """Queue event ``type`` with ``data`` (no personal data) for every subscribed endpoint; returns the event id.

    ``personal`` (e.g. ``{"name": …, "email": …}``) is added to ``data`` only for endpoints with ``personal=True``.
    Runs in the caller's transaction: rolled back with it, committed with it.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    leaked = PERSONAL_KEYS & set(data)
    if leaked:
        raise ValueError(f"personal field(s) {', '.join(sorted(leaked))} belong in personal=, not data=")
    event_id = new_event_id()
    conn = _connection(conn_or_session)
    endpoints = conn.execute(select(EP.c.name, EP.c.personal, EP.c.events, EP.c.paused_at)).all()
    targets = [e for e in endpoints if subscribed(e.events, type)]
    if not targets:
        return event_id
    base = {**data, "campaign": campaign}
    plain = payload(type, base, now)
    full = payload(type, {**base, **personal}, now) if personal else plain
    rows = [
        {"event_id": event_id, "endpoint": e.name, "type": type, "campaign": campaign,
         "payload_json": full if e.personal else plain, "state": "paused" if e.paused_at is not None else "queued",
         "attempts": 0, "not_before": now, "created_at": now}
        for e in targets
    ]  # fmt: skip
    conn.execute(D.insert(), rows)
    return event_id
