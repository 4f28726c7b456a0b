"""Encryption of secrets at rest and salted hashing, keyed by ``Settings.key``.

Tokens stored in the database (rotating OAuth 2.0 pairs) go through :func:`encrypt`/:func:`decrypt` (Fernet: AES-128-CBC
with HMAC-SHA256). Identifiers that must be comparable but not readable (client IPs) go through :func:`keyed_hash`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

from social_campaign.errors import ConfigError


def _fernet(key: bytes) -> Fernet:
    derived = hmac.new(key, b"social-campaign/fernet", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(key: bytes, plaintext: str) -> str:
    return _fernet(key).encrypt(plaintext.encode()).decode()


def decrypt(key: bytes, token: str) -> str:
    try:
        return _fernet(key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ConfigError("a stored secret cannot be decrypted: SOCIAL_CAMPAIGN_SECRET_KEY changed?") from None


def keyed_hash(key: bytes, value: str, *, purpose: str) -> str:
    """A hex HMAC of ``value``; ``purpose`` separates uses (``"ip"``, ``"email"``, …)."""
    return hmac.new(key, f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()
