"""Draws the demo campaign's badge frame (``infographics/frame-childrights.png``): a ring with curved lettering.

Circle-safe: everything that matters lies inside the inscribed circle, the corners are plain ring colour (seen only on
square badges), and the middle is transparent (about half the image) so the supporter's photo shows. Regenerate with
``python -m social_campaign.graphics.frame infographics/frame-childrights.png``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from social_campaign.graphics.files import write_atomic

RING = (11, 61, 145, 255)
ACCENT = (255, 210, 63, 255)
WHITE = (255, 255, 255, 255)


def _arc_text(
    img: Image.Image, text: str, font: ImageFont.FreeTypeFont, radius: float, *, top: bool, fill: tuple[int, ...]
) -> None:
    """Set ``text`` along the circle of ``radius`` around the centre, reading left to right, centred at the top
    (letters upright, pointing outwards) or at the bottom (letters pointing to the centre)."""
    cx, cy = img.width / 2, img.height / 2
    tracking = font.size * 0.06
    widths = [font.getlength(ch) + tracking for ch in text]
    span = sum(widths) / radius
    start = (1.5 * math.pi - span / 2) if top else (0.5 * math.pi + span / 2)
    done = 0.0
    tile_size = int(font.size * 2)
    for ch, w in zip(text, widths, strict=True):
        theta = start + (done + w / 2) / radius if top else start - (done + w / 2) / radius
        done += w
        if ch == " ":
            continue
        tile = Image.new("RGBA", (tile_size, tile_size), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((tile_size / 2, tile_size / 2), ch, font=font, fill=fill, anchor="mm")
        rotation = math.degrees(1.5 * math.pi - theta) if top else math.degrees(0.5 * math.pi - theta)
        tile = tile.rotate(rotation, resample=Image.Resampling.BICUBIC)
        x, y = cx + radius * math.cos(theta), cy + radius * math.sin(theta)
        img.alpha_composite(tile, (round(x - tile_size / 2), round(y - tile_size / 2)))


def draw_frame(
    fonts_dir: Path, size: int = 1080, *, top: str = "UNIVERSAL CHILDREN'S DAY", bottom: str = "#childrights"
) -> Image.Image:
    """The frame as an ``RGBA`` image of ``size``x``size``."""
    scale = 4  # shapes drawn at 4x and reduced: smooth edges
    big = size * scale
    outer = big / 2
    inner = outer * 0.79
    shapes = Image.new("RGBA", (big, big), RING)
    draw = ImageDraw.Draw(shapes)
    c = big / 2
    line = 7 * scale
    draw.ellipse((c - inner - line, c - inner - line, c + inner + line, c + inner + line), fill=ACCENT)
    draw.ellipse((c - inner, c - inner, c + inner, c + inner), fill=(0, 0, 0, 0))
    for angle in (math.pi, 0.0):  # dots at 9 and 3 o'clock between the two inscriptions
        r_mid = (outer + inner) / 2
        x, y = c + r_mid * math.cos(angle), c + r_mid * math.sin(angle)
        dot = 11 * scale
        draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=ACCENT)
    img = shapes.resize((size, size), Image.Resampling.LANCZOS)
    ring_mid = size / 2 * (1 + 0.79) / 2 + 3
    bold = ImageFont.truetype(str(fonts_dir / "NotoSans-Bold.ttf"), round(size * 0.052))
    big_bold = ImageFont.truetype(str(fonts_dir / "NotoSans-Bold.ttf"), round(size * 0.066))
    _arc_text(img, top, bold, ring_mid, top=True, fill=WHITE)
    _arc_text(img, bottom, big_bold, ring_mid, top=False, fill=ACCENT)
    return img


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("infographics/frame-childrights.png")
    img = draw_frame(out.parent / "fonts")
    write_atomic(out, _png(img))
    return 0


def _png(img: Image.Image) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
