"""The login steps as plain functions over settings and engine (``web/routes/login.py`` stays thin).

:func:`password_step` checks the throttle, the address and the password and opens a session (waiting for the TOTP
code when the user has one); :func:`code_step` accepts the code of such a session. Wrong answers say the same thing
whether or not the address has an account, and take about as long (``accounts.verify_password``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.errors import Unauthorized
from social_campaign.i18n import N_, _, ngettext
from social_campaign.i18n.formatting import number
from social_campaign.models import User
from social_campaign.pledges.abuse import retry_after
from social_campaign.workspace import accounts, sessions, throttle, totp

WRONG = N_("The email or password is wrong.")
WRONG_CODE = N_("That code is not right. Please type the code your app shows now.")


def wait_seconds(engine: Engine, settings: Settings, email: str, ip: str, now: datetime) -> int | None:
    """Seconds until the account or the client may try again, when either used up its failed logins; else None.
    Checked before the password (``web/routes/login.py`` answers 429 with ``Retry-After``)."""
    until = throttle.blocked_until(engine, settings, throttle.keys(settings, email, ip), now)
    return None if until is None else retry_after(until, now)


def wait_message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return ngettext("Too many failed attempts. To keep the account safe, logging in is paused; please try again in "
                    "%(num)s minute.",
                    "Too many failed attempts. To keep the account safe, logging in is paused; please try again in "
                    "%(num)s minutes.", minutes) % {"num": number(minutes)}


@dataclass(frozen=True)
class Opened:
    """A new session: the cookie's ``token``, and whether the TOTP code is still to come."""

    token: str
    needs_code: bool
    user: User


def password_step(engine: Engine, settings: Settings, *, email: str, password: str, ip: str, now: datetime,
                  replaces: str | None) -> Opened:
    """Open a session for the right address and password (ending the browser's old one); else
    :class:`Unauthorized` at ``password``, counted as a failed login. Check :func:`wait_seconds` first."""
    key = throttle.keys(settings, email, ip)
    with session_scope(engine) as s:
        user = accounts.authenticate(s, email, password, now)
        if user is not None:
            needs_code = user.totp_secret_enc is not None
            token = sessions.open_session(s, user, hours=settings.session_hours, now=now,
                                          second_factor_ok=not needs_code, replaces=replaces)
            s.flush()
            s.expunge(user)
    if user is None:
        throttle.record_failure(engine, settings, key, now)
        raise Unauthorized(_(WRONG), field="password")
    return Opened(token=token, needs_code=needs_code, user=user)


def code_step(engine: Engine, settings: Settings, active: sessions.Active, *, code: str, ip: str,
              now: datetime) -> None:
    """Accept the TOTP ``code`` of a session waiting for it; else :class:`Unauthorized` at ``code``. Wrong codes
    count as failed logins."""
    key = throttle.keys(settings, active.user.email, ip)
    if not totp.check(engine, settings, active.user, code, now):
        throttle.record_failure(engine, settings, key, now)
        raise Unauthorized(_(WRONG_CODE), field="code")
    sessions.second_factor_done(engine, active.token_hash)
