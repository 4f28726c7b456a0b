"""The Bluesky session (access + refresh JWTs), kept encrypted in the ``Account`` row for channel ``"bluesky"``.

``createSession`` (login with the app password) is limited to 30 per 5 minutes and 300 per day, so the publisher
logs in only when no session is stored or the refresh JWT is dead; otherwise it calls ``refreshSession``. The access
JWT, the account DID and the refresh JWT are stored with ``crypto.encrypt``; nothing secret is ever logged.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from social_campaign.config import Settings
from social_campaign.crypto import decrypt, encrypt
from social_campaign.db import session_scope
from social_campaign.errors import AuthFailed, ConfigError
from social_campaign.models import Account, AccountStatus, utcnow

log = logging.getLogger(__name__)
CHANNEL = "bluesky"
EXPIRY_MARGIN = timedelta(seconds=60)
_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _lock_for(url: str) -> threading.Lock:
    with _guard:
        return _locks.setdefault(url, threading.Lock())


def jwt_expiry(token: str) -> datetime:
    """The ``exp`` of a JWT (read, not verified); two hours from now when it has none."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, ValueError, KeyError, TypeError):
        return utcnow() + timedelta(hours=2)


#: ``call(nsid_kind, token_or_None) -> session dict`` with accessJwt, refreshJwt, did; raises PublishError subclasses.
SessionCall = Callable[[str, str | None], dict[str, Any]]


class BlueskySession:
    """Hands out ``(access JWT, DID)``, refreshing or (only when it must) logging in, under a lock."""

    def __init__(self, *, settings: Settings, engine: Engine, call: SessionCall) -> None:
        if not settings.bluesky_configured:
            raise ConfigError("Bluesky needs SOCIAL_CAMPAIGN_BLUESKY_HANDLE and SOCIAL_CAMPAIGN_BLUESKY_APP_PASSWORD")
        self.settings = settings
        self.engine = engine
        self._call = call
        self._lock = _lock_for(str(engine.url))
        self._cached: tuple[str, str, datetime] | None = None

    def current(self) -> tuple[str, str]:
        cached = self._cached
        if cached is not None and cached[2] - EXPIRY_MARGIN > utcnow():
            return cached[0], cached[1]
        return self.renew(stale=None)

    def renew(self, *, stale: str | None) -> tuple[str, str]:
        """A usable session; refreshes when the stored access JWT is missing, expiring or equal to ``stale``."""
        with self._lock:
            self._ensure_row()
            key = self.settings.key
            with session_scope(self.engine) as db:
                account = db.get(Account, CHANNEL)
                assert account is not None
                # A parked account (``reconnect``) proves its new app password with a login, never an old session.
                parked = account.status == AccountStatus.needs_reconnect
                stored = (
                    json.loads(decrypt(key, account.access_token_enc))
                    if account.access_token_enc and not parked
                    else None
                )
                expiry = account.expires_at
                if stored and expiry is not None and expiry - EXPIRY_MARGIN > utcnow() and stored["accessJwt"] != stale:
                    self._cached = (str(stored["accessJwt"]), str(stored["did"]), expiry)
                    return self._cached[0], self._cached[1]
                refresh_jwt = (
                    decrypt(key, account.refresh_token_enc) if account.refresh_token_enc and not parked else None
                )
                try:
                    body = self._refresh_or_login(refresh_jwt)
                except AuthFailed as exc:
                    account.status, account.reason = AccountStatus.needs_reconnect, exc.reason
                    account.access_token_enc = account.refresh_token_enc = None
                    account.expires_at, account.updated_at = None, utcnow()
                    db.add(account)
                    db.commit()
                    self._cached = None
                    raise
                access, did = str(body["accessJwt"]), str(body["did"])
                expires = jwt_expiry(access)
                account.access_token_enc = encrypt(key, json.dumps({"accessJwt": access, "did": did}))
                account.refresh_token_enc = encrypt(key, str(body["refreshJwt"]))
                account.expires_at, account.status, account.reason, account.updated_at = (
                    expires,
                    AccountStatus.ok,
                    None,
                    utcnow(),
                )
                db.add(account)
                db.commit()
            self._cached = (access, did, expires)
            return access, did

    def _refresh_or_login(self, refresh_jwt: str | None) -> dict[str, Any]:
        if refresh_jwt is not None:
            try:
                body = self._call("refresh", refresh_jwt)
                log.info("Bluesky session refreshed")
                return body
            except AuthFailed:
                log.info("Bluesky refresh token no longer valid; logging in again")
        body = self._call("login", None)
        log.info("Bluesky session created (login)")
        return body

    def _ensure_row(self) -> None:
        try:
            with session_scope(self.engine) as db:
                if db.get(Account, CHANNEL) is None:
                    db.add(Account(channel=CHANNEL))
        except IntegrityError:
            pass
