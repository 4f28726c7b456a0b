"""Managers' accounts: email addresses, argon2id password hashes and roles (``viewer`` < ``editor`` < ``owner``).

Every change is audited in the caller's transaction (``audit.record``); the actor is the manager's address in the
workspace, ``cli:<os user>`` on the command line. Passwords are at least :data:`MIN_PASSWORD` characters and never
the address itself. A user added without a password (``/admin/users``) gets an unusable hash and a set-password link.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from social_campaign import audit
from social_campaign.errors import BadRequest, NotFound
from social_campaign.i18n import _
from social_campaign.models import PasswordReset, User, UserRole, UserSession
from social_campaign.pledges.emails import is_valid_email

ROLES: tuple[str, ...] = tuple(r.value for r in UserRole)
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
UNUSABLE = "!unset:"  # prefix of the hash of a user who has not chosen a password yet


@cache
def hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's current recommended parameters (a stored hash with others is rehashed at login)."""
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return hasher().hash(secrets.token_urlsafe(16))


def rank(role: str) -> int:
    """0 for ``viewer``, 1 for ``editor``, 2 for ``owner``; -1 for anything else."""
    return ROLES.index(role) if role in ROLES else -1


def normalise_email(email: str) -> str:
    """The address as stored: trimmed and lower-cased; :class:`BadRequest` (field ``email``) when it is not one."""
    address = (email or "").strip().lower()
    if not is_valid_email(address):
        raise BadRequest(_("Please enter a valid email address, such as name@example.org."), field="email")
    return address


def check_role(role: str) -> str:
    if role not in ROLES:
        raise BadRequest(_("The role must be viewer, editor or owner."), field="role")
    return role


def check_password(password: str, email: str, field: str = "password") -> str:
    """``password`` when acceptable: :data:`MIN_PASSWORD` characters or more, not the email address."""
    if len(password) < MIN_PASSWORD:
        raise BadRequest(_("Please choose a password of at least %(num)s characters.") % {"num": MIN_PASSWORD},
                         field=field)
    if len(password) > MAX_PASSWORD:
        raise BadRequest(_("That password is too long."), field=field)
    if password.strip().lower() == email.strip().lower() or password.strip().lower() == email.split("@")[0].lower():
        raise BadRequest(_("Please choose a password that is not your email address."), field=field)
    return password


def hash_password(password: str) -> str:
    return hasher().hash(password)


def unusable_hash() -> str:
    return UNUSABLE + secrets.token_urlsafe(16)


def verify_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s. With no user (or no usable hash) a dummy hash is verified all the same, so
    an unknown address takes as long as a wrong password."""
    stored = user.password_hash if user is not None and not user.password_hash.startswith(UNUSABLE) else None
    try:
        return hasher().verify(stored or _dummy_hash(), password[:MAX_PASSWORD]) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def find(session: Session, email: str) -> User | None:
    address = (email or "").strip().lower()
    return session.exec(select(User).where(User.email == address)).first() if address else None


def get(session: Session, email: str) -> User:
    user = find(session, email)
    if user is None:
        raise NotFound(_("There is no user %(email)s.") % {"email": email.strip().lower()}, field="email")
    return user


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The user whose address and password these are (rehashed when the parameters changed; ``last_login_at`` set),
    else ``None``, taking the same time either way."""
    user = find(session, email)
    if not verify_password(user, password) or user is None:
        return None
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.add(user)
    return user


def add(session: Session, email: str, role: str, password: str | None, *, actor: str, now: datetime) -> User:
    """Create a user (``password`` ``None``: none yet, see ``reset.create``). :class:`BadRequest` when the address is
    taken or the password is not acceptable."""
    address = normalise_email(email)
    check_role(role)
    if find(session, address) is not None:
        raise BadRequest(_("There is already a user %(email)s.") % {"email": address}, field="email")
    hashed = hash_password(check_password(password, address)) if password is not None else unusable_hash()
    user = User(email=address, role=role, password_hash=hashed, created_at=now, password_changed_at=now)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.add", target=f"user:{address}", details={"role": role}, at=now)
    return user


def owners(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(User).where(User.role == UserRole.owner.value)).one())


def set_role(session: Session, email: str, role: str, *, actor: str, now: datetime) -> User:
    """Change a user's role; the last owner cannot be demoted (:class:`BadRequest`)."""
    user = get(session, email)
    check_role(role)
    if user.role == role:
        return user
    if user.role == UserRole.owner.value and owners(session) <= 1:
        raise BadRequest(_("This is the last owner: make someone else an owner first."), field="role")
    details = {"from": user.role, "to": role, "diff": f"-role = {user.role}\n+role = {role}\n"}
    user.role = role
    session.add(user)
    audit.record(session, actor=actor, action="user.role", target=f"user:{user.email}", details=details, at=now)
    return user


def set_password(session: Session, user: User, password: str, *, actor: str, now: datetime) -> None:
    """A new password for ``user``; every session of theirs ends."""
    user.password_hash = hash_password(check_password(password, user.email))
    user.password_changed_at = now
    session.add(user)
    end_sessions(session, user)
    audit.record(session, actor=actor, action="user.password", target=f"user:{user.email}", at=now)


def end_sessions(session: Session, user: User) -> None:
    session.execute(delete(UserSession).where(col(UserSession.user_id) == user.id))


def remove(session: Session, email: str, *, actor: str, now: datetime) -> None:
    """Delete a user, their sessions and reset links; the last owner cannot be removed (:class:`BadRequest`)."""
    user = get(session, email)
    if user.role == UserRole.owner.value and owners(session) <= 1:
        raise BadRequest(_("This is the last owner: make someone else an owner first."), field="email")
    end_sessions(session, user)
    session.execute(delete(PasswordReset).where(col(PasswordReset.user_id) == user.id))
    session.delete(user)
    audit.record(session, actor=actor, action="user.remove", target=f"user:{user.email}",
                 details={"role": user.role}, at=now)


def all_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.email))).all())
