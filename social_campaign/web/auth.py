"""Who is logged in to the workspace, and what their role lets them open.

* :func:`require` ``(role)`` is the FastAPI dependency every ``/admin`` page declares
  (``user: User = Depends(require("editor"))``). Without a live session an HTML GET is sent (303) to
  ``/login?next=<path>`` (with a notice when the session had expired), a POST gets 401 and a link to log in (nothing is
  written), JSON gets 401; a session still waiting for its TOTP code goes to ``/login/totp``; with
  ``SOCIAL_CAMPAIGN_REQUIRE_2FA`` an owner without a second factor goes to ``/account``; a role too low gets 403.
  Roles rank ``viewer`` < ``editor`` < ``owner``.
* :func:`require_api_token` guards the read-only JSON under ``/admin/api/`` (``Authorization: Bearer <ADMIN_TOKEN>``).
* The ``sc_session`` cookie holds a random token (``workspace.sessions``): HttpOnly, SameSite=Lax, Path=/, Secure when
  ``PUBLIC_URL`` is https.

The redirects travel as :class:`Unauthorized` with ``request.state.auth_redirect`` set; ``web/app.py``'s handler
turns them into answers with :func:`unauthorized_response`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from social_campaign.errors import Forbidden, Unauthorized
from social_campaign.i18n import N_, _
from social_campaign.models import User, UserRole
from social_campaign.web import deps
from social_campaign.workspace import sessions
from social_campaign.workspace.accounts import rank

COOKIE = "sc_session"
HOME = "/admin"
EXPIRED = N_("Your session has expired; please log in again.")
LOGIN_FIRST = N_("Please log in to open the workspace.")
_UNSET = object()


def safe_next(value: str | None, default: str = HOME) -> str:
    """``value`` when it is a path on this site (``/…``, not ``//host`` nor ``/\\host``, no scheme), else ``default``:
    the login form never redirects to another site."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 32 or ch == "\\" for ch in value) or urlsplit(value).netloc or urlsplit(value).scheme:
        return default
    return value


def current_session(request: Request) -> sessions.Active | None:
    """The live session of the request's cookie (looked up once per request), second factor given or not."""
    found = getattr(request.state, "auth_active", _UNSET)
    if found is _UNSET:
        svc = deps.services(request)
        found = sessions.lookup(svc.engine, request.cookies.get(COOKIE), hours=svc.settings.session_hours,
                                now=deps.now())
        request.state.auth_active = found
    return cast("sessions.Active | None", found)


def current_user(request: Request) -> User | None:
    """The logged-in user (password and, when they have one, TOTP code given), else ``None``."""
    active = current_session(request)
    return active.user if active is not None and active.second_factor_ok else None


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    secure = deps.services(request).settings.public_url.startswith("https")
    response.set_cookie(COOKIE, token, path="/", httponly=True, samesite="lax", secure=secure)


def clear_session_cookie(response: Response, request: Request) -> None:
    secure = deps.services(request).settings.public_url.startswith("https")
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)


def _send_to(request: Request, location: str, message: str) -> Unauthorized:
    request.state.auth_redirect = location
    return Unauthorized(message)


def login_url(request: Request, *, expired: bool = False) -> str:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = f"/login?next={quote(safe_next(path), safe='/')}"
    return url + "&expired=1" if expired else url


def require(role: str, *, setting_up: bool = False) -> Callable[[Request], User]:
    """The dependency for a page that needs ``role`` or higher; returns the user. ``setting_up``: the page where an
    owner sets up the second factor (not sent there again by ``REQUIRE_2FA``)."""
    if rank(role) < 0:
        raise ValueError(f"unknown role {role!r}")

    def dependency(request: Request) -> User:
        active = current_session(request)
        if active is None:
            expired = bool(request.cookies.get(COOKIE))
            raise _send_to(request, login_url(request, expired=expired), _(EXPIRED) if expired else _(LOGIN_FIRST))
        if not active.second_factor_ok:
            raise _send_to(request, "/login/totp", _("Please enter the code from your authenticator app."))
        user = active.user
        settings = deps.services(request).settings
        if (settings.require_2fa and not setting_up and user.role == UserRole.owner.value
                and user.totp_secret_enc is None):
            raise _send_to(request, "/account", _("Owners must set up two-step login before using the workspace."))
        if rank(user.role) < rank(role):
            raise Forbidden(_("Your role does not allow this. Please ask an owner of the workspace."))
        return user

    dependency.required_role = role  # type: ignore[attr-defined]  # read by tests/web/test_admin_roles.py
    return dependency


def require_api_token(request: Request) -> None:
    """The dependency of the read-only JSON under ``/admin/api/``: ``Authorization: Bearer <ADMIN_TOKEN>``, compared
    in constant time. With no token set the API is off (403 saying how to set one)."""
    token = deps.services(request).settings.admin_token
    if token is None:
        raise Forbidden(_("The JSON API is off. Set SOCIAL_CAMPAIGN_ADMIN_TOKEN to a long random value (for example "
                          "the output of openssl rand -hex 32), restart, and send it as Authorization: Bearer <token>."))
    given = request.headers.get("authorization", "")
    scheme, _sep, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.get_secret_value().encode()):
        raise Unauthorized(_("This address needs the admin token: Authorization: Bearer <token>."))


require_api_token.api_token = True  # type: ignore[attr-defined]


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return (path.startswith("/admin/api/") or path.endswith(".json")
            or "application/json" in request.headers.get("accept", ""))


def unauthorized_response(request: Request, exc: Unauthorized) -> Response:
    """The answer to :class:`Unauthorized`: JSON 401; a GET is redirected (303) to where the user must go first; any
    other method gets the login page with the message (401), having written nothing."""
    location = getattr(request.state, "auth_redirect", None)
    if _wants_json(request) or location is None:
        if _wants_json(request):
            return JSONResponse({"error": str(exc)}, status_code=401)
    if request.method in ("GET", "HEAD") and location:
        return RedirectResponse(location, status_code=303)
    from social_campaign.web import csrf

    context: dict[str, Any] = {"notice": str(exc), "next": HOME, "csrf": csrf.new_token(request), "email": "",
                               "login_link": location or "/login", "error": None, "field": None}
    response = deps.render(request, "login.html", context, status_code=401)
    response.headers["cache-control"] = "no-store"
    return cast(Response, response)


def install(env: Any) -> None:
    """Jinja globals for ``admin_base.html`` (called once by ``web/app.py``): ``workspace_user(request)`` (the
    logged-in user or ``None``), ``csrf_for(request)`` (a fresh token for the logout form) and
    ``workspace_languages(request)`` (the switcher's ``(code, name, href)``)."""
    from social_campaign.i18n import SHIPPED
    from social_campaign.i18n.formatting import language_name
    from social_campaign.web import csrf

    def languages(request: Request) -> list[tuple[str, str, str]]:
        path = request.url.path if request.method in ("GET", "HEAD") else HOME
        return [(code, language_name(code), f"{path}?lang={code}") for code in SHIPPED]

    env.globals["workspace_user"] = current_user
    env.globals["csrf_for"] = csrf.new_token
    env.globals["workspace_languages"] = languages
