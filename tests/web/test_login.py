"""The login routes: cookie flags, wrong passwords, throttling, expired sessions, open redirects, TOTP and the
second factor required for owners, logout, password links and the account page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign import audit
from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.models import EmailMessage, User, UserSession
from social_campaign.workspace import accounts, totp
from tests.web.conftest import with_settings
from tests.web.workspace_support import PASSWORD, csrf_from, login, make_user, totp_secret

Client = Callable[..., TestClient]
WRONG = "The email or password is wrong."


@pytest.fixture
def make_client(engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Client) -> Client:
    def build(**changes: object) -> TestClient:
        settings = with_settings(web_settings, **changes) if changes else web_settings
        return client_for(engine, [campaign], settings, follow_redirects=False, base_url="https://testserver")
    return build


@pytest.fixture
def client(make_client: Client) -> TestClient:
    return make_client()


def _login(client: TestClient, email: str, password: str = PASSWORD, next_: str = "/admin") -> Any:
    token = csrf_from(client, "/login/forgot")  # /login itself sends a logged-in browser on
    return client.post("/login", data={"email": email, "password": password, "csrf": token, "next": next_})


def _without_tokens(html: str) -> str:
    return re.sub(r'value="[^"]*"', "", html)


def test_the_login_page_has_the_fields(client: TestClient) -> None:
    page = client.get("/login?next=/admin/users")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    for name in ("email", "password", "csrf", "next"):
        assert f'name="{name}"' in page.text
    assert 'value="/admin/users"' in page.text


def test_a_login_sets_a_safe_cookie_and_goes_to_next(client: TestClient, engine: Engine) -> None:
    make_user(engine, "amina@example.org", "viewer")
    answer = _login(client, "Amina@Example.org", next_="/admin/audit")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/audit"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("sc_session=")
    for flag in ("HttpOnly", "Path=/", "SameSite=lax", "Secure"):
        assert flag in cookie
    assert client.get("/admin").status_code == 200
    with Session(engine) as s:
        row = s.exec(select(UserSession)).one()
    assert row.token_hash not in cookie and client.cookies["sc_session"] not in row.token_hash


def test_no_secure_flag_on_a_plain_http_deployment(make_client: Client, engine: Engine) -> None:
    client = make_client(public_url="http://127.0.0.1:8000")
    make_user(engine, "amina@example.org", "viewer")
    answer = _login(client, "amina@example.org")
    assert "Secure" not in answer.headers["set-cookie"] and "HttpOnly" in answer.headers["set-cookie"]


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(client: TestClient, engine: Engine) -> None:
    make_user(engine, "amina@example.org", "viewer")
    wrong = _login(client, "amina@example.org", "not the password")
    unknown = _login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG in wrong.text and 'id="password-error"' in wrong.text and 'aria-invalid="true"' in wrong.text
    assert _without_tokens(wrong.text).replace("amina@", "X@") == _without_tokens(unknown.text).replace("nobody@", "X@")
    assert "set-cookie" not in wrong.headers or "sc_session" not in wrong.headers["set-cookie"]


def test_failed_logins_are_throttled_with_retry_after(make_client: Client, engine: Engine) -> None:
    client = make_client(login_rate_limits="3/300s")
    make_user(engine, "amina@example.org", "viewer")
    for _ in range(3):
        assert _login(client, "amina@example.org", "not the password").status_code == 401
    blocked = _login(client, "amina@example.org")  # even the right password waits
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 300
    assert "Too many failed attempts" in blocked.text
    other = _login(client, "nobody@example.org", "whatever")  # the same client, another account
    assert other.status_code == 429


def test_a_login_replaces_the_old_session(client: TestClient, engine: Engine) -> None:
    make_user(engine, "amina@example.org", "viewer")
    _login(client, "amina@example.org")
    first = client.cookies["sc_session"]
    _login(client, "amina@example.org")
    assert client.cookies["sc_session"] != first
    with Session(engine) as s:
        assert len(s.exec(select(UserSession)).all()) == 1


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "http:/x",
                                    "javascript:alert(1)", "evil.example", "/admin\r\nLocation: x"])
def test_next_never_leaves_the_site(client: TestClient, engine: Engine, target: str) -> None:
    make_user(engine, "amina@example.org", "viewer")
    answer = _login(client, "amina@example.org", next_=target)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"


def _expire(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.execute(update(UserSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))


def test_an_expired_session_get_goes_to_login_with_a_notice(client: TestClient, engine: Engine) -> None:
    login(client, engine, "owner")
    _expire(engine)
    answer = client.get("/admin/users")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/admin/users&expired=1"
    page = client.get(answer.headers["location"])
    assert "Your session has expired; please log in again." in page.text


def test_an_expired_session_post_gets_401_and_writes_nothing(client: TestClient, engine: Engine) -> None:
    login(client, engine, "owner")
    form = {"csrf": csrf_from(client, "/admin/users"), "email": "new@example.org", "role": "viewer"}
    _expire(engine)
    answer = client.post("/admin/users", data=form)
    assert answer.status_code == 401
    assert "Your session has expired; please log in again." in answer.text and 'href="/login?next=' in answer.text
    with Session(engine) as s:
        assert s.exec(select(User).where(User.email == "new@example.org")).first() is None


def test_logout_ends_the_session(client: TestClient, engine: Engine) -> None:
    login(client, engine, "viewer")
    page = client.get("/admin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    answer = client.post("/logout", data={"csrf": token.group(1)})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    with Session(engine) as s:
        assert s.exec(select(UserSession)).all() == []
    assert client.get("/admin").status_code == 303


def test_login_with_totp(client: TestClient, engine: Engine, web_settings: Settings) -> None:
    user = make_user(engine, "amina@example.org", "editor", totp=True, key=web_settings.key)
    answer = _login(client, "amina@example.org", next_="/admin/c/childrens-day")
    assert answer.status_code == 303 and answer.headers["location"] == "/login/totp?next=/admin/c/childrens-day"
    pending = client.get("/admin")
    assert pending.status_code == 303 and pending.headers["location"] == "/login/totp"
    code = pyotp.TOTP(totp_secret(user, web_settings.key))
    form = {"csrf": csrf_from(client, "/login/totp"), "next": "/admin"}
    wrong = client.post("/login/totp", data={**form, "code": "000000" if code.now() != "000000" else "111111"})
    assert wrong.status_code == 401 and 'id="code-error"' in wrong.text
    used = code.now()
    right = client.post("/login/totp", data={**form, "code": used})
    assert right.status_code == 303 and right.headers["location"] == "/admin"
    assert client.get("/admin").status_code == 200
    _login(client, "amina@example.org")  # a new login: the same code cannot be used again
    replay = client.post("/login/totp", data={**form, "code": used, "csrf": csrf_from(client, "/login/totp")})
    assert replay.status_code == 401


def test_owners_must_set_up_totp_when_required(make_client: Client, engine: Engine) -> None:
    client = make_client(require_2fa=True)
    login(client, engine, "owner")
    answer = client.get("/admin/users")
    assert answer.status_code == 303 and answer.headers["location"] == "/account"
    page = client.get("/account")
    assert page.status_code == 200 and "Owners must set up two-step login" in page.text
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page.text)
    assert secret and 'src="data:image/svg+xml' in page.text
    done = client.post("/account/totp", data={"csrf": csrf_from(client, "/account"), "secret": secret.group(1),
                                              "code": pyotp.TOTP(secret.group(1)).now()})
    assert done.status_code == 303 and done.headers["location"] == "/account?done=on"
    assert client.get("/admin/users").status_code == 200
    viewer = make_client(require_2fa=True)
    login(viewer, engine, "viewer")
    assert viewer.get("/admin").status_code == 200  # only owners must


def test_account_enables_totp_only_after_a_right_code(client: TestClient, engine: Engine, web_settings: Settings) -> None:
    user = login(client, engine, "viewer")
    page = client.get("/account")
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page.text)
    assert secret
    bad = client.post("/account/totp", data={"csrf": csrf_from(client, "/account"), "secret": secret.group(1),
                                             "code": "12"})
    assert bad.status_code == 400 and 'id="code-error"' in bad.text
    forged = client.post("/account/totp", data={"csrf": csrf_from(client, "/account"), "secret": "0189", "code": "1"})
    assert forged.status_code == 400
    with Session(engine) as s:
        row = s.get(User, user.id)
        assert row is not None and row.totp_secret_enc is None
    ok = client.post("/account/totp", data={"csrf": csrf_from(client, "/account"), "secret": secret.group(1),
                                            "code": pyotp.TOTP(secret.group(1)).now()})
    assert ok.status_code == 303
    with Session(engine) as s:
        row = s.get(User, user.id)
        assert row is not None and totp.secret_of(web_settings, row) == secret.group(1)
        assert audit.entries(s, action="user.totp_on")[0].actor == user.email
    off_form = {"csrf": csrf_from(client, "/account"), "action": "off"}
    assert client.post("/account/totp", data={**off_form, "code": ""}).status_code == 400
    later = pyotp.TOTP(secret.group(1)).at(datetime.now(UTC) + timedelta(seconds=30))
    assert client.post("/account/totp", data={**off_form, "code": later}).status_code == 303
    with Session(engine) as s:
        row = s.get(User, user.id)
        assert row is not None and row.totp_secret_enc is None


def test_forgot_answers_the_same_and_mails_only_an_account(client: TestClient, engine: Engine) -> None:
    make_user(engine, "amina@example.org", "viewer")
    known = client.post("/login/forgot", data={"email": "amina@example.org", "csrf": csrf_from(client, "/login/forgot")})
    unknown = client.post("/login/forgot", data={"email": "nobody@example.org",
                                                 "csrf": csrf_from(client, "/login/forgot")})
    assert known.status_code == unknown.status_code == 200
    assert "If that address has an account" in known.text
    assert _without_tokens(known.text) == _without_tokens(unknown.text)
    with Session(engine) as s:
        mails = s.exec(select(EmailMessage)).all()
    assert [m.to_addr for m in mails] == ["amina@example.org"]


def test_a_reset_link_sets_the_password_once_and_ends_sessions(client: TestClient, engine: Engine) -> None:
    make_user(engine, "amina@example.org", "viewer")
    other = client
    _login(other, "amina@example.org")
    other.post("/login/forgot", data={"email": "amina@example.org", "csrf": csrf_from(other, "/login/forgot")})
    with Session(engine) as s:
        body = s.exec(select(EmailMessage)).one().body_text
    path = re.search(r"https://pledge\.example\.org(/login/reset/\S+)", body)
    assert path
    form_page = client.get(path.group(1))
    assert form_page.status_code == 200 and 'name="password2"' in form_page.text
    new = "a fresh passphrase for amina"
    mismatch = client.post(path.group(1), data={"csrf": csrf_from(client, path.group(1)), "password": new,
                                                "password2": new + "!"})
    assert mismatch.status_code == 400 and 'id="password2-error"' in mismatch.text
    done = client.post(path.group(1), data={"csrf": csrf_from(client, path.group(1)), "password": new,
                                            "password2": new})
    assert done.status_code == 303 and done.headers["location"] == "/login?reset=1"
    with Session(engine) as s:
        assert s.exec(select(UserSession)).all() == []
        assert audit.entries(s, action="user.password")
    assert client.get(path.group(1)).status_code == 400
    again = client.post(path.group(1), data={"csrf": csrf_from(client, "/login"), "password": new, "password2": new})
    assert again.status_code == 400
    assert _login(client, "amina@example.org", new).status_code == 303
    assert _login(client, "amina@example.org", PASSWORD).status_code == 401


def test_pages_are_translated(client: TestClient) -> None:
    page = client.get("/login?lang=ar")
    assert 'lang="ar" dir="rtl"' in page.text


def test_a_removed_user_is_logged_out(client: TestClient, engine: Engine) -> None:
    user = login(client, engine, "viewer")
    make_user(engine, "boss@example.org", "owner")
    assert client.get("/admin").status_code == 200
    with session_scope(engine) as s:
        accounts.remove(s, user.email, actor="boss@example.org", now=datetime.now(UTC))
    answer = client.get("/admin")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=/admin")
