"""Single-use links to set a password: ``users reset`` prints one, ``/login/forgot`` emails one, and a user added
from ``/admin/users`` gets one instead of a typed password.

The link ``<PUBLIC_URL>/login/reset/<token>`` is valid for :data:`VALID` and once; only the token's SHA-256 is
stored (``password_reset``). Using it sets the password, marks it used and ends every session of the user.
"""

from __future__ import annotations

import html
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from social_campaign import audit
from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.errors import BadRequest
from social_campaign.i18n import N_, _
from social_campaign.mail import queue
from social_campaign.models import PasswordReset, User
from social_campaign.workspace import accounts
from social_campaign.workspace.sessions import token_hash

VALID = timedelta(hours=1)
MAIL_CAMPAIGN = "_workspace"  # the mail queue's campaign key of workspace emails (the per-address cap is per day)
NOT_VALID = N_("This link has expired or has been used already. Please ask for a new one.")


def create(session: Session, user: User, *, actor: str, now: datetime) -> str:
    """A new single-use token for ``user`` in the caller's transaction (audited)."""
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    session.add(PasswordReset(token_hash=token_hash(token), user_id=user.id, created_at=now, expires_at=now + VALID))
    audit.record(session, actor=actor, action="user.reset_link", target=f"user:{user.email}", at=now)
    return token


def link(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/login/reset/{token}"


def _valid(session: Session, token: str, now: datetime) -> tuple[PasswordReset, User] | None:
    if not token or len(token) > 200:
        return None
    row = session.exec(select(PasswordReset, User).join(User, col(User.id) == PasswordReset.user_id)
                       .where(PasswordReset.token_hash == token_hash(token))).first()
    if row is None or row[0].used_at is not None or row[0].expires_at <= now:
        return None
    return row[0], row[1]


def user_for(engine: Engine, token: str, now: datetime) -> User | None:
    """The user a valid (unused, unexpired) token is for, else ``None``."""
    with Session(engine, expire_on_commit=False) as s:
        found = _valid(s, token, now)
        return found[1] if found else None


def use(engine: Engine, token: str, password: str, password2: str, *, now: datetime) -> User:
    """Set the password of the token's user; :class:`BadRequest` for a used or expired token (no field) or a password
    that is not acceptable (at ``password``/``password2``). Marks the token used and ends every session."""
    with session_scope(engine) as s:
        found = _valid(s, token, now)
        if found is None:
            raise BadRequest(_(NOT_VALID))
        reset, user = found
        if password != password2:
            raise BadRequest(_("The two passwords are not the same. Please type them again."), field="password2")
        accounts.set_password(s, user, password, actor=user.email, now=now)
        claimed = s.execute(update(PasswordReset).where(col(PasswordReset.token_hash) == reset.token_hash,
                                                        col(PasswordReset.used_at).is_(None)).values(used_at=now))
        if not claimed.rowcount:  # type: ignore[attr-defined]  # used at the same moment elsewhere
            raise BadRequest(_(NOT_VALID))
        return user


def email_link(engine: Engine, settings: Settings, email: str, *, now: datetime) -> bool:
    """Queue an email with a new link when ``email`` has an account (in the active language); returns whether it
    had. The caller answers the same either way."""
    with session_scope(engine) as s:
        user = accounts.find(s, email)
        if user is None:
            return False
        token = create(s, user, actor=user.email, now=now)
        url = link(settings, token)
        subject = _("Set your password for the campaign workspace")
        intro = _("Someone asked to set a new password for %(email)s on the campaign workspace.") % {"email": user.email}
        action = _("To choose a new password, open this link within one hour. It works once:")
        ignore = _("If you did not ask for this, you can ignore this email: your password stays as it is.")
        text = f"{intro}\n\n{action}\n{url}\n\n{ignore}\n"
        body = (f"<p>{html.escape(intro)}</p><p>{html.escape(action)}<br><a href=\"{html.escape(url)}\">"
                f"{html.escape(url)}</a></p><p>{html.escape(ignore)}</p>")
        queue.enqueue(s, campaign=f"{MAIL_CAMPAIGN}:{now:%Y-%m-%d}", kind="password_reset", to_addr=user.email,
                      to_canonical=user.email, subject=subject, body_text=text, body_html=body,
                      dedupe_key=f"reset:{token_hash(token)}", max_per_address=settings.max_emails_per_address)
    return True
