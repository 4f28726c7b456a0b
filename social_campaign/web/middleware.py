"""Pure ASGI middleware of the web app: security headers per path, HEAD as GET, and the ``progress.json`` fast path."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from social_campaign.web import deps

CSP = (
    b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    b"form-action 'self' https:; frame-ancestors %s; base-uri 'none'; object-src 'none'"
)
_COMMON: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
#: every page: no other site may frame it
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    *_COMMON, (b"x-frame-options", b"DENY"), (b"content-security-policy", CSP % b"'none'"),
]
#: ``/c/{slug}/embed``, the counter partner sites put in an iframe: any site may frame it (no X-Frame-Options)
EMBED_HEADERS: list[tuple[bytes, bytes]] = [*_COMMON, (b"content-security-policy", CSP % b"*")]
#: what any site may read from a script or show as an image (the counter's numbers and its SVG badge)
CORS_HEADERS: list[tuple[bytes, bytes]] = [
    (b"access-control-allow-origin", b"*"), (b"cross-origin-resource-policy", b"cross-origin"),
]
EMBED_PATH = re.compile(r"^/c/[^/]+/embed/?$")
OPEN_DATA = re.compile(r"^/c/[^/]+/progress\.(?:json|svg)$")


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    """The security headers of ``path``: framable for the embed page, readable by any site for the open data."""
    if EMBED_PATH.match(path):
        return EMBED_HEADERS
    if OPEN_DATA.match(path):
        return [*SECURITY_HEADERS, *CORS_HEADERS]
    return SECURITY_HEADERS


class SecurityHeaders:
    """Pure ASGI middleware adding :func:`headers_for` the path to every response (cheap: no request wrapping).
    A header the route set itself (CORS on ``progress.json``) is not sent twice."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        extra = headers_for(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = message.get("headers", [])
                names = {k.lower() for k, _v in own}
                message["headers"] = [*own, *(h for h in extra if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """Pure ASGI middleware: every GET page answers HEAD, with the headers GET would send and no body.

    A HEAD request is routed as GET (so routes are declared once, with ``@router.get``); the response's status and
    headers, ``content-length`` included, go out unchanged and its body is dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET", deps.HEAD_SCOPE_KEY: True}, receive, send_without_body)


class ProgressFastPath:
    """Pure ASGI fast path: answers ``GET /c/{slug}/progress.json`` straight from the in-process cache while it is
    fresh, without routing (the hot endpoint every open campaign page polls). Anything else goes to the app."""

    def __init__(self, app: ASGIApp, services: deps.Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and scope["method"] == "GET" and path.endswith("/progress.json") and path.startswith("/c/"):
            body = self.services.progress.fresh(path[3:-len("/progress.json")] + ".json")
            if body is not None:
                age = max(1, round(self.services.settings.progress_interval))
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", f"public, max-age={age}, stale-while-revalidate={age * 5}".encode()),
                    *SECURITY_HEADERS,
                    *CORS_HEADERS,
                ]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
