"""A multipart form read into memory from the request stream (the badge maker's photo upload).

Starlette's own form parser spools uploads over 1 MB to a temporary file; a supporter's photo must never touch the
disk, so the body is parsed here, as it arrives, into ``bytes``: at most :data:`MAX_BODY` (413 beyond, checked against
``Content-Length`` first and again while reading), only the named fields, malformed bodies a 400.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from social_campaign.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from social_campaign.graphics.images import MAX_BYTES
from social_campaign.i18n import N_, _

MAX_BODY = MAX_BYTES + 64 * 1024  # the photo plus the multipart framing and the small fields
TOO_BIG = N_("The file is over the %(size)s MB limit.")


async def read_form(request: Request, fields: tuple[str, ...]) -> dict[str, bytes]:
    """The multipart ``fields`` (others are skipped) as bytes, parsed from the stream in memory, at most 20 MB."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UnsupportedMediaType(_("Please send the photo from the form on our page."), field="photo")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge(_(TOO_BIG) % {"size": MAX_BYTES // (1024 * 1024)}, field="photo")
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
        state["name"] = name if name in fields and name not in parts else None
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
                raise PayloadTooLarge(_(TOO_BIG) % {"size": MAX_BYTES // (1024 * 1024)}, field="photo")
            parser.write(chunk)
        parser.finalize()
    except PayloadTooLarge:
        raise
    except FormParserError:  # a malformed body
        raise BadRequest(_("The form data could not be read. Please try again from our page.")) from None
    if len(parts.get("photo", b"")) > MAX_BYTES:
        raise PayloadTooLarge(_(TOO_BIG) % {"size": MAX_BYTES // (1024 * 1024)}, field="photo")
    return {name: bytes(value) for name, value in parts.items()}
