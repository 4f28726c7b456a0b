"""``layout.fit`` with memoised words and blocks and lazy block building gives exactly what the plain search gives.

The reference below is ``fit`` as it was before the memoising: every block of a size laid out from scratch (empty
caches) and the whole stack measured before the verdict. The property compares size, verdict and every block.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from social_campaign.graphics import layout
from social_campaign.graphics.cards import TARGETS, layout_card
from social_campaign.graphics.layout import Block, Fonts, fit, layout_block
from social_campaign.graphics.specs import load_spec

ROOT = Path(__file__).resolve().parents[2]
FONTS = ROOT / "infographics" / "fonts"
BOLD = Fonts(FONTS / "NotoSans-Bold.ttf", FONTS / "NotoSansArabic-Bold.ttf")
REGULAR = Fonts(FONTS / "NotoSans-Regular.ttf", FONTS / "NotoSansArabic-Regular.ttf")
WORDS = ["Child", "rights", "#CRC", "#ChildrensDay", "1989,", "UN", "a", "—", "حقوق", "الطفل", "#حقوق_الطفل",
         "Supercalifragilisticexpialidocious", "ratified", "50%", "fi", "AV"]  # fmt: skip


def clear_caches() -> None:
    layout.make_word.cache_clear()
    layout.layout_block.cache_clear()
    layout.single_line_size.cache_clear()
    layout.space_width.cache_clear()


def reference_fit(
    build: Callable[[int], Sequence[Block]], max_width: float, max_height: float, *, gap: float, lo: int, hi: int
) -> tuple[int, list[Block], bool]:
    """The plain binary search: each size laid out completely from empty caches, then measured as a whole."""

    def fits(size: int) -> tuple[bool, list[Block]]:
        clear_caches()
        blocks = list(build(size))
        shown = [b for b in blocks if b.lines]
        height = sum(b.height for b in shown) + gap * size * max(0, len(shown) - 1)
        return height <= max_height and all(b.width <= max_width for b in shown), blocks

    best_size, (fitted, best) = lo, fits(lo)
    if not fitted:
        return lo, best, False
    low, high = lo + 1, hi
    while low <= high:
        mid = (low + high) // 2
        ok, blocks = fits(mid)
        if ok:
            best_size, best, low = mid, blocks, mid + 1
        else:
            high = mid - 1
    return best_size, best, True


texts = st.lists(st.sampled_from(WORDS), min_size=0, max_size=24).map(" ".join) | st.lists(
    st.sampled_from(WORDS), min_size=1, max_size=12
).map("\n".join)


@settings(max_examples=40, deadline=None)
@given(
    blocks=st.lists(st.tuples(texts, st.sampled_from([0.52, 0.78, 1.0, 2.2]), st.booleans()), min_size=1, max_size=3),
    max_width=st.integers(60, 1000),
    max_height=st.integers(20, 900),
    gap=st.sampled_from([0.0, 0.32, 0.35]),
    hi=st.integers(5, 120),
    warm_height=st.integers(20, 900),
)
def test_fit_equals_the_plain_search(
    blocks: list[tuple[str, float, bool]], max_width: int, max_height: int, gap: float, hi: int, warm_height: int
) -> None:
    def build(size: int) -> list[Block]:
        return [
            layout_block(text, BOLD if bold else REGULAR, max(1, round(size * ratio)), max_width)
            for text, ratio, bold in blocks
        ]

    fit(lambda s: iter(build(s)), max_width, warm_height, gap=gap, lo=4, hi=hi)  # caches hold other sizes' blocks
    got = fit(lambda s: iter(build(s)), max_width, max_height, gap=gap, lo=4, hi=hi)
    expected = reference_fit(build, max_width, max_height, gap=gap, lo=4, hi=hi)
    assert got == expected


def test_cards_laid_out_with_warm_caches_equal_cold_ones() -> None:
    """The four sizes of each shipped spec share words and blocks; the layouts equal ones made from empty caches."""
    for path in sorted((ROOT / "infographics").glob("*.toml")):
        spec = load_spec(path)
        warm = {target: layout_card(spec, size) for target, size in TARGETS.items()}
        for target, size in TARGETS.items():
            clear_caches()
            assert layout_card(spec, size) == warm[target], (path.name, target)
