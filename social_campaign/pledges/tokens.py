"""Tokens in links and forms.

* ``share_token``: random, stored as it is (it keys the supporter's share page).
* confirm and withdraw tokens: derived from the share token with the secret key (HMAC), so any part of the service
  holding the key can rebuild a link for a pledge (the release emails carry the withdraw link too), while the database
  stores only their SHA-256 hashes: a copy of the database alone cannot confirm or withdraw anyone.
* the form's CSRF token: ``<issued unix time>.<nonce>.<hmac>``, signed with the key and valid for ``CSRF_MAX_AGE``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

CSRF_MAX_AGE = 24 * 3600.0


def new_share_token() -> str:
    return secrets.token_urlsafe(18)


def _mac(key: bytes, purpose: str, value: str, length: int = 32) -> str:
    digest = hmac.new(key, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def token_hash(token: str) -> str:
    """What the database stores for a confirm or withdraw token."""
    return hashlib.sha256(token.encode()).hexdigest()


def confirm_token(key: bytes, share_token: str) -> str:
    return _mac(key, "confirm", share_token)


def withdraw_token(key: bytes, share_token: str) -> str:
    return _mac(key, "withdraw", share_token)


def new_csrf_token(key: bytes, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    nonce = secrets.token_urlsafe(9)
    return f"{issued}.{nonce}.{_mac(key, 'csrf', f'{issued}.{nonce}', 22)}"


def csrf_ok(key: bytes, token: str | None, now: float | None = None) -> bool:
    """True when ``token`` was made by :func:`new_csrf_token` with this key and is not older than ``CSRF_MAX_AGE``."""
    if not token or len(token) > 100 or token.count(".") != 2:
        return False
    issued_s, nonce, mac = token.split(".")
    if not issued_s.isdigit():
        return False
    age = (time.time() if now is None else now) - int(issued_s)
    if not -300 <= age <= CSRF_MAX_AGE:
        return False
    return hmac.compare_digest(mac, _mac(key, "csrf", f"{issued_s}.{nonce}", 22))
