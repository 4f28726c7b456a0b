"""The page language of every request: :class:`LanguageMiddleware` chooses it and makes it active for the request.

For ``/c/{slug}…`` the campaign's ``languages`` are the choice (the first is the default); elsewhere the shipped ones,
English first. ``?lang=`` wins, then the ``lang`` cookie, then ``Accept-Language`` (``i18n.negotiate.choose``). A
valid ``?lang=`` also sets the cookie, so the switcher's choice sticks. Every response says which language it is in
(``Content-Language``) and that it varies with the request's language headers. ``progress.json`` (numbers only,
often answered by ``web.middleware.ProgressFastPath`` before routing) and ``/static/`` are left alone.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from social_campaign.errors import NotFound
from social_campaign.i18n import catalogs
from social_campaign.i18n.negotiate import COOKIE, choose, match
from social_campaign.web.store import CampaignStore

COOKIE_MAX_AGE = 365 * 24 * 3600


def languages_for(store: CampaignStore, path: str) -> tuple[str, ...]:
    """The languages a path may be shown in: its campaign's, or the shipped ones."""
    if path.startswith("/c/"):
        slug = path[3:].split("/", 1)[0]
        try:
            return store.get(slug).languages or (catalogs.SOURCE,)
        except NotFound:
            pass
    return catalogs.SHIPPED


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _cookie(scope: Scope) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    try:
        jar = SimpleCookie(raw)
    except Exception:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


def _query_lang(scope: Scope) -> str | None:
    raw = scope.get("query_string", b"")
    if b"lang=" not in raw:
        return None
    values = parse_qs(raw.decode("latin-1")).get("lang")
    return values[0] if values else None


class LanguageMiddleware:
    """Pure ASGI: sets the active language (``i18n.catalogs.activate``) around the request and labels the response."""

    def __init__(self, app: ASGIApp, store: CampaignStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/static/") or path.endswith("/progress.json"):  # no words
            await self.app(scope, receive, send)
            return
        languages = languages_for(self.store, path)
        query = _query_lang(scope)
        cookie = _cookie(scope)
        lang = choose(languages, query=query, cookie=cookie, accept=_header(scope, b"accept-language"))
        remember = match(query, languages) if query else None

        async def send_labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"content-language"]
                headers += [(b"content-language", lang.encode()), (b"vary", b"Accept-Language, Cookie")]
                if remember and remember != cookie:
                    headers.append((b"set-cookie", f"{COOKIE}={remember}; Path=/; Max-Age={COOKIE_MAX_AGE}; "
                                                   f"SameSite=Lax".encode()))
                message["headers"] = headers
            await send(message)

        token = catalogs.activate(lang, languages[0])
        try:
            await self.app(scope, receive, send_labelled)
        finally:
            catalogs.deactivate(token)


def language_links(request: object, campaign: object) -> list[tuple[str, str, str]]:
    """The switcher's links: ``(code, the language's own name, href)`` for each of the campaign's languages. A page
    answering a POST (a pledge form with an error) links to the campaign page, which takes GET."""
    from social_campaign.i18n.formatting import language_name

    languages: tuple[str, ...] = getattr(campaign, "languages", ()) or ()
    path = getattr(getattr(request, "url", None), "path", "/")
    if getattr(request, "method", "GET") not in ("GET", "HEAD"):
        path = f"/c/{getattr(campaign, 'slug', '')}"
    return [(code, language_name(code), f"{path}?lang={code}") for code in languages]


def plural_json(singular: str, plural: str, **values: object) -> str:
    """Every plural form of a message in the page language, keyed by CLDR category (``one``, ``few``, ``other``…),
    with ``{n}`` where the number goes: scripts pick the form with ``Intl.PluralRules`` and fill in a number they
    format, so live updates read as the server's words do (``%(num)s`` is the number; other values are filled in)."""
    import json

    from babel import Locale, UnknownLocaleError

    lang = catalogs.current()
    try:
        locale = Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    forms: dict[str, str] = {}
    for n in range(201):
        category = locale.plural_form(n)
        if category not in forms:
            forms[category] = catalogs.ngettext(singular, plural, n) % {**values, "num": "{n}"}
    return json.dumps(forms, ensure_ascii=False, separators=(",", ":"))
