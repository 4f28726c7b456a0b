"""Webhook endpoints: the ``webhookendpoint`` table, filled from settings at the worker's start.

The table is what :func:`events.emit` and the worker read, so endpoints can come from several places (settings now,
the managers' workspace later). ``SOCIAL_CAMPAIGN_WEBHOOK_URL`` + ``SOCIAL_CAMPAIGN_WEBHOOK_SECRET`` configure the one
endpoint named :data:`SETTINGS_ENDPOINT`, allowed to receive personal data; its secret is stored encrypted
(``crypto.encrypt``). When the settings no longer name it, the row is removed and its unsent deliveries are marked
``failed`` ("endpoint removed").

A paused endpoint (``paused_at`` set after ``webhook_pause_after`` failures in a row, see ``worker.py``) keeps its
deliveries as ``paused``; :func:`resume` (and every worker start, for the settings endpoint: fix the receiver, then
restart the worker) sends them again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine

from social_campaign.config import Settings
from social_campaign.crypto import decrypt, encrypt
from social_campaign.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)
SETTINGS_ENDPOINT = "default"
EP = WebhookEndpoint.__table__  # type: ignore[attr-defined]
D = WebhookDelivery.__table__  # type: ignore[attr-defined]
OPEN = ("queued", "paused")


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    secret: str  # the whsec_… secret, decrypted
    personal: bool
    paused: bool


def sync_from_settings(settings: Settings, engine: Engine, now: datetime) -> str | None:
    """Create, update, resume or remove the settings endpoint; returns its name, or None when none is configured."""
    with engine.begin() as conn:
        row = conn.execute(select(EP).where(EP.c.name == SETTINGS_ENDPOINT)).first()
        if settings.webhook_url is None or settings.webhook_secret is None:
            if row is not None:
                conn.execute(delete(EP).where(EP.c.name == SETTINGS_ENDPOINT))
                n = conn.execute(update(D).where(D.c.endpoint == SETTINGS_ENDPOINT, D.c.state.in_(OPEN))
                                 .values(state="failed", last_error="endpoint removed from settings")).rowcount
                log.warning("webhook endpoint %r removed (no SOCIAL_CAMPAIGN_WEBHOOK_URL); %d unsent event(s) dropped",
                            SETTINGS_ENDPOINT, n or 0)
            return None
        secret = settings.webhook_secret.get_secret_value()
        values = {"url": settings.webhook_url, "personal": True, "events": "*"}
        if row is None:
            conn.execute(EP.insert().values(name=SETTINGS_ENDPOINT, secret_enc=encrypt(settings.key, secret),
                                            failures=0, created_at=now, **values))
            log.info("webhook endpoint %r: %s", SETTINGS_ENDPOINT, settings.webhook_url)
            return SETTINGS_ENDPOINT
        if row.url != settings.webhook_url or _secret(settings.key, row.secret_enc) != secret:
            values["secret_enc"] = encrypt(settings.key, secret)
        conn.execute(update(EP).where(EP.c.name == SETTINGS_ENDPOINT).values(**values))
        if row.paused_at is not None:
            _resume(conn, SETTINGS_ENDPOINT)
            log.info("webhook endpoint %r resumed at start-up", SETTINGS_ENDPOINT)
    return SETTINGS_ENDPOINT


def _secret(key: bytes, secret_enc: str) -> str | None:
    from social_campaign.errors import ConfigError

    try:
        return decrypt(key, secret_enc)
    except ConfigError:  # the key changed: store the secret again
        return None


def resume(engine: Engine, name: str) -> int:
    """Un-pause endpoint ``name``: failures reset, its paused deliveries queued again. Returns how many."""
    with engine.begin() as conn:
        return _resume(conn, name)


def _resume(conn: Connection, name: str) -> int:
    conn.execute(update(EP).where(EP.c.name == name).values(paused_at=None, failures=0))
    return int(conn.execute(update(D).where(D.c.endpoint == name, D.c.state == "paused")
                            .values(state="queued", claimed_by=None)).rowcount or 0)


def pause(conn: Connection, name: str, now: datetime) -> bool:
    """Pause ``name`` (once: True only for the call that paused it) and park its queued deliveries."""
    changed = conn.execute(update(EP).where(EP.c.name == name, EP.c.paused_at.is_(None)).values(paused_at=now)).rowcount
    conn.execute(update(D).where(D.c.endpoint == name, D.c.state == "queued").values(state="paused"))
    return bool(changed)


def load(engine: Engine, key: bytes) -> dict[str, Endpoint]:
    """Every endpoint, secrets decrypted (cached per stored ciphertext)."""
    with engine.connect() as conn:
        rows = conn.execute(select(EP.c.name, EP.c.url, EP.c.secret_enc, EP.c.personal, EP.c.paused_at)).all()
    return {r.name: Endpoint(r.name, r.url, _decrypt_cached(key, r.secret_enc), r.personal, r.paused_at is not None)
            for r in rows}


@lru_cache(maxsize=64)
def _decrypt_cached(key: bytes, secret_enc: str) -> str:
    return decrypt(key, secret_enc)
