"""A supporter's photo under the campaign's frame: the profile-picture badge (as Twibbon did).

Crop semantics (``crop=(x, y, scale)``): ``x`` and ``y`` are the centre of the crop as fractions (0..1) of the upright
photo's width and height; ``scale`` ≥ 1 zooms in (1 = the largest square that fits, 2 = half its side). The square is
moved back inside the photo when it would cross an edge. ``None`` is the centre crop ``(0.5, 0.5, 1)``.

Transparent parts of the photo (logos) are laid on white; the frame is composited over the photo; the circle shape
makes everything outside the inscribed circle transparent (anti-aliased edge). The output is always ``RGBA``.
"""

from __future__ import annotations

import io
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw

from social_campaign.errors import ImageError, InputError
from social_campaign.graphics.images import TRANSPOSE

SHAPES = ("circle", "square")
DEFAULT_SIZE = 400
MIN_TRANSPARENT = 0.05

Crop = tuple[float, float, float]


def crop_box(size: tuple[int, int], crop: Crop | None) -> tuple[float, float, float, float]:
    """The square ``(left, top, right, bottom)`` in photo pixels for ``crop`` (see the module docstring)."""
    w, h = size
    x, y, scale = crop if crop is not None else (0.5, 0.5, 1.0)
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise InputError(f"crop centre must be within 0..1, got x={x}, y={y}")
    if not (1.0 <= scale <= 20.0):
        raise InputError(f"crop scale must be between 1 and 20, got {scale}")
    side = min(w, h) / scale
    left = min(max(x * w - side / 2, 0.0), w - side)
    top = min(max(y * h - side / 2, 0.0), h - side)
    return (left, top, left + side, top + side)


def decode_target(size: int, crop: Crop | None) -> int:
    """The short side the photo must keep when decoded for a badge of ``size`` with ``crop`` (draft-mode floor)."""
    scale = crop[2] if crop is not None else 1.0
    return max(1, int(size * min(max(scale, 1.0), 20.0) + 0.999))


@lru_cache(maxsize=8)
def circle_mask(size: int) -> Image.Image:
    """An ``L`` mask, 255 inside the inscribed circle, with an anti-aliased edge (drawn at 4x and reduced)."""
    big = Image.new("L", (size * 4, size * 4), 0)
    ImageDraw.Draw(big).ellipse((0, 0, size * 4 - 1, size * 4 - 1), fill=255)
    return big.reduce(4)


def prepare_overlay(overlay: Image.Image, size: int) -> Image.Image:
    """The frame as ``RGBA`` at ``size``x``size`` (LANCZOS); do it once per batch, not once per photo."""
    overlay = overlay.convert("RGBA") if overlay.mode != "RGBA" else overlay
    if overlay.size != (size, size):
        overlay = overlay.resize((size, size), Image.Resampling.LANCZOS)
    return overlay


def stored_box(box: tuple[float, float, float, float], stored: tuple[int, int], orientation: int) -> tuple[float, ...]:
    """``box`` (in upright coordinates) mapped onto the stored pixels of a photo with EXIF ``orientation``."""
    w, h = stored
    left, top, right, bottom = box
    return {
        1: (left, top, right, bottom),
        2: (w - right, top, w - left, bottom),
        3: (w - right, h - bottom, w - left, h - top),
        4: (left, h - bottom, right, h - top),
        5: (top, left, bottom, right),
        6: (top, h - right, bottom, h - left),
        7: (w - bottom, h - right, w - top, h - left),
        8: (w - bottom, left, w - top, right),
    }[orientation]


def make_badge(
    photo: Image.Image,
    overlay: Image.Image,
    size: int = DEFAULT_SIZE,
    shape: str = "circle",
    crop: Crop | None = None,
    *,
    orientation: int = 1,
) -> Image.Image:
    """The badge: ``photo`` cropped (see module docstring) and resized to ``size``, ``overlay`` on top, ``RGBA``.

    ``orientation``: the EXIF orientation of ``photo`` when it is still as stored (``images.decode_photo``); the crop
    is then taken from the stored pixels and only the small result is turned (cheaper than turning the photo).
    """
    if shape not in SHAPES:
        raise InputError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    if not 16 <= size <= 4096:
        raise InputError(f"badge size must be between 16 and 4096 pixels, got {size}")
    turned = orientation in (5, 6, 7, 8)
    upright_size = (photo.height, photo.width) if turned else photo.size
    box = stored_box(crop_box(upright_size, crop), photo.size, orientation)
    # a clear downscale: an area-averaging filter is within a fraction of a level of LANCZOS and three times as
    # fast (tests/graphics/test_badge.py compares with a full-decode LANCZOS reference); near 1:1 LANCZOS keeps detail
    factor = (box[2] - box[0]) / size
    method = Image.Resampling.BOX if factor >= 1.75 else Image.Resampling.LANCZOS
    base = photo.resize((size, size), method, box=box, reducing_gap=3.0)  # type: ignore[arg-type]
    if orientation in TRANSPOSE:
        base = base.transpose(TRANSPOSE[orientation])
    if base.mode == "RGBA":
        white = Image.new("RGBA", base.size, (255, 255, 255, 255))
        white.alpha_composite(base)
        base = white
    else:
        base = base.convert("RGBA")
    base.info = {}
    base.alpha_composite(prepare_overlay(overlay, size))
    if shape == "circle":
        base.putalpha(circle_mask(size))
    return base


def encode_png(img: Image.Image) -> bytes:
    """PNG bytes, fast (zlib level 1, no optimize pass) and without metadata."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1, optimize=False)
    return buf.getvalue()


def load_overlay(path: Path) -> Image.Image:
    """The frame PNG at ``path`` as ``RGBA``; :class:`ImageError` naming the file when it is not a usable overlay."""
    problems = check_overlay(path, 1)
    if problems:
        raise ImageError(f"{path}: {problems[0]}")
    with Image.open(path, formats=["PNG"]) as im:
        return im.convert("RGBA")


def check_overlay(path: Path, size: int) -> list[str]:
    """What is wrong with ``path`` as a badge overlay for output ``size`` (empty when fine): a PNG with an alpha
    channel, square, at least ``size`` pixels, at least 5% transparent. Messages do not repeat the path."""
    try:
        with Image.open(path, formats=["PNG"]) as im:
            im.load()
            w, h = im.size
            has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
            problems: list[str] = []
            if not has_alpha:
                problems.append(f"overlay must be a PNG with an alpha channel (mode is {im.mode})")
            if w != h:
                problems.append(f"overlay must be square, it is {w}x{h}")
            if min(w, h) < size:
                problems.append(f"overlay is {w}x{h}, smaller than the badge size {size}")
            if has_alpha:
                alpha = im.convert("RGBA").getchannel("A")
                clear = alpha.point(lambda v: 255 if v < 128 else 0).histogram()[255] / (w * h)
                if clear < MIN_TRANSPARENT:
                    problems.append(f"overlay is only {clear:.1%} transparent; at least 5% must be, so the photo shows")
            return problems
    except FileNotFoundError:
        return ["overlay not found"]
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return [f"overlay is not a readable PNG ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"]


@dataclass(frozen=True)
class BadgeDefaults:
    """The ``[badge]`` table of a schedule.toml, as the ``badge`` command needs it."""

    overlay: Path
    size: int = DEFAULT_SIZE
    shape: str = "circle"


def badge_defaults(schedule: Path, *, required: bool = True) -> BadgeDefaults:
    """Read ``[badge]`` (overlay path relative to the schedule's folder, size, shape) from ``schedule``.

    With ``required=False`` a missing file or table gives the built-in defaults (an explicit overlay is then used).
    """
    fallback = BadgeDefaults(overlay=Path())
    try:
        data = tomllib.loads(schedule.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if not required:
            return fallback
        raise InputError(f"{schedule}: no such file (give --overlay, or --schedule with a [badge] table)") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{schedule}: cannot read: {str(exc).splitlines()[0]}") from None
    table = data.get("badge")
    if not isinstance(table, dict) or not isinstance(table.get("overlay"), str):
        if not required:
            return fallback
        raise InputError(f"{schedule}: no [badge] table with an overlay (or give --overlay)")
    size = table.get("size", DEFAULT_SIZE)
    shape = table.get("shape", "circle")
    if not isinstance(size, int) or isinstance(size, bool):
        raise InputError(f"{schedule}: [badge] size must be a whole number of pixels")
    if shape not in SHAPES:
        raise InputError(f"{schedule}: [badge] shape must be one of {', '.join(SHAPES)}")
    return BadgeDefaults(overlay=(schedule.parent / table["overlay"]).resolve(), size=size, shape=shape)
