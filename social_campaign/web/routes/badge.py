"""The badge maker: ``GET /c/{slug}/badge`` (page), ``POST /c/{slug}/badge`` (photo in, PNG out), the frame image.

The photo never leaves memory: the multipart body is parsed from the request stream into ``bytes`` (``web.upload``;
Starlette's own form parser would spool uploads over 1 MB to a temporary file), decoded by
``graphics.images.decode_photo`` within the memory budget of ``graphics.memory`` (EXIF orientation applied, all
metadata dropped) and answered with ``Cache-Control: no-store``. Nothing about the photo is
written to disk, the database or the logs. Errors are one translated sentence: 413 over 20 MB, 415 for what is not
a supported image, 400 for a broken one, one too large to decode within the memory budget, or a bad crop. A browser
gets the badge page again with the error at its field (``photo-error`` next to the drop zone, the input marked
``aria-invalid``) and the same status; a JSON client gets ``{"error": …}``. The PNG is an attachment named after the
campaign and the size (``<slug>-badge-<size>.png``).

The form carries the same signed CSRF token as the pledge form (``pledges.tokens``) and a post from another site's
Origin is refused (400), before the body is read. Decoding holds one of the process' N decode slots
(``graphics.memory.GATE``): a request waits up to ``IMAGE_DECODE_WAIT_SECONDS`` for one, then gets a 503 with
``Retry-After``; so does a request that finds 4 x N photos already in memory (before its own body is read).

Unique badge makers are counted (:class:`BadgeMaker`: a keyed hash of the client IP alone, no photo: headers such as
the User-Agent cannot raise the count); :func:`badge_maker_count` gives the number for the campaign page.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from social_campaign.campaign.model import BadgeSpec, Campaign
from social_campaign.crypto import keyed_hash
from social_campaign.db import session_scope
from social_campaign.errors import BadRequest, ImageError, NotFound, PayloadTooLarge, UnsupportedMediaType, WebError
from social_campaign.graphics.badge import decode_target, encode_png, load_overlay, make_badge, prepare_overlay
from social_campaign.graphics.images import MAX_BYTES, decode_photo, sniff
from social_campaign.graphics.memory import GATE
from social_campaign.i18n import _
from social_campaign.models import BadgeMaker
from social_campaign.pledges import tokens
from social_campaign.web import deps
from social_campaign.web.upload import read_form

router = APIRouter()
FIELDS = ("photo", "x", "y", "scale", "size", "csrf")
ADMIT_PER_SLOT = 4  # photos in memory per decode slot (one decoding, three waiting); one more gets a 503 at once
RETRY_AFTER = 5


def badge_maker_count(session: Session, campaign: str) -> int:
    """How many different people (client IPs, hashed) made a badge for ``campaign``."""
    return int(session.exec(select(func.count()).select_from(BadgeMaker).where(BadgeMaker.campaign == campaign)).one())


def _spec(campaign: Campaign) -> BadgeSpec:
    if campaign.badge is None:
        raise NotFound(_("This campaign has no profile badge."))
    return campaign.badge


@lru_cache(maxsize=8)
def _overlay(path: Path, mtime_ns: int, size: int) -> Any:
    return prepare_overlay(load_overlay(path), size)


@router.get("/c/{slug}/badge")
def badge_page(request: Request, slug: str) -> Response:
    campaign = deps.campaign(request, slug)
    return _page(request, campaign, _spec(campaign))


def _page(request: Request, campaign: Campaign, spec: BadgeSpec, error: WebError | None = None) -> Response:
    """The badge maker; after a refused photo, the same page with the error at its field and the error's status."""
    csrf = tokens.new_csrf_token(deps.services(request).settings.key)
    context = {
        "campaign": campaign, "spec": spec, "max_mb": MAX_BYTES // (1024 * 1024), "csrf": csrf,
        "error": str(error) if error else None, "error_field": error.field if error else None,
    }
    response: Response = deps.render(request, "badge.html", context, status_code=error.status if error else 200)
    response.headers["Cache-Control"] = "no-store"  # the form's token is fresh on every load
    return response


@router.get("/c/{slug}/badge/frame.png")
def badge_frame(request: Request, slug: str) -> Response:
    spec = _spec(deps.campaign(request, slug))
    return FileResponse(spec.overlay, media_type="image/png", headers={"Cache-Control": "public, max-age=300"})


@router.post("/c/{slug}/badge")
async def make(request: Request, slug: str) -> Response:
    campaign = deps.campaign(request, slug)
    spec = _spec(campaign)
    svc = deps.services(request)
    _check_origin(request)
    GATE.configure(svc.settings.image_decode_concurrency or None)
    if _admitted.photos >= GATE.limit * ADMIT_PER_SLOT:  # before the body is read: a refused photo costs nothing
        return _busy(request)
    _admitted.photos += 1
    try:
        return await _make(request, campaign, spec, svc.settings.key, svc.settings.image_decode_wait_seconds)
    except WebError as exc:
        from social_campaign.web.app import wants_json  # the app imports this module: resolved at call time

        if wants_json(request) or exc.field is None:
            raise
        return _page(request, campaign, spec, exc)
    finally:
        _admitted.photos -= 1


class _Admitted:
    photos = 0  # badge requests of this process holding a photo in memory (reading, waiting for a slot, decoding)


_admitted = _Admitted()


async def _make(request: Request, campaign: Campaign, spec: BadgeSpec, key: bytes, wait: float) -> Response:
    try:
        fields = await read_form(request, FIELDS)
    except PayloadTooLarge:
        raise PayloadTooLarge(_too_big(), field="photo") from None
    if not tokens.csrf_ok(key, fields.get("csrf", b"").decode("ascii", "replace")):
        raise BadRequest(_("This form has expired or did not come from the badge page. Please choose your photo "
                           "again."), field="form")
    photo = fields.get("photo")
    if photo is None:
        raise BadRequest(_("Please choose a photo."), field="photo")
    crop = _crop(fields)
    size = _size(fields, spec)
    if not photo:
        raise BadRequest(_("This file is empty. Please choose a photo."), field="photo")
    try:
        sniff(photo, "photo")
    except ImageError as exc:
        if "SVG" in str(exc):
            raise UnsupportedMediaType(_("SVG drawings cannot be used. Please choose a photo, or export the drawing "
                                         "as a PNG image."), field="photo") from None
        raise UnsupportedMediaType(_("This file is not an image we can use. Please choose a JPEG, PNG, WebP, GIF, "
                                     "BMP or TIFF photo."), field="photo") from None
    overlay_path = spec.overlay
    overlay = _overlay(overlay_path, overlay_path.stat().st_mtime_ns, size)

    def render() -> bytes | None:
        with GATE.slot(timeout=wait) as free:
            if not free:
                return None
            image, orientation = decode_photo(photo, name="photo", target=decode_target(size, crop))
            return encode_png(make_badge(image, overlay, size, spec.shape, crop, orientation=orientation))

    try:
        png = await run_in_threadpool(render)
    except ImageError as exc:
        if "too large" in str(exc) or "megapixels" in str(exc):
            raise BadRequest(_("This photo is too large to process. Please choose a smaller one."),
                             field="photo") from None
        raise BadRequest(_("This photo could not be read: the file may be damaged. Please try another one."),
                         field="photo") from None
    if png is None:
        return _busy(request)
    await run_in_threadpool(_count_maker, request, campaign.slug)
    return Response(
        png,
        media_type="image/png",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{campaign.slug}-badge-{size}.png"',
        },
    )


def _too_big() -> str:
    return _("This photo is over the %(mb)s MB limit. Please choose a smaller one.") % {"mb": MAX_BYTES // (1024 * 1024)}


def _check_origin(request: Request) -> None:
    """Refuse a post whose browser-sent Origin is another site (a missing or ``null`` Origin still needs the token)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return
    allowed = {urlsplit(deps.services(request).settings.public_url).netloc, request.headers.get("host", "")}
    if urlsplit(origin).netloc not in allowed:
        raise BadRequest(_("This form was sent from another site. Please use the badge maker on the campaign's site."))


def _busy(request: Request) -> Response:
    """503 with ``Retry-After``: every decode slot is taken and the wait would be too long."""
    from social_campaign.web.app import error_response  # the app imports this module: resolved at call time

    message = _("Many badges are being made right now. Please try again in a few seconds.")
    response = error_response(request, 503, message)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def _count_maker(request: Request, slug: str) -> None:
    """Count the client once per campaign: a keyed hash of its IP (``deps.client_ip``) and nothing a client sends."""
    svc = deps.services(request)
    maker = keyed_hash(svc.settings.key, deps.client_ip(request, svc.settings), purpose="badge")
    with svc.write_lock:
        try:
            with session_scope(svc.engine) as session:
                seen = session.exec(
                    select(BadgeMaker.id).where(BadgeMaker.campaign == slug, BadgeMaker.maker_hash == maker)
                ).first()
                if seen is None:
                    session.add(BadgeMaker(campaign=slug, maker_hash=maker))
        except IntegrityError:
            pass  # the same maker in a concurrent request: counted once


def _number(fields: dict[str, bytes], name: str, default: float, low: float, high: float) -> float:
    raw = fields.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(_bad_crop()) from None
    if not low <= value <= high:
        raise BadRequest(_bad_crop())
    return value


def _bad_crop() -> str:
    return _("The photo's position or zoom is not valid. Please reload the page and try again.")


def _crop(fields: dict[str, bytes]) -> tuple[float, float, float]:
    return (_number(fields, "x", 0.5, 0, 1), _number(fields, "y", 0.5, 0, 1), _number(fields, "scale", 1, 1, 20))


def _size(fields: dict[str, bytes], spec: BadgeSpec) -> int:
    allowed = sorted({spec.size, spec.download_size})
    raw = fields.get("size")
    if raw is None or not raw.strip():
        return spec.size
    if raw.strip().decode("ascii", "replace") not in {str(a) for a in allowed}:
        raise BadRequest(_("Please choose one of the sizes offered."), field="size")
    return int(raw)
