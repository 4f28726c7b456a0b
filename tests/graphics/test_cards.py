"""Cards: every target size, text that never overflows, Arabic, goldens, per-channel media and ``infographics build``."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat
from typer.testing import CliRunner

from social_campaign.cli import typer_app
from social_campaign.graphics.cards import TARGETS, layout_card, render_card
from social_campaign.graphics.layout import Fonts, fit, layout_block, load_font
from social_campaign.graphics.specs import CardSpec, load_spec, media_for_channel

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
DEMO = ("show-support", "us-stands-alone", "infant-mortality")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "infographics" / "fonts", tmp_path / "fonts")
    return tmp_path


def spec_in(folder: Path, text: str, name: str = "card.toml") -> CardSpec:
    (folder / name).write_text(text, encoding="utf-8")
    return load_spec(folder / name)


def assert_inside(spec: CardSpec, size: tuple[int, int]) -> None:
    """Every word's ink box lies inside the content box, and the margins are untouched background."""
    lay = layout_card(spec, size)
    left, top, right, bottom = lay.content
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    assert lay.items
    for item in lay.items:
        x0, y0, x1, y1 = draw.textbbox(
            (item.x, item.baseline), item.text, font=item.font, anchor="ls", direction=item.direction
        )
        assert x0 >= left - 1 and x1 <= right + 1 and y0 >= top - 1 and y1 <= bottom + 1, (
            item.text,
            (x0, y0, x1, y1),
            lay.content,
        )
    img = render_card(spec, size)
    w, h = size
    for box in ((0, lay.bar, left - 2, h), (right + 2, lay.bar, w, h), (0, bottom + 2, w, h)):
        assert img.crop(box).getcolors() == [((box[2] - box[0]) * (box[3] - box[1]), spec.background)], box


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_targets_have_their_sizes_and_demo_text_fits(target: str) -> None:
    for name in DEMO:
        spec = load_spec(ROOT / "infographics" / f"{name}.toml")
        img = render_card(spec, target)
        assert img.size == TARGETS[target] and img.mode == "RGB"
        assert_inside(spec, TARGETS[target])


@pytest.mark.parametrize("target", ["x", "portrait"])
def test_long_titles_and_long_words_shrink_and_break_but_never_overflow(folder: Path, target: str) -> None:
    long_title = "The United States is the only member of the United Nations that has not ratified the Convention " * 3
    long_word = "#" + "Unratifiable" * 12  # wider than any card at any readable size
    spec = spec_in(
        folder,
        f'title = "{long_title} {long_word}"\nnumber = "196 countries have ratified"\n'
        f'caption = "{"Every child has the right to be heard. " * 6}{long_word}"\n'
        f'hashtags = ["#CRC", "{long_word}"]\nsource = "Source: {"United Nations Treaty Collection " * 4}"\n',
    )
    assert_inside(spec, TARGETS[target])
    lay = layout_card(spec, TARGETS[target])
    assert lay.fits
    pieces = [i.text for i in lay.items if i.part == "title" and i.text.startswith("#Unrat")]
    assert len(pieces) == 1  # the title shrank enough to keep it whole... or it was broken:
    broken = [i.text for i in lay.items if i.part == "hashtags" and "Unratifiable" in i.text]
    assert "".join(broken) == long_word  # nothing lost when breaking


def test_a_word_too_wide_even_alone_is_broken_between_characters(folder: Path) -> None:
    word = "W" * 80
    spec = spec_in(folder, f'title = "{word}"\n')
    lay = layout_card(spec, TARGETS["x"])
    title = [i.text for i in lay.items if i.part == "title"]
    assert "".join(title) == word and len(title) > 1
    assert_inside(spec, TARGETS["x"])


def test_shrinks_to_fit_but_no_smaller_than_needed(folder: Path) -> None:
    short = layout_card(spec_in(folder, 'title = "Short"\n'), TARGETS["x"]).sizes["title"]
    longer = layout_card(
        spec_in(folder, f'title = "{"Rather longer headline " * 14}"\n', "b.toml"), TARGETS["x"]
    ).sizes["title"]
    assert longer < short
    fonts = Fonts(folder / "fonts/NotoSans-Bold.ttf", folder / "fonts/NotoSansArabic-Bold.ttf")
    text = "Rather longer headline " * 8
    size, blocks, ok = fit(lambda s: [layout_block(text, fonts, s, 600)], 600, 300, gap=0.3, lo=4, hi=200)
    assert ok and blocks[0].height <= 300 and blocks[0].width <= 600
    assert layout_block(text, fonts, size + 1, 600).height > 300  # one pixel more would not fit


def glyph(font: object, ch: str) -> bytes:
    im = Image.new("L", (120, 120))
    ImageDraw.Draw(im).text((20, 20), ch, font=font, fill=255)  # type: ignore[arg-type]
    return im.tobytes()


ARABIC = "اتفاقية الأمم المتحدة لحقوق الطفل"


def test_arabic_card_renders_shaped_right_to_left_without_tofu(folder: Path) -> None:
    spec = spec_in(
        folder,
        f'title = "{ARABIC} #CRC"\ncaption = "كل طفل له الحق في التعليم"\nhashtags = ["#حقوق_الطفل", "#CRC"]\n'
        'lang = "ar"\n[colors]\nbackground = "#0b3d91"\n',
        "ar.toml",
    )
    assert spec.direction == "rtl"
    assert_inside(spec, TARGETS["square"])
    lay = layout_card(spec, TARGETS["square"])
    arabic_items = [i for i in lay.items if any("\u0600" <= c <= "\u06ff" for c in i.text)]
    assert arabic_items and all(
        i.font.path.endswith("NotoSansArabic-Bold.ttf") or i.font.path.endswith("NotoSansArabic-Regular.ttf")
        for i in arabic_items
    )  # type: ignore[attr-defined]
    latin = [i for i in lay.items if i.text == "#CRC" and i.part == "title"]
    assert latin and latin[0].font.path.endswith("NotoSans-Bold.ttf")  # type: ignore[attr-defined]
    # font fallback inside a word: '#' and '_' of an Arabic hashtag come from the Latin font, the letters from the Arabic
    tag = [i for i in lay.items if i.part == "hashtags" and i.text in ("#", "_", "حقوق", "الطفل")]
    assert sorted(i.text for i in tag) == sorted(["#", "_", "حقوق", "الطفل"])
    assert {i.font.path.rsplit("/", 1)[1] for i in tag if i.text in "#_"} == {"NotoSans-Bold.ttf"}  # type: ignore[attr-defined]
    assert max(tag, key=lambda i: i.x).text == "#"  # read right to left: the # comes first, on the right
    # right to left: the first word of the title is the rightmost on the first line
    first_line = [
        i
        for i in lay.items
        if i.part == "title" and i.baseline == min(j.baseline for j in lay.items if j.part == "title")
    ]
    assert max(first_line, key=lambda i: i.x).text == ARABIC.split()[0]
    # not tofu: each Arabic letter has a real glyph in the font used, while the Latin font has only .notdef boxes
    arabic_font, latin_font = (
        load_font(str(folder / "fonts/NotoSansArabic-Bold.ttf"), 60),
        load_font(str(folder / "fonts/NotoSans-Bold.ttf"), 60),
    )
    notdef_a, notdef_l = glyph(arabic_font, "\uffff"), glyph(latin_font, "\uffff")
    for ch in set(ARABIC.replace(" ", "")):
        assert glyph(arabic_font, ch) != notdef_a, ch
        assert glyph(latin_font, ch) == notdef_l, ch
    # shaped: joined letters are narrower together than apart
    assert arabic_font.getlength("الطفل", direction="rtl") < sum(arabic_font.getlength(c) for c in "الطفل")
    img = render_card(spec, "square")
    assert len(img.getcolors(1_000_000) or []) > 20  # anti-aliased text was drawn


def small(img: Image.Image) -> Image.Image:
    return img.resize((img.width // 4, img.height // 4), Image.Resampling.BOX)


@pytest.mark.parametrize("name", DEMO)
@pytest.mark.parametrize("target", ["x", "portrait"])
def test_golden_images(name: str, target: str) -> None:
    """The demo cards look as approved (quarter size, mean absolute difference, not bytes)."""
    golden = GOLDEN / f"{name}-{target}.png"
    got = small(render_card(load_spec(ROOT / "infographics" / f"{name}.toml"), target))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        got.save(golden, optimize=True)
    with Image.open(golden) as want:
        diff = sum(ImageStat.Stat(ImageChops.difference(got, want.convert("RGB"))).mean) / 3
    assert diff < 2.0, f"{golden.name} differs by {diff:.2f} (rerun with UPDATE_GOLDEN=1 after checking by eye)"


def test_media_for_channel_sizes_alt_and_cache(folder: Path, tmp_path: Path) -> None:
    path = folder / "card.toml"
    path.write_text('title = "Infant mortality down 50% after #CRC"\nnumber = "50%"\n')
    out = tmp_path / "media"
    x_png, alt = media_for_channel(path, "x", out)
    fb_png, _ = media_for_channel(path, "facebook", out)
    outbox_png, _ = media_for_channel(path, "outbox", out)
    assert alt == "Infographic: Infant mortality down 50% after #CRC."
    with Image.open(x_png) as a, Image.open(fb_png) as b:
        assert a.size == (1200, 675) and b.size == (1200, 630)
    assert outbox_png == x_png
    before = x_png.stat().st_mtime_ns
    assert media_for_channel(path, "x", out)[0] == x_png and x_png.stat().st_mtime_ns == before  # not re-rendered
    path.write_text('title = "Infant mortality down by half after #CRC"\n')
    changed, alt2 = media_for_channel(path, "x", out)
    assert changed != x_png and alt2 == "Infographic: Infant mortality down by half after #CRC."
    assert sorted(p.suffix for p in out.iterdir()) == [".png"] * 3  # no temp files left


def test_infographics_build_renders_every_spec_and_target(tmp_path: Path) -> None:
    campaign = tmp_path / "campaign"
    english = shutil.ignore_patterns("*.png", "*.fr.toml", "*.es.toml", "*.ar.toml")  # translations: same cards
    shutil.copytree(ROOT / "infographics", campaign / "infographics", ignore=english)
    (campaign / "schedule.toml").write_text("")
    result = CliRunner().invoke(
        typer_app,
        ["infographics", "build", "--schedule", str(campaign / "schedule.toml"), "--out", str(tmp_path / "out")],
    )
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == sorted([f"{n}-{t}.png" for n in DEMO for t in TARGETS] + ["index.json"])
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert len(index) == 12 and all(entry["alt"] for entry in index)
    assert "12 cards written to" in result.output


def test_infographics_build_refuses_a_bad_spec_before_writing(tmp_path: Path) -> None:
    (tmp_path / "infographics").mkdir()
    (tmp_path / "infographics" / "bad.toml").write_text('title = "x"\ncolour = "red"\n')
    (tmp_path / "schedule.toml").write_text("")
    result = CliRunner().invoke(
        typer_app, ["infographics", "build", "-s", str(tmp_path / "schedule.toml"), "-o", str(tmp_path / "out")]
    )
    assert result.exit_code != 0
    assert not (tmp_path / "out").exists()
