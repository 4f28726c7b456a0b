"""Text that wraps and shrinks to fit a box, in Latin and Arabic, with per-word font fallback and right-to-left lines.

Words are measured with Pillow's raqm layout (shaping, ligatures, Arabic joining). A word containing Arabic letters is
set in the Arabic font and shaped right-to-left; any other word in the Latin font. Lines are broken greedily at spaces;
a word wider than the box is broken between characters, so no line is ever wider than the box. A right-to-left
paragraph orders its words from the right, keeping runs of left-to-right words (``#CRC 2025``) in reading order.

:func:`fit` finds the largest size (binary search on whole pixels) at which a stack of blocks fits both the width and
the height; every block's size is a fixed ratio of it. Vertical extents use the fonts' ascent and descent, so the ink
of each line lies inside the reported box.

Shaping a word is the costly step, and a spec is laid out at four card sizes, each over the steps of a search: words,
spaces, blocks and single-line sizes are memoised (bounded ``lru_cache``; results are immutable).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont, features

ARABIC_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
RTL_RE = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
LAYOUT = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
LINE_PITCH = {"latin": 1.16, "arabic": 1.5}  # baseline-to-baseline distance in ems


@dataclass(frozen=True)
class Fonts:
    """One weight: the Latin font and the Arabic font used for words with Arabic letters."""

    latin: Path
    arabic: Path


@lru_cache(maxsize=512)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, layout_engine=LAYOUT)


@dataclass(frozen=True)
class Run:
    """Part of a word set in one font: Arabic letters in the Arabic font, anything else (#, _, Latin) in the Latin."""

    text: str
    font: ImageFont.FreeTypeFont
    direction: str  # ltr | rtl
    width: float


@dataclass(frozen=True)
class Word:
    text: str
    runs: tuple[Run, ...]  # in logical order
    script: str  # latin | arabic (any Arabic letter)
    direction: str  # ltr | rtl
    width: float

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return self.runs[0].font

    def visual_runs(self) -> list[Run]:
        """Runs from left to right."""
        return list(reversed(self.runs)) if self.direction == "rtl" else list(self.runs)


@dataclass(frozen=True)
class Line:
    words: tuple[Word, ...]
    width: float
    space: float


@dataclass(frozen=True)
class Block:
    """A paragraph laid out at one size: lines, the pitch between baselines, and the first line's ascent."""

    lines: tuple[Line, ...]
    size: int
    pitch: float
    ascent: int
    descent: int

    @property
    def height(self) -> float:
        return 0.0 if not self.lines else self.ascent + self.descent + self.pitch * (len(self.lines) - 1)

    @property
    def width(self) -> float:
        return max((line.width for line in self.lines), default=0.0)


def _measure(font: ImageFont.FreeTypeFont, text: str, direction: str) -> float:
    return font.getlength(text, direction=direction) if LAYOUT == ImageFont.Layout.RAQM else font.getlength(text)


@lru_cache(maxsize=16384)
def make_word(text: str, fonts: Fonts, size: int) -> Word:
    """``text`` (no spaces) measured; with Arabic letters it is split into Arabic and other runs (font fallback)."""
    if not ARABIC_RE.search(text):
        font = load_font(str(fonts.latin), size)
        direction = "rtl" if RTL_RE.search(text) else "ltr"
        width = _measure(font, text, direction)
        return Word(text, (Run(text, font, direction, width),), "latin", direction, width)
    runs: list[Run] = []
    for piece in re.findall(f"{ARABIC_RE.pattern}+|(?:(?!{ARABIC_RE.pattern}).)+", text):
        arabic = bool(ARABIC_RE.match(piece))
        font = load_font(str(fonts.arabic if arabic else fonts.latin), size)
        direction = "rtl" if arabic else "ltr"
        runs.append(Run(piece, font, direction, _measure(font, piece, direction)))
    return Word(text, tuple(runs), "arabic", "rtl", sum(r.width for r in runs))


@lru_cache(maxsize=1024)
def space_width(fonts: Fonts, size: int) -> float:
    """The width of a space between two words (the Latin font's)."""
    return load_font(str(fonts.latin), size).getlength(" ")


def _break_word(word: Word, fonts: Fonts, size: int, max_width: float) -> list[Word]:
    """Split a too-wide word into pieces that each fit ``max_width`` (at least one character per piece)."""
    pieces: list[Word] = []
    rest = word.text
    while rest:
        lo, hi = 1, len(rest)
        while lo < hi:  # the longest prefix that fits
            mid = (lo + hi + 1) // 2
            if make_word(rest[:mid], fonts, size).width <= max_width:
                lo = mid
            else:
                hi = mid - 1
        pieces.append(make_word(rest[:lo], fonts, size))
        rest = rest[lo:]
    return pieces


@lru_cache(maxsize=4096)
def layout_block(text: str, fonts: Fonts, size: int, max_width: float) -> Block:
    """Wrap ``text`` (``\\n`` starts a new line) at ``size`` into lines no wider than ``max_width`` (if possible).

    Memoised (the result is immutable): the four card sizes and the steps of :func:`fit` ask for many of the same.
    """
    space = space_width(fonts, size)
    lines: list[Line] = []
    scripts: set[str] = set()
    for paragraph in text.split("\n"):
        current: list[Word] = []
        width = 0.0
        for raw in split_words(paragraph):
            word = make_word(raw, fonts, size)
            pieces = [word] if word.width <= max_width else _break_word(word, fonts, size, max_width)
            for piece in pieces:
                scripts.add(piece.script)
                extra = piece.width + (space if current else 0.0)
                if current and width + extra > max_width:
                    lines.append(Line(tuple(current), width, space))
                    current, width = [piece], piece.width
                else:
                    current.append(piece)
                    width += extra
        if current:
            lines.append(Line(tuple(current), width, space))
            _avoid_orphan(lines, max_width)
    scripts = scripts or {"latin"}
    metrics = [load_font(str(fonts.arabic if s == "arabic" else fonts.latin), size).getmetrics() for s in scripts]
    pitch = max(LINE_PITCH[s] for s in scripts) * size
    return Block(tuple(lines), size, pitch, max(m[0] for m in metrics), max(m[1] for m in metrics))


def _avoid_orphan(lines: list[Line], max_width: float) -> None:
    """A paragraph should not end on one short word: move a word down from the line before when it fits."""
    if len(lines) < 2 or len(lines[-1].words) != 1 or len(lines[-2].words) < 3:
        return
    prev, last = lines[-2], lines[-1]
    moved = prev.words[-1]
    new_last = moved.width + prev.space + last.width
    if new_last <= max_width:
        lines[-2] = Line(prev.words[:-1], prev.width - moved.width - prev.space, prev.space)
        lines[-1] = Line((moved, *last.words), new_last, last.space)


@lru_cache(maxsize=1024)
def single_line_size(text: str, fonts: Fonts, size: int, max_width: float, floor: int) -> int:
    """``size``, or the largest size ≥ ``floor`` at which ``text`` fits on one line of ``max_width``."""
    while size > floor:
        width = sum(make_word(w, fonts, size).width for w in split_words(text))
        width += space_width(fonts, size) * max(0, len(split_words(text)) - 1)
        if width <= max_width:
            return size
        size = max(floor, min(size - 1, int(size * max_width / width)))
    return size


def split_words(text: str) -> list[str]:
    """Words separated by ordinary spaces and tabs (a no-break space U+00A0 keeps two words together)."""
    return [w for w in re.split(r"[ \t]+", text) if w]


def visual_order(line: Line, direction: str) -> list[Word]:
    """The words of ``line`` from left to right for a paragraph of ``direction`` (word-level bidi)."""
    if direction != "rtl":
        return list(line.words)
    runs: list[list[Word]] = []
    for word in line.words:
        if runs and runs[-1][0].direction == word.direction == "ltr":
            runs[-1].append(word)
        else:
            runs.append([word])
    return [word for run in reversed(runs) for word in run]


def fit(
    build: Callable[[int], Iterable[Block]], max_width: float, max_height: float, *, gap: float, lo: int, hi: int
) -> tuple[int, list[Block], bool]:
    """The largest ``size`` in ``lo..hi`` whose blocks (``build(size)``) fit, and whether they fit (not even at ``lo``:
    ``(lo, blocks, False)``).

    Fitting means: every line no wider than ``max_width`` and the blocks' heights plus ``gap x size`` between
    consecutive non-empty blocks no more than ``max_height``. ``build`` may yield its blocks lazily: a size is given up
    at the first block that overflows (the height only grows with each block), without laying out the rest.
    """

    def fits(size: int) -> list[Block] | None:
        blocks: list[Block] = []
        heights: list[float] = []
        for block in build(size):
            blocks.append(block)
            if not block.lines:
                continue
            heights.append(block.height)
            if sum(heights) + gap * size * (len(heights) - 1) > max_height or block.width > max_width:
                return None
        return blocks

    fitted = fits(lo)
    if fitted is None:
        return lo, list(build(lo)), False
    best_size, best = lo, fitted
    low, high = lo + 1, hi
    while low <= high:
        mid = (low + high) // 2
        blocks = fits(mid)
        if blocks is not None:
            best_size, best, low = mid, blocks, mid + 1
        else:
            high = mid - 1
    return best_size, best, True
