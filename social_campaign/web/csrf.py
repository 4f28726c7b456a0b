"""Cross-site form protection for every POST form: the browser's ``Origin`` header and our signed CSRF token.

The rule (:func:`check_form_origin`):

* an ``Origin`` naming another site is refused, always;
* a ``null`` or missing ``Origin`` (sandboxed frames, privacy extensions, old browsers) is accepted only with a valid
  CSRF token from one of our pages (``pledges.tokens.new_csrf_token``, the form's hidden ``csrf`` field);
* our own ``Origin`` (``SOCIAL_CAMPAIGN_PUBLIC_URL``'s host, or the request's ``Host``) is accepted.

RFC 8058 one-click unsubscribe POSTs come from mail providers with no ``Origin`` and no token (the token in the URL is
the credential): their route calls :func:`refuse_foreign_origin` alone.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from social_campaign.errors import BadRequest, PayloadTooLarge
from social_campaign.i18n import N_, _
from social_campaign.pledges import tokens
from social_campaign.web import deps

FOREIGN = N_("This form was sent from another site. Please use the form on our page.")
MAX_SMALL_FORM = 4 * 1024
NO_ORIGIN = N_("This form has expired or did not come from our page. Please reload the page and try again.")


def refuse_foreign_origin(request: Request) -> None:
    """Refuse a POST whose ``Origin`` header names another site (absent or ``null`` passes here)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return
    allowed = {urlsplit(deps.services(request).settings.public_url).netloc, request.headers.get("host", "")}
    if urlsplit(origin).netloc not in allowed - {""}:
        raise BadRequest(_(FOREIGN))


def check_form_origin(request: Request, csrf_token_valid: bool) -> None:
    """The whole rule for a POST form: foreign ``Origin`` refused; ``null``/missing ``Origin`` refused unless the form
    carried a valid CSRF token (``csrf_token_valid``, see :func:`token_ok`). Raises :class:`BadRequest` (400)."""
    refuse_foreign_origin(request)
    origin = request.headers.get("origin")
    if (not origin or origin == "null") and not csrf_token_valid:
        raise BadRequest(_(NO_ORIGIN))


def token_ok(request: Request, token: str | None) -> bool:
    """True when ``token`` (a form's ``csrf`` field) was signed by this service and has not expired."""
    return tokens.csrf_ok(deps.services(request).settings.key, token)


def new_token(request: Request) -> str:
    """A fresh CSRF token for a form on a page being rendered."""
    return tokens.new_csrf_token(deps.services(request).settings.key)


async def small_form(request: Request) -> dict[str, str]:
    """The fields of a one-button form or a one-click unsubscribe POST (a few short fields, no files); a body that is
    not a form counts as empty. Raises :class:`PayloadTooLarge` over :data:`MAX_SMALL_FORM` bytes."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {}
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_SMALL_FORM):
        raise PayloadTooLarge(_("This form is larger than %(size)s KB.") % {"size": MAX_SMALL_FORM // 1024})
    form = await request.form(max_files=0, max_fields=10, max_part_size=MAX_SMALL_FORM)
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def checked_form(request: Request) -> dict[str, str]:
    """The fields of a small form our page posted: :func:`small_form`, then :func:`check_form_origin` on its token."""
    fields = await small_form(request)
    check_form_origin(request, token_ok(request, fields.get("csrf")))
    return fields
