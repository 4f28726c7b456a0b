"""OAuth 2.0 user tokens for X, with single-use rotating refresh tokens.

The pair lives encrypted (``crypto.encrypt``) in the ``Account`` row for channel ``"x"``; the very first refresh token
comes from ``settings.x_oauth2_refresh_token``. X refresh tokens are single-use: a refresh spends the old one and
returns a new pair, and re-using a spent one fails with 400 "Value passed for the token was invalid". So:

* refreshes are serialised per account: an in-process lock, plus a database row lock held for the whole refresh
  (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite write transactions are ``BEGIN IMMEDIATE``), so other threads and
  other worker processes wait and then use the pair the winner stored;
* the new pair is committed *before* it is used or returned;
* a refused refresh marks the account ``needs_reconnect`` (and forgets the dead pair) and raises ``AuthFailed``.

If the token endpoint accepted a refresh but its answer was lost, the spent refresh token cannot be recovered: the next
refresh fails and the account needs reconnecting. That is X's design; it is reported, never retried blindly.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import requests
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from social_campaign.config import Settings
from social_campaign.crypto import decrypt, encrypt
from social_campaign.db import session_scope
from social_campaign.errors import AuthFailed, ConfigError, RateLimited, Transient
from social_campaign.models import Account, AccountStatus, utcnow

log = logging.getLogger(__name__)

CHANNEL = "x"
#: Refresh this long before the access token's stated expiry.
EXPIRY_MARGIN = timedelta(seconds=60)

_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def _process_lock(url: str, channel: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault((url, channel), threading.Lock())


class XTokenStore:
    """Hands out a valid X OAuth 2.0 user access token, refreshing (once, under lock) when it is missing or expired."""

    def __init__(self, *, settings: Settings, engine: Engine, session: requests.Session) -> None:
        if settings.x_client_id is None or settings.x_oauth2_refresh_token is None:
            raise ConfigError("X OAuth 2.0 needs SOCIAL_CAMPAIGN_X_CLIENT_ID and SOCIAL_CAMPAIGN_X_OAUTH2_REFRESH_TOKEN")
        self.settings = settings
        self.engine = engine
        self.session = session
        self._lock = _process_lock(str(engine.url), CHANNEL)
        self._cached: tuple[str, datetime | None] | None = None  # (access token, expiry)

    def access_token(self) -> str:
        """A token that is valid now (refreshing first when needed)."""
        cached = self._cached
        if cached is not None and _fresh(cached[1]):
            return cached[0]
        return self.refresh(stale=None)

    def refresh(self, *, stale: str | None) -> str:
        """Refresh the pair unless another thread or process already did since ``stale`` was handed out.

        ``stale=None``: refresh only when the stored token is missing or expired. ``stale=token`` (after a 401 with
        that token): refresh unless the stored token is already a different one.
        """
        with self._lock:
            self._ensure_row()
            with session_scope(self.engine) as session:
                stmt = select(Account).where(Account.channel == CHANNEL)
                if self.engine.dialect.name == "postgresql":
                    stmt = stmt.with_for_update()
                account = session.exec(stmt).one()
                key = self.settings.key
                current = decrypt(key, account.access_token_enc) if account.access_token_enc else None
                if current is not None and _fresh(account.expires_at) and current != stale:
                    self._cached = (current, account.expires_at)
                    return current
                refresh_token = (
                    decrypt(key, account.refresh_token_enc)
                    if account.refresh_token_enc
                    else self.settings.x_oauth2_refresh_token.get_secret_value()  # type: ignore[union-attr]
                )
                try:
                    access, new_refresh, expires_at = self._call_token_endpoint(refresh_token)
                except AuthFailed as exc:
                    account.status = AccountStatus.needs_reconnect
                    account.reason = exc.reason
                    account.access_token_enc = None
                    account.refresh_token_enc = None
                    account.expires_at = None
                    account.updated_at = utcnow()
                    session.add(account)
                    session.commit()
                    self._cached = None
                    raise
                account.access_token_enc = encrypt(key, access)
                account.refresh_token_enc = encrypt(key, new_refresh)
                account.expires_at = expires_at
                account.status = AccountStatus.ok
                account.reason = None
                account.updated_at = utcnow()
                session.add(account)
                session.commit()  # stored before anyone uses it
            self._cached = (access, expires_at)
            log.info("X OAuth 2.0 token refreshed; valid until %s", expires_at.isoformat())
            return access

    def _ensure_row(self) -> None:
        try:
            with session_scope(self.engine) as session:
                if session.get(Account, CHANNEL) is None:
                    session.add(Account(channel=CHANNEL))
        except IntegrityError:  # another process created it first
            pass

    def _call_token_endpoint(self, refresh_token: str) -> tuple[str, str, datetime]:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        auth = None
        if self.settings.x_client_secret is not None:
            auth = (self.settings.x_client_id or "", self.settings.x_client_secret.get_secret_value())
        else:
            data["client_id"] = self.settings.x_client_id or ""
        try:
            response = self.session.post(f"{self.settings.x_api_url}/2/oauth2/token", data=data, auth=auth)
        except requests.RequestException as exc:
            raise Transient(f"X token endpoint could not be reached ({type(exc).__name__}); the refresh token was kept") from None
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        if status == 200 and isinstance(body, dict) and body.get("access_token") and body.get("refresh_token"):
            expires_in = float(body.get("expires_in") or 7200)
            return str(body["access_token"]), str(body["refresh_token"]), utcnow() + timedelta(seconds=expires_in)
        error = body.get("error", "") if isinstance(body, dict) else ""
        description = body.get("error_description", "") if isinstance(body, dict) else ""
        if status == 429:
            raise RateLimited("X rate-limited the token refresh", http_status=status)
        if status >= 500:
            raise Transient(f"X token endpoint failed (HTTP {status}); try again later", http_status=status)
        reason = f"X refused the OAuth 2.0 refresh token ({error or status}: {description or 'no description'}); reconnect the X account"
        raise AuthFailed(reason, http_status=status, code=error or None)


def _fresh(expires_at: datetime | None) -> bool:
    return expires_at is not None and expires_at - EXPIRY_MARGIN > utcnow()


def mark_needs_reconnect(engine: Engine, reason: str) -> None:
    """Record that the X account must be reconnected (used when X refuses a freshly refreshed token)."""
    try:
        with session_scope(engine) as session:
            account = session.get(Account, CHANNEL) or Account(channel=CHANNEL)
            account.status = AccountStatus.needs_reconnect
            account.reason = reason
            account.updated_at = utcnow()
            session.add(account)
    except IntegrityError:
        pass

