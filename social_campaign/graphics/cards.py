"""Infographic cards: a :class:`CardSpec` (read from a file by ``specs.py``) drawn at each size the networks want.

Layout, the same for every size: an accent bar along the top edge; the body (big number in the accent colour, the
bold title, the caption) centred vertically in the space left above the footer; the footer (hashtags in the accent
colour, the source line, and the logo at the line's end) at the bottom. Text starts at the left for left-to-right
specs and at the right for right-to-left ones. The body and the footer each shrink together until they fit
(``layout.fit``), so nothing ever overflows or is clipped; :func:`fit_report` says when that took a size too small to
read. Saving is separate: :func:`render_cached` (per-channel media) and ``specs.build_all`` (``infographics build``).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from social_campaign.errors import ImageError, InputError
from social_campaign.graphics.files import write_atomic
from social_campaign.graphics.layout import Block, Fonts, fit, layout_block, single_line_size, visual_order

TARGETS: dict[str, tuple[int, int]] = {
    "x": (1200, 675),
    "facebook": (1200, 630),
    "square": (1080, 1080),
    "portrait": (1080, 1350),
}
RENDER_VERSION = "cards-1"  # bump when the drawing changes, so cached media are re-rendered
#: Smallest size (px) each text part may shrink to before ``check`` warns; below it people cannot read it on a phone.
READABLE = {"title": 30, "number": 40, "caption": 18, "hashtags": 18, "source": 14}
BODY_RATIOS = {"number": 2.2, "title": 1.0, "caption": 0.52}
FOOT_RATIOS = {"hashtags": 1.0, "source": 0.78}
MAX_ALT = 1000  # X's alt_text limit

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class CardSpec:
    """One loaded spec. Colours are RGB tuples, paths absolute; ``direction`` is resolved to ``ltr`` or ``rtl``."""

    path: Path
    title: str
    number: str = ""
    caption: str = ""
    hashtags: tuple[str, ...] = ()
    source: str = ""
    background: RGB = (11, 61, 145)
    foreground: RGB = (255, 255, 255)
    accent: RGB = (255, 210, 63)
    logo: Path | None = None
    alt: str | None = None
    lang: str = "en"
    direction: str = "ltr"
    fonts: dict[str, Path] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def alt_text(self) -> str:
        """The alt text every output of this spec carries: ``alt`` when given, else derived from the card's text."""
        if self.alt:
            return self.alt[:MAX_ALT]
        parts = [self.number] if self.number and self.number not in self.title else []
        parts += [self.title, self.caption, self.source]
        body = " ".join(p.rstrip(".") + "." for p in (q.strip() for q in parts) if p)
        missing = [tag for tag in self.hashtags if tag.lower() not in body.lower()]
        if missing:
            body += " " + " ".join(missing)
        label = "Infographic: " if self.lang.split("-")[0].lower() == "en" else ""
        return (label + body)[:MAX_ALT]


@dataclass(frozen=True)
class TextItem:
    """One word drawn at (``x``, ``baseline``) with anchor ``ls``; ``part`` is title, caption, ... ."""

    part: str
    text: str
    font: ImageFont.FreeTypeFont
    x: float
    baseline: float
    fill: tuple[int, int, int]
    direction: str


@dataclass(frozen=True)
class CardLayout:
    size: tuple[int, int]
    content: tuple[int, int, int, int]  # left, top, right, bottom: all text and the logo lie inside
    items: tuple[TextItem, ...]
    sizes: dict[str, int]  # part -> font size in px
    fits: bool
    bar: int
    rule: tuple[int, int, int, int] | None
    logo: tuple[int, int, int, int] | None


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (round(a[0] * t + b[0] * (1 - t)), round(a[1] * t + b[1] * (1 - t)), round(a[2] * t + b[2] * (1 - t)))


@lru_cache(maxsize=16)
def _logo(path: Path, mtime: float) -> Image.Image:
    with Image.open(path, formats=["PNG"]) as im:
        return im.convert("RGBA")


def layout_card(spec: CardSpec, size: tuple[int, int]) -> CardLayout:
    """Where every word, the rule and the logo go on a ``size`` card (no drawing)."""
    w, h = size
    m = min(w, h)
    pad, bar = round(0.07 * m), max(8, round(0.014 * m))
    left, top, right, bottom = pad, bar + pad, w - pad, h - pad
    cw = right - left
    regular = Fonts(spec.fonts["regular"], spec.fonts["arabic_regular"])
    bold = Fonts(spec.fonts["bold"], spec.fonts["arabic_bold"])
    rtl = spec.direction == "rtl"
    dim = _blend(spec.foreground, spec.background, 0.82)

    logo_box = None
    logo_w = 0
    if spec.logo is not None:
        logo = _logo(spec.logo, spec.logo.stat().st_mtime)
        lh = round(0.1 * m)
        logo_w = min(round(logo.width * lh / logo.height), round(0.3 * cw))
        lh = round(logo.height * logo_w / logo.width)
        lx = left if rtl else right - logo_w
        logo_box = (lx, bottom - lh, lx + logo_w, bottom)
    foot_w = cw - (logo_w + round(0.03 * m) if logo_w else 0)
    foot_text = {"hashtags": " ".join(spec.hashtags), "source": spec.source}
    foot_fonts = {"hashtags": bold, "source": regular}

    def foot(size_px: int) -> Iterator[Block]:  # lazy: fit stops at the first block that overflows
        return (
            layout_block(foot_text[k], foot_fonts[k], max(1, round(size_px * r)), foot_w)
            for k, r in FOOT_RATIOS.items()
        )

    foot_size, foot_blocks, foot_ok = fit(foot, foot_w, 0.26 * (bottom - top), gap=0.35, lo=4, hi=round(0.04 * m))
    foot_h = sum(b.height for b in foot_blocks if b.lines) + 0.35 * foot_size * max(
        0, sum(1 for b in foot_blocks if b.lines) - 1
    )
    foot_h = max(foot_h, logo_box[3] - logo_box[1] if logo_box else 0)
    rule = None
    body_bottom = bottom
    if foot_h:
        gap = round(0.04 * m)
        rule_h = max(3, round(0.006 * m))
        rule_y = round(bottom - foot_h - gap - rule_h)
        rule_w = round(0.12 * cw)
        rule = (
            (right - rule_w, rule_y, right, rule_y + rule_h) if rtl else (left, rule_y, left + rule_w, rule_y + rule_h)
        )
        body_bottom = rule_y - gap

    body_text = {"number": spec.number, "title": spec.title, "caption": spec.caption}
    body_fonts = {"number": bold, "title": bold, "caption": regular}

    def body(size_px: int) -> Iterator[Block]:
        sizes = {k: max(1, round(size_px * r)) for k, r in BODY_RATIOS.items()}
        sizes["number"] = single_line_size(
            spec.number, bold, sizes["number"], cw, floor=sizes["title"]
        )  # stays one line
        return (layout_block(body_text[k], body_fonts[k], sizes[k], cw) for k in BODY_RATIOS)

    body_size, body_blocks, body_ok = fit(body, cw, body_bottom - top, gap=0.32, lo=4, hi=round(0.105 * m))
    shown = [b for b in body_blocks if b.lines]
    body_h = sum(b.height for b in shown) + 0.32 * body_size * max(0, len(shown) - 1)

    items: list[TextItem] = []
    fills = {"number": spec.accent, "title": spec.foreground, "caption": dim, "hashtags": spec.accent, "source": dim}

    def place(parts: list[str], blocks: list[Block], y: float, gap: float, x0: float, width: float) -> None:
        for part, block in zip(parts, blocks, strict=True):
            if not block.lines:
                continue
            baseline = y + block.ascent
            for line in block.lines:
                x = x0 + width - line.width if rtl else x0
                for word in visual_order(line, spec.direction):
                    for run in word.visual_runs():
                        items.append(TextItem(part, run.text, run.font, x, baseline, fills[part], run.direction))
                        x += run.width
                    x += line.space
                baseline += block.pitch
            y += block.height + gap

    place(list(BODY_RATIOS), body_blocks, top + max(0.0, (body_bottom - top - body_h) / 2), 0.32 * body_size, left, cw)
    foot_text_h = sum(b.height for b in foot_blocks if b.lines) + 0.35 * foot_size * max(
        0, sum(1 for b in foot_blocks if b.lines) - 1
    )
    foot_x = left + (logo_w + round(0.03 * m) if (logo_w and rtl) else 0)
    place(list(FOOT_RATIOS), foot_blocks, bottom - foot_text_h, 0.35 * foot_size, foot_x, foot_w)
    sizes = {k: b.size for k, b in zip(BODY_RATIOS, body_blocks, strict=True) if body_text[k]}
    sizes |= {k: b.size for k, b in zip(FOOT_RATIOS, foot_blocks, strict=True) if foot_text[k]}
    return CardLayout(size, (left, top, right, bottom), tuple(items), sizes, body_ok and foot_ok, bar, rule, logo_box)


def render_card(spec: CardSpec, size: tuple[int, int] | str) -> Image.Image:
    """The card as an ``RGB`` image of ``size`` (pixels, or a key of :data:`TARGETS`)."""
    if isinstance(size, str):
        if size not in TARGETS:
            raise InputError(f"unknown card target {size!r} (known: {', '.join(TARGETS)})")
        size = TARGETS[size]
    lay = layout_card(spec, size)
    if not lay.fits:
        raise ImageError(f"{spec.path}: the text does not fit a {size[0]}x{size[1]} card even at 4 px; shorten it")
    img = Image.new("RGB", size, spec.background)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, size[0] - 1, lay.bar - 1), fill=spec.accent)
    if lay.rule:
        draw.rectangle((lay.rule[0], lay.rule[1], lay.rule[2] - 1, lay.rule[3] - 1), fill=spec.accent)
    for item in lay.items:
        draw.text(
            (item.x, item.baseline), item.text, font=item.font, fill=item.fill, anchor="ls", direction=item.direction
        )
    if lay.logo and spec.logo is not None:
        lx, ly, rx, ry = lay.logo
        logo = _logo(spec.logo, spec.logo.stat().st_mtime).resize((rx - lx, ry - ly), Image.Resampling.LANCZOS)
        img.paste(logo, (lx, ly), logo)
    return img


def fit_report(spec: CardSpec, size: tuple[int, int]) -> list[tuple[str, int]]:
    """Text parts that had to shrink below a readable size on a ``size`` card: ``[(part, px), …]``."""
    lay = layout_card(spec, size)
    return [(part, px) for part, px in lay.sizes.items() if px < READABLE[part] or not lay.fits]


def encode_card(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


@lru_cache(maxsize=64)
def _file_digest(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def content_hash(spec: CardSpec, target: str) -> str:
    """A hash over everything the rendering depends on: spec file, fonts, logo, target and renderer version."""
    h = hashlib.sha256(f"{RENDER_VERSION}\0{target}\0".encode())
    for path in [spec.path, *sorted(spec.fonts.values()), *([spec.logo] if spec.logo else [])]:
        st = path.stat()
        h.update(_file_digest(path, st.st_mtime_ns, st.st_size).encode())
    return h.hexdigest()


def render_cached(spec: CardSpec, target: str, out_dir: Path) -> tuple[Path, str]:
    """``out_dir/<spec>-<target>-<hash>.png`` (rendered only when absent) and the alt text."""
    out = out_dir / f"{spec.name}-{target}-{content_hash(spec, target)[:16]}.png"
    if not out.exists():
        write_atomic(out, encode_card(render_card(spec, target)))
    return out, spec.alt_text
