"""The badge maker: ``GET /c/{slug}/badge`` (page), ``POST /c/{slug}/badge`` (photo in, PNG out), the frame image.

The photo never leaves memory: the multipart body is parsed here from the request stream into ``bytes`` (Starlette's
own form parser would spool uploads over 1 MB to a temporary file), decoded by ``graphics.images.open_photo`` (EXIF
orientation applied, all metadata dropped) and answered with ``Cache-Control: no-store``. Nothing about the photo is
written to disk, the database or the logs. Errors are one line: 413 over 20 MB, 415 for what is not a supported
image, 400 for a broken one or a bad crop.

Unique badge makers are counted (:class:`BadgeMaker`: a keyed hash of client IP and user agent, no photo);
:func:`badge_maker_count` gives the number for the campaign page.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from social_campaign.campaign.model import BadgeSpec, Campaign
from social_campaign.crypto import keyed_hash
from social_campaign.db import session_scope
from social_campaign.errors import (
    BadRequest,
    ImageError,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from social_campaign.graphics.badge import (
    decode_target,
    encode_png,
    load_overlay,
    make_badge,
    prepare_overlay,
)
from social_campaign.graphics.images import MAX_BYTES, decode_photo, sniff
from social_campaign.models import BadgeMaker
from social_campaign.web import deps

router = APIRouter()
FIELDS = ("photo", "x", "y", "scale", "size")
MAX_BODY = MAX_BYTES + 64 * 1024  # the photo plus the multipart framing and the small fields
TOO_BIG = f"photo: the file is over the {MAX_BYTES // (1024 * 1024)} MB limit"


def badge_maker_count(session: Session, campaign: str) -> int:
    """How many different people (IP + user agent, hashed) made a badge for ``campaign``."""
    return int(session.exec(select(func.count()).select_from(BadgeMaker).where(BadgeMaker.campaign == campaign)).one())


def _spec(campaign: Campaign) -> BadgeSpec:
    if campaign.badge is None:
        raise NotFound("this campaign has no badge")
    return campaign.badge


@lru_cache(maxsize=8)
def _overlay(path: Path, mtime_ns: int, size: int) -> Any:
    return prepare_overlay(load_overlay(path), size)


@router.get("/c/{slug}/badge")
def badge_page(request: Request, slug: str) -> Response:
    campaign = deps.campaign(request, slug)
    spec = _spec(campaign)
    context = {"campaign": campaign, "spec": spec, "max_mb": MAX_BYTES // (1024 * 1024)}
    return deps.render(request, "badge.html", context)  # type: ignore[no-any-return]


@router.get("/c/{slug}/badge/frame.png")
def badge_frame(request: Request, slug: str) -> Response:
    spec = _spec(deps.campaign(request, slug))
    return FileResponse(spec.overlay, media_type="image/png", headers={"Cache-Control": "public, max-age=300"})


@router.post("/c/{slug}/badge")
async def make(request: Request, slug: str) -> Response:
    campaign = deps.campaign(request, slug)
    spec = _spec(campaign)
    fields = await read_form(request)
    photo = fields.get("photo")
    if photo is None:
        raise BadRequest("photo: choose a photo (multipart field 'photo')")
    crop = _crop(fields)
    size = _size(fields, spec)
    if not photo:
        raise BadRequest("photo: the file is empty")
    try:
        sniff(photo, "photo")
    except ImageError as exc:
        raise UnsupportedMediaType(str(exc)) from None
    overlay_path = spec.overlay
    overlay = _overlay(overlay_path, overlay_path.stat().st_mtime_ns, size)

    def render() -> bytes:
        image, orientation = decode_photo(photo, name="photo", target=decode_target(size, crop))
        return encode_png(make_badge(image, overlay, size, spec.shape, crop, orientation=orientation))

    try:
        png = await run_in_threadpool(render)
    except ImageError as exc:
        raise BadRequest(str(exc)) from None
    await run_in_threadpool(_count_maker, request, campaign.slug)
    return Response(
        png,
        media_type="image/png",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{campaign.slug}-badge.png"',
        },
    )


def _count_maker(request: Request, slug: str) -> None:
    svc = deps.services(request)
    ip = deps.client_ip(request, svc.settings)
    agent = request.headers.get("user-agent", "")[:500]
    maker = keyed_hash(svc.settings.key, f"{ip}\0{agent}", purpose="badge")
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
        raise BadRequest(f"{name}: must be a number between {low:g} and {high:g}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name}: must be a number between {low:g} and {high:g}")
    return value


def _crop(fields: dict[str, bytes]) -> tuple[float, float, float]:
    return (_number(fields, "x", 0.5, 0, 1), _number(fields, "y", 0.5, 0, 1), _number(fields, "scale", 1, 1, 20))


def _size(fields: dict[str, bytes], spec: BadgeSpec) -> int:
    allowed = sorted({spec.size, spec.download_size})
    raw = fields.get("size")
    if raw is None or not raw.strip():
        return spec.size
    if raw.strip().decode("ascii", "replace") not in {str(a) for a in allowed}:
        raise BadRequest(f"size: must be one of {', '.join(str(a) for a in allowed)}")
    return int(raw)


async def read_form(request: Request) -> dict[str, bytes]:
    """The multipart fields (:data:`FIELDS` only) as bytes, parsed from the stream in memory, at most 20 MB."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UnsupportedMediaType("send the photo as multipart/form-data with a field named 'photo'")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge(TOO_BIG)
    parts: dict[str, bytearray] = {}
    state: dict[str, Any] = {"name": None, "header": b"", "value": b"", "headers": {}}

    def on_part_begin() -> None:
        state["headers"] = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["header"].lower()] = state["value"]
        state["header"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        state["name"] = name if name in FIELDS and name not in parts else None
        if state["name"] is not None:
            parts[name] = bytearray()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["name"] is not None:
            parts[state["name"]] += data[start:end]

    callbacks: Any = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
    }
    parser = MultipartParser(boundary, callbacks)
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > MAX_BODY:
                raise PayloadTooLarge(TOO_BIG)
            parser.write(chunk)
        parser.finalize()
    except PayloadTooLarge:
        raise
    except FormParserError as exc:  # a malformed body
        raise BadRequest(f"the form data is malformed ({type(exc).__name__})") from None
    if len(parts.get("photo", b"")) > MAX_BYTES:
        raise PayloadTooLarge(TOO_BIG)
    return {name: bytes(value) for name, value in parts.items()}
