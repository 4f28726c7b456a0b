"""Helpers for the workspace tests: users in the real database, and a TestClient logged in as one.

``make_user(engine, email, role, password=..., totp=False)`` creates a user (with ``totp=True`` a TOTP secret too,
encrypted with the settings' key given as ``key``: read it back with :func:`totp_secret`). ``login(client, engine,
role="editor")`` creates a user and logs the client in (a real session and its cookie; ``via_form=True``: through
the real ``/login`` form, and ``/login/totp`` for a user with TOTP); it returns the user.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from itertools import count

import pyotp
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine

from social_campaign import crypto
from social_campaign.db import session_scope
from social_campaign.models import User
from social_campaign.web import deps
from social_campaign.workspace import accounts, sessions

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SESSION = re.compile(r"sc_session=([^;]+)")
_numbers = count(1)


def make_user(
    engine: Engine, email: str, role: str = "editor", *, password: str = PASSWORD, totp: bool = False,
    key: bytes | None = None,
) -> User:
    """A user in ``engine``'s database (``totp=True`` needs ``key``: the app's ``settings.key``)."""
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        user = accounts.add(s, email, role, None, actor="test", now=now)
        user.password_hash = _hash_of(password)
        if totp:
            assert key is not None, "make_user(totp=True) needs key=settings.key"
            user.totp_secret_enc = crypto.encrypt(key, pyotp.random_base32())
            s.add(user)
        s.flush()
        s.refresh(user)
        s.expunge(user)
    return user


@functools.cache
def _hash_of(password: str) -> str:
    """The real argon2id hash, computed once per password per test run (hashing is slow on purpose)."""
    return accounts.hash_password(accounts.check_password(password, "-"))


def totp_secret(user: User, key: bytes) -> str:
    assert user.totp_secret_enc is not None
    return crypto.decrypt(key, user.totp_secret_enc)


def csrf_from(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF.search(page.text)
    assert match, f"{path} has no CSRF input ({page.status_code})"
    return match.group(1)


def login_as(client: TestClient, email: str, password: str = PASSWORD, *, totp_key: bytes | None = None,
             user: User | None = None) -> None:
    """Log ``client`` in through the real forms; for a user with TOTP give ``user`` and the settings' ``totp_key``."""
    response = client.post("/login", data={"email": email, "password": password, "csrf": csrf_from(client),
                                           "next": "/admin"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    keep_session_cookie(client, response)
    if response.headers["location"].startswith("/login/totp"):
        assert user is not None and totp_key is not None, "this user has TOTP: pass user= and totp_key="
        code = pyotp.TOTP(totp_secret(user, totp_key)).now()
        done = client.post("/login/totp", data={"code": code, "csrf": csrf_from(client, "/login/totp")},
                           follow_redirects=False)
        assert done.status_code == 303, done.text


def keep_session_cookie(client: TestClient, response: Response) -> None:
    """Put the ``sc_session`` cookie ``response`` set into ``client``'s jar. The cookie is ``Secure`` when PUBLIC_URL
    is https (the web tests' settings), and a jar never sends a Secure cookie to ``http://testserver``."""
    found = SESSION.search(response.headers.get("set-cookie", ""))
    assert found, "no sc_session cookie was set"
    client.cookies.delete("sc_session")
    client.cookies.set("sc_session", found.group(1))


def login(client: TestClient, engine: Engine, role: str = "editor", *, email: str | None = None,
          totp: bool = False, via_form: bool = False) -> User:
    """A new user with ``role``, and ``client`` logged in as them: a real session opened in the database and its
    cookie set (``via_form=True``: through the ``/login`` and ``/login/totp`` forms)."""
    email = email or f"{role}{next(_numbers)}@example.org"
    key = services_key(client) if totp else None
    user = make_user(engine, email, role, totp=totp, key=key)
    if via_form:
        login_as(client, email, totp_key=key, user=user)
        return user
    services: deps.Services = client.app.state.services  # type: ignore[attr-defined]
    with session_scope(engine) as s:
        token = sessions.open_session(s, user, hours=services.settings.session_hours, now=datetime.now(UTC))
    client.cookies.delete("sc_session")
    client.cookies.set("sc_session", token)
    return user


def services_key(client: TestClient) -> bytes:
    services: deps.Services = client.app.state.services  # type: ignore[attr-defined]
    return services.settings.key
