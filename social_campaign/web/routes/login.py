"""Logging in and out of the workspace, the second factor, password resets and the account page.

``/login`` (fields ``email``, ``password``, hidden ``csrf`` and ``next``), ``/login/totp`` (``code``), ``POST
/logout``, ``/login/forgot`` (``email``), ``/login/reset/{token}`` (``password``, ``password2``) and ``/account``
(turn the TOTP second factor on or off). The work is done in ``workspace/``; see docs/WORKSPACE.md.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from social_campaign.db import session_scope
from social_campaign.errors import BadRequest, WebError
from social_campaign.i18n import N_, _
from social_campaign.models import User
from social_campaign.web import auth, csrf, deps
from social_campaign.workspace import login as steps
from social_campaign.workspace import reset, sessions, totp

router = APIRouter()
SENT = N_("If that address has an account, we have sent a link to set a new password. It works for one hour.")


def _page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("error", None)
    context.setdefault("field", None)
    context["csrf"] = csrf.new_token(request)
    response = cast(Response, deps.render(request, name, context, status_code=status))
    response.headers["cache-control"] = "no-store"
    return response


def _failed(request: Request, name: str, exc: WebError, **context: Any) -> Response:
    return _page(request, name, exc.status, error=str(exc), field=exc.field, **context)


def _to(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


@router.get("/login")
async def login_page(request: Request) -> Response:
    target = auth.safe_next(request.query_params.get("next"))
    if await run_in_threadpool(auth.current_user, request) is not None:
        return _to(target)
    notice = None
    if request.query_params.get("expired"):
        notice = _(auth.EXPIRED)
    elif request.query_params.get("reset"):
        notice = _("Your new password is set. Please log in.")
    return _page(request, "login.html", next=target, email="", notice=notice)


@router.post("/login")
async def login(request: Request) -> Response:
    fields = await csrf.checked_form(request)
    svc = deps.services(request)
    email, target = fields.get("email", "").strip(), auth.safe_next(fields.get("next"))
    ip, now = deps.client_ip(request, svc.settings), deps.now()
    wait = await run_in_threadpool(steps.wait_seconds, svc.engine, svc.settings, email, ip, now)
    if wait is not None:
        response = _page(request, "login.html", 429, next=target, email=email, error=steps.wait_message(wait),
                         field=None)
        response.headers["retry-after"] = str(wait)
        return response
    try:
        opened = await run_in_threadpool(
            steps.password_step, svc.engine, svc.settings, email=email, password=fields.get("password", ""), ip=ip,
            now=now, replaces=request.cookies.get(auth.COOKIE))
    except WebError as exc:
        return _failed(request, "login.html", exc, next=target, email=email)
    response = _to(f"/login/totp?next={quote(target, safe='/')}" if opened.needs_code else target)
    auth.set_session_cookie(response, request, opened.token)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await csrf.checked_form(request)
    svc = deps.services(request)
    await run_in_threadpool(sessions.end, svc.engine, request.cookies.get(auth.COOKIE))
    response = _to("/login")
    auth.clear_session_cookie(response, request)
    return response


def _pending(request: Request) -> sessions.Active | None:
    return auth.current_session(request)


@router.get("/login/totp")
async def totp_page(request: Request) -> Response:
    target = auth.safe_next(request.query_params.get("next"))
    active = await run_in_threadpool(_pending, request)
    if active is None:
        return _to("/login")
    if active.second_factor_ok:
        return _to(target)
    return _page(request, "login_totp.html", next=target)


@router.post("/login/totp")
async def totp_code(request: Request) -> Response:
    fields = await csrf.checked_form(request)
    target = auth.safe_next(fields.get("next"))
    active = await run_in_threadpool(_pending, request)
    if active is None:
        return _page(request, "login.html", 401, next=target, email="", notice=_(auth.EXPIRED))
    if active.second_factor_ok:
        return _to(target)
    svc = deps.services(request)
    ip, now = deps.client_ip(request, svc.settings), deps.now()
    wait = await run_in_threadpool(steps.wait_seconds, svc.engine, svc.settings, active.user.email, ip, now)
    if wait is not None:
        response = _page(request, "login_totp.html", 429, next=target, error=steps.wait_message(wait))
        response.headers["retry-after"] = str(wait)
        return response
    try:
        await run_in_threadpool(steps.code_step, svc.engine, svc.settings, active, code=fields.get("code", ""),
                                ip=ip, now=now)
    except WebError as exc:
        return _failed(request, "login_totp.html", exc, next=target)
    return _to(target)


@router.get("/login/forgot")
async def forgot_page(request: Request) -> Response:
    return _page(request, "forgot.html", email="", sent=False)


@router.post("/login/forgot")
async def forgot(request: Request) -> Response:
    fields = await csrf.checked_form(request)
    svc = deps.services(request)
    email = fields.get("email", "").strip()
    if "@" not in email:
        return _failed(request, "forgot.html", BadRequest(
            _("Please enter a valid email address, such as name@example.org."), field="email"), email=email, sent=False)
    await run_in_threadpool(reset.email_link, svc.engine, svc.settings, email, now=deps.now())
    return _page(request, "forgot.html", email="", sent=True, notice=_(SENT))


@router.get("/login/reset/{token}")
async def reset_page(request: Request, token: str) -> Response:
    svc = deps.services(request)
    user = await run_in_threadpool(reset.user_for, svc.engine, token, deps.now())
    if user is None:
        return _page(request, "reset.html", 400, user_email=None, error=_(reset.NOT_VALID))
    return _page(request, "reset.html", user_email=user.email)


@router.post("/login/reset/{token}")
async def reset_password(request: Request, token: str) -> Response:
    fields = await csrf.checked_form(request)
    svc = deps.services(request)
    try:
        await run_in_threadpool(reset.use, svc.engine, token, fields.get("password", ""), fields.get("password2", ""),
                                now=deps.now())
    except WebError as exc:
        user = await run_in_threadpool(reset.user_for, svc.engine, token, deps.now())
        return _failed(request, "reset.html", exc, user_email=user.email if user else None)
    response = _to("/login?reset=1")
    auth.clear_session_cookie(response, request)
    return response


def _account_context(request: Request, user: User, secret: str | None = None) -> dict[str, Any]:
    settings = deps.services(request).settings
    if user.totp_secret_enc is not None:
        return {"user": user, "enabled": True}
    secret = secret or totp.new_secret()
    otpauth = totp.uri(settings, user.email, secret)
    return {"user": user, "enabled": False, "secret": secret, "otpauth": otpauth, "qr": totp.qr_data_uri(otpauth),
            "required": settings.require_2fa and user.role == "owner"}


@router.get("/account")
async def account(request: Request, user: User = Depends(auth.require("viewer", setting_up=True))) -> Response:
    return _page(request, "account.html", **_account_context(request, user))


@router.post("/account/totp")
async def account_totp(request: Request, user: User = Depends(auth.require("viewer", setting_up=True))) -> Response:
    fields = await csrf.checked_form(request)
    svc = deps.services(request)
    secret, code, turn_off = fields.get("secret", ""), fields.get("code", ""), fields.get("action") == "off"

    def change() -> None:
        with session_scope(svc.engine) as s:
            fresh = s.get(User, user.id)
            assert fresh is not None
            if turn_off and fresh.totp_secret_enc is not None:
                totp.disable(s, svc.settings, fresh, code, now=deps.now())
            elif not turn_off and fresh.totp_secret_enc is None:
                totp.enable(s, svc.settings, fresh, secret, code, now=deps.now())

    try:
        await run_in_threadpool(change)
    except WebError as exc:
        kept = secret if totp.valid_secret(secret) else None  # the QR code they scanned, unless it is not one
        return _failed(request, "account.html", exc, **_account_context(request, user, kept))
    return _to("/account?done=off" if turn_off else "/account?done=on")
