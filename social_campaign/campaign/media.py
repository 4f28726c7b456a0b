"""Checks of the campaign's image files: post media, infographic specs and the badge overlay.

Each function returns plain-words problems (``(line, message)`` pairs or strings) and never raises for bad files:
Pillow's errors are translated here, at the edge that calls Pillow.
"""

from __future__ import annotations

import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from social_campaign.campaign.context import Context
from social_campaign.errors import Problem

__all__ = ["ImageInfo", "check_overlay", "check_spec", "inspect_image", "spec_alt", "spec_problems"]

#: What X and Facebook take as post images.
POST_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
MAX_PIXELS = 60_000_000
TRANSPARENT_SHARE = 0.05


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    bytes: int


def inspect_image(path: Path) -> ImageInfo | str:
    """Format and size of a readable image, or the reason it is not one."""
    try:
        size = path.stat().st_size
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                fmt, (width, height) = img.format or "?", img.size
                if width * height > MAX_PIXELS:
                    return f"image is {width}x{height} pixels, too large to process"
                img.verify()
            with Image.open(path) as img:
                img.load()  # verify() does not decode pixels; a truncated file fails here
    except FileNotFoundError:
        return "file not found"
    except IsADirectoryError:
        return "is a folder, not an image"
    except UnidentifiedImageError:
        return "not a readable image (expected PNG, JPEG, GIF or WebP)"
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return f"broken image: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    if fmt not in POST_FORMATS:
        return f"{fmt} images cannot be posted (use PNG, JPEG, GIF or WebP)"
    return ImageInfo(fmt, width, height, size)


def check_spec(path: Path, shown: str) -> list[Problem]:
    """An infographic spec: the graphics part's own checks when present, else 'exists and parses as TOML'."""
    try:
        from social_campaign.graphics import specs
    except ImportError:
        specs = None  # type: ignore[assignment]
    if specs is not None and hasattr(specs, "check_spec"):
        return [Problem(shown, p.line, p.message, p.severity) for p in specs.check_spec(path)]
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [Problem(shown, 1, "infographic spec not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(shown, 1, f"cannot read infographic spec: {exc}")]
    except tomllib.TOMLDecodeError as exc:
        return [Problem(shown, 1, f"invalid TOML: {exc}")]
    return []


def spec_problems(ctx: Context, path: Path) -> list[Problem]:
    """:func:`check_spec` of ``path``, run and added to the context's problems once per ``check``."""
    if path not in ctx.specs:
        ctx.specs[path] = check_spec(path, ctx.show(path))
        ctx.problems.extend(ctx.specs[path])
    return ctx.specs[path]


def spec_alt(path: Path) -> str | None:
    """The alt text an infographic spec gives itself (``alt`` at the top or in ``[card]``), if any."""
    try:
        from social_campaign.graphics import specs

        reader = getattr(specs, "spec_alt", None)
        if reader is not None:
            value = reader(path)
            return value if isinstance(value, str) and value.strip() else None
    except ImportError:
        pass
    except Exception:  # the graphics part reports its own problems through check_spec
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    for table in (data, data.get("card") if isinstance(data.get("card"), dict) else {}):
        alt = table.get("alt") if isinstance(table, dict) else None
        if isinstance(alt, str) and alt.strip():
            return alt
    return None


def check_overlay(path: Path, size: int, download_size: int) -> list[tuple[str, str]]:
    """The badge frame: a square PNG with alpha, at least ``size`` pixels, at least 5% transparent.

    Returns ``(severity, message)`` pairs.
    """
    info = inspect_image(path)
    if isinstance(info, str):
        return [("error", f"badge overlay: {info}")]
    out: list[tuple[str, str]] = []
    if info.format != "PNG":
        return [("error", f"badge overlay must be a PNG with transparency, not {info.format}")]
    try:
        with Image.open(path) as img:
            has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
            alpha = img.convert("RGBA").getchannel("A") if has_alpha else None
    except (OSError, ValueError) as exc:
        return [("error", f"badge overlay: broken image: {exc}")]
    if alpha is None:
        out.append(
            ("error", f"badge overlay has no alpha channel (mode {img.mode}); save it as a PNG with transparency")
        )
    if info.width != info.height:
        out.append(("error", f"badge overlay must be square, not {info.width}x{info.height}"))
    if min(info.width, info.height) < size:
        out.append(("error", f"badge overlay is {info.width}x{info.height}, smaller than the badge size {size}"))
    elif min(info.width, info.height) < download_size:
        out.append(
            (
                "warning",
                f"badge overlay is {info.width}x{info.height}, smaller than download_size {download_size} (it will be upscaled)",
            )
        )
    if alpha is not None:
        histogram = alpha.histogram()
        share = sum(histogram[:128]) / max(info.width * info.height, 1)
        if share < TRANSPARENT_SHARE:
            out.append(
                ("error", f"badge overlay is only {share:.1%} transparent; at least 5% must be, so the photo shows")
            )
    return out
