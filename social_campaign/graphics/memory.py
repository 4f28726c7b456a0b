"""Bounded image memory: what a decode will cost (from the header alone), at most N decodes at once, memory handed back.

- :func:`decode_cost` is the bytes the decoder will hold for an opened (header-only) image: width x height x the bytes
  per pixel Pillow stores for its mode (bands x band depth; RGB is padded to 4), plus what the format's decoder keeps
  besides: a progressive JPEG holds every DCT coefficient of the full-size image (2 bytes each, whatever the draft
  scale), and Pillow's WebP decoder (libwebp's animation decoder) keeps two RGBA canvases and hands over a third copy
  (measured: 16 bytes per pixel in all). :data:`MAX_DECODE_BYTES` is the budget a decode may use, so that a badge
  request stays under 150 MB of peak RSS whatever the photo (docs/PERFORMANCE.md has the figures).
- :data:`GATE` lets at most N decodes run at once in this process (N = the CPU cores unless configured); a thread that
  already holds a slot may decode again without a second one.
- :func:`release_memory` gives freed heap pages back to the system after a large decode (glibc's ``malloc_trim``): the
  decoder's buffers are freed into per-thread malloc arenas that otherwise keep them mapped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import cast

from PIL import Image

MAX_DECODE_BYTES = 48 * 1024 * 1024
TRIM_ABOVE = 16 * 1024 * 1024  # decodes larger than this hand their memory back when they finish

_ONE_BYTE = frozenset({"1", "L", "P"})
_TWO_BYTES = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
_WEBP_EXTRA = 12  # bytes per pixel beyond Pillow's own 4: libwebp's two canvases and the frame copy


def pixel_bytes(mode: str) -> int:
    """Bytes per pixel of a Pillow image in ``mode`` (RGB and every 3- or 4-band mode take 4)."""
    if mode in _ONE_BYTE:
        return 1
    if mode in _TWO_BYTES:
        return 2
    return 4


def jpeg_coefficients(im: Image.Image) -> int:
    """Bytes of DCT coefficients libjpeg keeps for a progressive (multi-scan) JPEG at its full size; 0 for baseline."""
    if not im.info.get("progressive") and not im.info.get("progression"):
        return 0
    layers = getattr(im, "layer", None) or [("", 1, 1, 0)] * len(im.getbands())
    h_max = max(layer[1] for layer in layers)
    v_max = max(layer[2] for layer in layers)
    w, h = im.size
    total = 0
    for _, hs, vs, _ in layers:
        total += _ceil(_ceil(w * hs, h_max), 8) * _ceil(_ceil(h * vs, v_max), 8) * 64 * 2
    return total


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def decode_cost(im: Image.Image, coefficients: int = 0, encoded: int = 0) -> int:
    """Bytes the decoder will hold for the opened image ``im`` (after any draft), from the header alone.

    ``encoded``: the size of the file; a compressed TIFF goes through libtiff, which Pillow hands a copy of the file
    and which decodes a whole strip (or tile) into a buffer of its own before unpacking it.
    """
    w, h = im.size
    per_pixel = pixel_bytes(im.mode) + (_WEBP_EXTRA if im.format == "WEBP" else 0)
    cost = w * h * per_pixel + coefficients
    if im.format == "TIFF" and getattr(im, "_compression", "raw") != "raw":
        tags = getattr(im, "tag_v2", {})
        tile_w, tile_h = tags.get(322), tags.get(323)
        strip = tile_w * tile_h if tile_w and tile_h else w * min(h, int(tags.get(278, h) or h))
        cost += encoded + strip * 4
    return cost


class ModeError(Exception):
    """A decoded image in a colour mode we cannot convert (``graphics.images`` turns it into an ``ImageError``)."""


def output_cost(size: tuple[int, int], mode: str, factor: int) -> int:
    """Bytes of the converted (and reduced) copy :func:`standardise` makes; 0 when it can use the image as it is."""
    if factor < 2 and mode in ("RGB", "RGBA"):
        return 0
    f = max(1, factor)
    working = {"RGB": 1, "RGBA": 2}.get(mode, 4) * STRIP_BYTES  # a strip's copies: crop (premultiplied, converted)
    return _ceil(size[0], f) * _ceil(size[1], f) * 4 + working


def standardise(im: Image.Image, factor: int) -> Image.Image:
    """``im`` as ``RGB``/``RGBA``, box-reduced by ``factor``, converted strip by strip: no full-size copy is ever made
    (a whole-image ``convert`` or ``reduce`` would hold the decoded pixels twice or three times)."""
    factor = max(1, factor)
    if im.mode in ("RGB", "RGBA") and factor == 1:
        return im
    out_mode = _standard_mode(im)
    top_value = _top_value(im)
    w, h = im.size
    out = Image.new(out_mode, (_ceil(w, factor), _ceil(h, factor)))
    rows = max(factor, STRIP_BYTES // max(1, w * 4) // factor * factor)
    for top in range(0, h, rows):
        strip = _convert(im.crop((0, top, w, min(h, top + rows))), out_mode, top_value)
        out.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    return out


STRIP_BYTES = 1024 * 1024


def _standard_mode(im: Image.Image) -> str:
    if im.mode in ("RGB", "RGBA"):
        return im.mode
    return "RGBA" if im.mode in ("RGBA", "LA", "La", "PA", "RGBa") or "transparency" in im.info else "RGB"


def _top_value(im: Image.Image) -> float:
    """The value that maps to white for integer modes (16-bit: 65535; 32-bit: the image's own maximum)."""
    if im.mode.startswith("I;16"):
        return 65535.0
    if im.mode == "I":
        extrema = im.getextrema()
        return max(1.0, float(extrema[1])) if isinstance(extrema[1], int | float) else 255.0
    return 255.0


def _convert(strip: Image.Image, mode: str, top_value: float) -> Image.Image:
    """Any decoded mode -> ``mode`` (16-bit scaled, palettes and transparency kept as alpha)."""
    if strip.mode == mode:
        return strip
    if strip.mode.startswith("I;16") or strip.mode == "I":
        strip = strip.convert("I") if strip.mode != "I" else strip
        return strip.point(lambda v: v * (255.0 / top_value)).convert("L").convert(mode)
    if strip.mode == "F":
        return strip.convert("L").convert(mode)
    try:
        return strip.convert(mode)  # CMYK (Adobe-inverted too), P, L, LA, YCbCr, 1 …
    except ValueError:
        raise ModeError(f"unsupported colour mode {strip.mode}") from None


class DecodeGate:
    """At most ``limit`` decodes at once. Re-entrant per thread. Counts what it let through (for tests and logs)."""

    def __init__(self, limit: int) -> None:
        self._cond = threading.Condition()
        self._held = threading.local()
        self.limit = max(1, limit)
        self.in_flight = 0
        self.waiting = 0
        self.peak = 0  # the most decodes that ever ran at once
        self.entered = 0  # slots handed out
        self.trims = 0

    def configure(self, limit: int | None) -> None:
        """Set N (``None``: one per CPU core). Waiters re-check at once."""
        limit = max(1, limit or default_concurrency())
        if limit == self.limit:
            return
        with self._cond:
            self.limit = limit
            self._cond.notify_all()

    def reset_counts(self) -> None:
        with self._cond:
            self.peak, self.entered, self.trims = self.in_flight, 0, 0

    def holding(self) -> bool:
        return bool(getattr(self._held, "depth", 0))

    def mark_large(self) -> None:
        """The current slot's decode was large: hand memory back when the slot ends."""
        self._held.large = True

    @contextmanager
    def slot(self, timeout: float | None = None) -> Iterator[bool]:
        """Hold a decode slot; yields ``False`` (and holds nothing) when none came free within ``timeout`` seconds."""
        if self.holding():
            self._held.depth += 1
            try:
                yield True
            finally:
                self._held.depth -= 1
            return
        with self._cond:
            if self.in_flight >= self.limit:
                self.waiting += 1
                try:
                    free = self._cond.wait_for(lambda: self.in_flight < self.limit, timeout)
                finally:
                    self.waiting -= 1
                if not free:
                    yield False
                    return
            self.in_flight += 1
            self.entered += 1
            self.peak = max(self.peak, self.in_flight)
        self._held.depth, self._held.large = 1, False
        try:
            yield True
        finally:
            self._held.depth = 0
            with self._cond:
                self.in_flight -= 1
                self._cond.notify()
            if self._held.large:
                self._held.large = False
                if release_memory():
                    with self._cond:
                        self.trims += 1


def default_concurrency() -> int:
    return max(1, os.cpu_count() or 1)


GATE = DecodeGate(default_concurrency())


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        trim = libc.malloc_trim  # glibc only (musl and macOS have none)
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return cast(Callable[[int], int], trim)


def release_memory() -> bool:
    """Return freed heap pages of every malloc arena to the system (glibc); ``False`` where there is no such call."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
