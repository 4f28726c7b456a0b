"""Safe decoding of untrusted photos: a short list of formats, hard limits, orientation applied, metadata gone.

:func:`open_photo` is the only way the package turns uploaded or command-line bytes into pixels:

- accepted: JPEG (CMYK and progressive too), PNG (palette, 16-bit, transparency), WebP, GIF (first frame), BMP, TIFF;
  the format is sniffed from the file's first bytes (never from its name) and only that decoder is tried;
- refused with one :class:`ImageError` line naming the file: empty, text, SVG, unknown formats, broken or truncated
  files, files over :data:`MAX_BYTES`, and images over :data:`MAX_PIXELS` — the dimensions are read from the header
  and checked *before* any pixel is decoded, so a decompression bomb costs no memory;
- memory is bounded in bytes, not pixels (``graphics.memory``): what the decode will cost is computed from the header
  and must fit :data:`~social_campaign.graphics.memory.MAX_DECODE_BYTES` — a JPEG is decoded in draft mode (DCT
  scaling) at the smallest scale still at least ``target`` on the short side, or smaller still to fit; other formats
  over the budget are refused with one line; the result is box-reduced and converted strip by strip (never a
  full-size copy); every decode holds a slot of the process' decode gate;
- the EXIF orientation is applied and every piece of metadata (EXIF with GPS, ICC, XMP, comments) is dropped: the
  result is a fresh ``RGB`` or ``RGBA`` image with an empty ``info``.
"""

from __future__ import annotations

import io
import os
import re
import struct
import warnings
from pathlib import Path

from PIL import Image, ImageFile, UnidentifiedImageError

from social_campaign.errors import ImageError
from social_campaign.graphics.memory import (
    GATE,
    MAX_DECODE_BYTES,
    TRIM_ABOVE,
    ModeError,
    decode_cost,
    jpeg_coefficients,
    output_cost,
    pixel_bytes,
    standardise,
)

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
ACCEPTED = "JPEG, PNG, WebP, GIF, BMP or TIFF"

#: First bytes -> the Pillow decoders allowed for them.
_MAGIC: tuple[tuple[bytes, int, tuple[str, ...]], ...] = (
    (b"\xff\xd8\xff", 0, ("JPEG", "MPO")),
    (b"\x89PNG\r\n\x1a\n", 0, ("PNG",)),
    (b"GIF87a", 0, ("GIF",)),
    (b"GIF89a", 0, ("GIF",)),
    (b"WEBP", 8, ("WEBP",)),
    (b"BM", 0, ("BMP",)),
    (b"II*\x00", 0, ("TIFF",)),
    (b"MM\x00*", 0, ("TIFF",)),
)
_LABEL = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "GIF": "GIF", "WEBP": "WebP", "BMP": "BMP", "TIFF": "TIFF"}


def sniff(data: bytes, name: str) -> tuple[str, ...]:
    """The decoders allowed for ``data``, or :class:`ImageError` saying what the bytes are instead."""
    if not data:
        raise ImageError(f"{name}: empty file (expected a {ACCEPTED} image)")
    for magic, offset, formats in _MAGIC:
        if data[offset : offset + len(magic)] == magic and (magic != b"WEBP" or data[:4] == b"RIFF"):
            return formats
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        raise ImageError(f"{name}: SVG is not supported (vector image); export it as PNG")
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        raise ImageError(f"{name}: not a supported image (expected {ACCEPTED})") from None
    raise ImageError(f"{name}: not an image, the file is text (expected {ACCEPTED})")


def read_limited(path: str | os.PathLike[str], *, name: str | None = None, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of ``path``, refusing a missing, unreadable or too large file with one line."""
    label = name or str(path)
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            raise ImageError(f"{label}: file is {size / 1048576:.1f} MB; the limit is {max_bytes // 1048576} MB")
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise ImageError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{label}: is a folder, not an image") from None
    except OSError as exc:
        raise ImageError(f"{label}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise ImageError(f"{label}: file is over the {max_bytes // 1048576} MB limit")
    return data


def open_photo(data: bytes | str | os.PathLike[str], *, name: str, target: int | None = None) -> Image.Image:
    """Decode an untrusted photo into a clean, upright ``RGB``/``RGBA`` image (see the module docstring).

    ``target``: the smallest short side the caller needs; the decoder may scale down to it (never below) to save
    time and memory. ``None`` decodes at full size. Raises :class:`ImageError` (``"<name>: <what is wrong>"``).
    """
    pixels, orientation = decode_photo(data, name=name, target=target)
    return upright(pixels, orientation)


def upright(im: Image.Image, orientation: int) -> Image.Image:
    """``im`` turned/mirrored as EXIF ``orientation`` (1..8) says, as a new image without metadata."""
    method = TRANSPOSE.get(orientation)
    out = im.transpose(method) if method is not None else im
    if isinstance(out, ImageFile.ImageFile):
        out = out.copy()  # a plain image, detached from the decoder (and its cached EXIF)
    out.info = {}
    return out


#: EXIF orientation -> the transposition that makes the stored pixels upright.
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def decode_photo(
    data: bytes | str | os.PathLike[str], *, name: str, target: int | None = None
) -> tuple[Image.Image, int]:
    """The stored pixels (``RGB``/``RGBA``, ``info`` emptied, *not* yet turned) and the EXIF orientation (1..8).

    The image may still be the decoder's object (it is not copied); use it as a source to resize, not as output.

    For callers that resize first and turn the small result (cheaper): the badge. Same checks as :func:`open_photo`.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        data = read_limited(Path(data), name=name)
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise ImageError(f"{name}: file is {len(data) / 1048576:.1f} MB; the limit is {MAX_BYTES // 1048576} MB")
    formats = sniff(data, name)
    label = _LABEL[formats[0]]
    try:
        with warnings.catch_warnings(), GATE.slot():  # the slot ends after _decode's full-size pixels are freed
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _decode(data, formats, name, target)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = f" ({int(found.group(1)) / 1e6:.0f} megapixels)" if found else ""
        raise ImageError(
            f"{name}: image is too large{pixels}; the limit is {MAX_PIXELS // 1_000_000} megapixels"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not a valid {label} image") from None
    except ModeError as exc:
        raise ImageError(f"{name}: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, TypeError) as exc:
        raise ImageError(f"{name}: broken or truncated {label} image ({_first_line(exc)})") from None
    except MemoryError:
        raise ImageError(f"{name}: image is too large to decode") from None


def _decode(data: bytes, formats: tuple[str, ...], name: str, target: int | None) -> tuple[Image.Image, int]:
    im = Image.open(io.BytesIO(data), formats=list(formats))  # reads the header only
    _check_size(im.size, name)
    factor = _plan(im, name, target, len(data))
    im.load()
    return _clean(im, factor)


def _plan(im: Image.Image, name: str, target: int | None, encoded: int) -> int:
    """Fit the decode into :data:`MAX_DECODE_BYTES` before any pixel is decoded; the reduce factor to apply after.

    A JPEG is decoded at 1/2, 1/4 or 1/8 scale (draft) when ``target`` allows it, and at a smaller scale still when
    its full size would not fit the budget (an extreme zoom then gets fewer pixels, never more memory). Other formats
    cannot decode at a smaller scale: over the budget they are refused with one line.
    """
    w, h = im.size
    coefficients = 0
    if im.format in ("JPEG", "MPO"):
        coefficients = jpeg_coefficients(im)
        scale = next((m for m in (8, 4, 2) if target and min(w, h) // m >= target), 1)
        per_pixel = pixel_bytes(im.mode)
        while scale < 8 and coefficients + -(-w // scale) * -(-h // scale) * per_pixel > MAX_DECODE_BYTES:
            scale *= 2
        if scale > 1:
            im.draft("RGB", (max(1, w // scale), max(1, h // scale)))  # DCT scaling: decoded at 1/scale
    factor = max(1, min(im.size) // target) if target else 1
    cost = decode_cost(im, coefficients, encoded) + output_cost(im.size, im.mode, factor)
    if cost > MAX_DECODE_BYTES:
        raise ImageError(
            f"{name}: the image is too large to process ({w}x{h} pixels needs {cost / 1048576:.0f} MB to decode; "
            f"the limit is {MAX_DECODE_BYTES // 1048576} MB); please use a smaller photo"
        )
    if cost > TRIM_ABOVE:
        GATE.mark_large()
    return factor


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:120] if text else type(exc).__name__


def _check_size(size: tuple[int, int], name: str) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise ImageError(f"{name}: image has no pixels ({w}x{h})")
    if w * h > MAX_PIXELS:
        raise ImageError(
            f"{name}: image is {w}x{h} ({w * h / 1e6:.0f} megapixels); the limit is {MAX_PIXELS // 1_000_000} megapixels"
        )


def _clean(im: Image.Image, factor: int) -> tuple[Image.Image, int]:
    """Read the orientation, reduce and normalise the mode in strips, drop the metadata (pixels stay as stored)."""
    orientation = im.getexif().get(0x0112, 1)
    if not isinstance(orientation, int) or orientation not in range(1, 9):
        orientation = 1
    im = standardise(im, factor)  # box filter by ``factor``: keeps the short side >= target
    im.info = {}  # drop every metadata key (EXIF with GPS, ICC, XMP, comments)
    return im, orientation
