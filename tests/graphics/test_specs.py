"""Infographic specs: loading, every check problem with its line, alt text, the shipped demo specs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from social_campaign.errors import CampaignError
from social_campaign.graphics.specs import check_spec, load_spec, spec_alt

ROOT = Path(__file__).resolve().parents[2]
FONTS = ROOT / "infographics" / "fonts"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(FONTS, tmp_path / "fonts")
    return tmp_path


def write(folder: Path, text: str, name: str = "card.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["show-support", "us-stands-alone", "infant-mortality"])
def test_shipped_specs_have_no_problems(name: str) -> None:
    path = ROOT / "infographics" / f"{name}.toml"
    assert check_spec(path) == []
    spec = load_spec(path)
    assert spec.title and spec.alt_text and len(spec.alt_text) <= 1000


def test_demo_titles_are_the_campaigns_three_cards() -> None:
    titles = {
        load_spec(ROOT / "infographics" / f"{n}.toml").title
        for n in ("show-support", "us-stands-alone", "infant-mortality")
    }
    assert titles == {
        "#ChildrensDay #childrights",
        "US only country that has not ratified the UN Convention on the Rights of the Child #USstandsAlone",
        "Infant mortality down 50% after #CRC",
    }


def test_every_problem_names_the_line(folder: Path) -> None:
    path = write(
        folder,
        "\n".join(
            [
                'title = "Ok"',  # 1
                'captoin = "typo"',  # 2
                'hashtags = ["CRC"]',  # 3
                'logo = "missing.png"',  # 4
                'direction = "up"',  # 5
                "",  # 6
                "[colors]",  # 7
                'background = "#12345"',  # 8
                'accnet = "#fff"',  # 9
                "",  # 10
                "[fonts]",  # 11
                'bold = "fonts/Nope.ttf"',  # 12
            ]
        ),
    )
    found = {(p.line, p.message) for p in check_spec(path)}
    assert (2, "unknown key 'captoin'; did you mean 'caption'?") in found
    assert (3, "hashtag 'CRC' must be # followed by letters, digits or _") in found
    assert (4, "logo missing.png: not found") in found
    assert (5, "direction must be ltr, rtl or auto, not 'up'") in found
    assert (8, "colors.background: '#12345' is not a colour (use #rrggbb)") in found
    assert (9, "unknown key 'colors.accnet'; did you mean 'accent'?") in found
    assert (12, "font fonts/Nope.ttf: not found (ship OFL fonts in infographics/fonts/)") in found
    assert all(str(p).startswith(f"{path}:") for p in check_spec(path))
    with pytest.raises(CampaignError) as info:
        load_spec(path)
    assert len(info.value.problems) == 7


def test_missing_title_bad_toml_and_missing_file(folder: Path) -> None:
    assert [str(p) for p in check_spec(write(folder, 'number = "5"\n'))] == [
        f"{folder / 'card.toml'}:1: title is required (the card's headline)"
    ]
    bad = check_spec(write(folder, 'title = "a"\n\ncaption = \n'))
    assert len(bad) == 1 and bad[0].line == 3 and bad[0].message.startswith("not valid TOML")
    assert check_spec(folder / "nope.toml")[0].message == "infographic spec not found"


def test_default_fonts_must_be_shipped_next_to_the_spec(tmp_path: Path) -> None:
    problems = check_spec(write(tmp_path, 'title = "No fonts here"\n'))
    assert any("NotoSans-Bold.ttf: not found" in p.message for p in problems)


def test_low_contrast_is_a_warning_and_long_text_warns(folder: Path) -> None:
    path = write(folder, 'title = "Hi"\n[colors]\nbackground = "#777777"\nforeground = "#888888"\n')
    problems = check_spec(path)
    assert [p.severity for p in problems] == ["warning"] and "contrast" in problems[0].message and problems[0].line == 4
    long = write(folder, f'title = "{"word " * 400}"\n', "long.toml")
    warnings = check_spec(long)
    assert warnings and all(p.severity == "warning" and "shorten it" in p.message for p in warnings)
    load_spec(long)  # warnings alone do not stop it


def test_alt_text_derived_or_given(folder: Path) -> None:
    path = write(
        folder,
        'title = "Infant mortality down 50% after #CRC"\nnumber = "50%"\ncaption = "Since 1989."\n'
        'hashtags = ["#CRC", "#childrights"]\nsource = "Source: UN IGME"\n',
    )
    assert (
        load_spec(path).alt_text
        == "Infographic: Infant mortality down 50% after #CRC. Since 1989. Source: UN IGME. #childrights"
    )
    assert spec_alt(path) == load_spec(path).alt_text
    given = write(folder, 'title = "T"\nalt = "A chart of things"\n', "given.toml")
    assert load_spec(given).alt_text == "A chart of things"
    assert spec_alt(folder / "missing.toml") is None
    arabic = write(folder, 'title = "حقوق الطفل"\nlang = "ar"\n', "ar.toml")
    spec = load_spec(arabic)
    assert spec.direction == "rtl" and spec.alt_text == "حقوق الطفل."
