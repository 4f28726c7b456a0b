"""The optional second factor: TOTP (RFC 6238, pyotp), set up from ``/account`` and asked at ``/login/totp``.

The secret is stored encrypted (``crypto.encrypt``) in ``app_user.totp_secret_enc``. A code is accepted one step
either side of now (``valid_window=1``) and only once: the time step it matched is recorded per user in a
``RateBucket`` row (``_totp`` key, one per user and step, so a second use in any process sees it) and in this
process, and a step at or before the last one used is refused.
"""

from __future__ import annotations

import binascii
import hmac
import threading
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pyotp
import segno
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from social_campaign import audit, crypto
from social_campaign.config import Settings
from social_campaign.errors import BadRequest
from social_campaign.i18n import _
from social_campaign.models import User
from social_campaign.pledges.abuse import count_attempts
from social_campaign.workspace import throttle

STEP, USED = throttle.TOTP_STEP, throttle.TOTP_USED
_last_step: dict[tuple[str, int], int] = {}  # (database, user id) -> last step used here
_lock = threading.Lock()


def new_secret() -> str:
    return pyotp.random_base32()


def issuer(settings: Settings) -> str:
    return f"social-campaign ({urlsplit(settings.public_url).hostname or 'localhost'})"


def uri(settings: Settings, email: str, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer(settings))


def qr_data_uri(otpauth: str) -> str:
    """The QR code of ``otpauth`` as an SVG ``data:`` URI (CSP ``img-src 'self' data:``)."""
    return str(segno.make(otpauth, error="m").svg_data_uri(scale=5, dark="#000", light="#fff"))


def secret_of(settings: Settings, user: User) -> str | None:
    return crypto.decrypt(settings.key, user.totp_secret_enc) if user.totp_secret_enc else None


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (``now`` ±1) whose code is ``code``, else ``None``."""
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    here = int(now.timestamp()) // STEP
    for step in (here - 1, here, here + 1):
        if hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def _claim(conn: Connection, user_id: int, step: int) -> bool:
    """Record, in ``conn``'s transaction, that ``user_id`` used ``step``; False when it (or a later step) was used
    before."""
    mine = (str(conn.engine.url), user_id)
    with _lock:
        if _last_step.get(mine, -1) >= step:
            return False
        _last_step[mine] = step
    start = datetime.fromtimestamp(step * STEP, UTC)
    (retry,) = count_attempts(conn, [(USED, f"user:{user_id}", start)], [(1, float(STEP))])
    return retry is None


def valid_secret(secret: str) -> bool:
    """Whether ``secret`` is base32 of at least 112 bits (what pyotp accepts)."""
    try:
        pyotp.TOTP(secret).byte_secret()
    except (ValueError, binascii.Error):
        return False
    return 16 <= len(secret) <= 64


def check(engine: Engine, settings: Settings, user: User, code: str, now: datetime) -> bool:
    """Whether ``code`` is ``user``'s current code and not used before (it is used up now)."""
    secret = secret_of(settings, user)
    step = matching_step(secret, code, now) if secret else None
    if step is None or user.id is None:
        return False
    with engine.begin() as conn:
        return _claim(conn, user.id, step)


def enable(session: Session, settings: Settings, user: User, secret: str, code: str, *, now: datetime) -> None:
    """Turn the second factor on once ``code`` proves the app has ``secret``, in ``session``'s transaction; audited."""
    if not valid_secret(secret):
        raise BadRequest(_("Please reload this page and scan the new code."), field="code")
    step = matching_step(secret, code, now)
    if step is None or user.id is None or not _claim(session.connection(), user.id, step):
        raise BadRequest(_("That code is not right. Please type the code your app shows now."), field="code")
    user.totp_secret_enc = crypto.encrypt(settings.key, secret)
    session.add(user)
    audit.record(session, actor=user.email, action="user.totp_on", target=f"user:{user.email}", at=now)


def disable(session: Session, settings: Settings, user: User, code: str, *, now: datetime) -> None:
    """Turn the second factor off, in ``session``'s transaction; needs a current code (:class:`BadRequest` at
    ``code``); audited."""
    secret = secret_of(settings, user)
    step = matching_step(secret, code, now) if secret else None
    if step is None or user.id is None or not _claim(session.connection(), user.id, step):
        raise BadRequest(_("That code is not right. Please type the code your app shows now."), field="code")
    user.totp_secret_enc = None
    session.add(user)
    audit.record(session, actor=user.email, action="user.totp_off", target=f"user:{user.email}", at=now)
