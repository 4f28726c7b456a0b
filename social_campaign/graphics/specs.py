"""Infographic specs: ``infographics/<name>.toml``, one card each, rendered in every size the networks want.

Format (every key but ``title`` optional; paths are relative to the spec's folder)::

    title = "Infant mortality down 50% after #CRC"     # the headline (bold)
    number = "50%"                                       # a big statistic shown above the title (accent colour)
    caption = "Since the Convention on the Rights of the Child was adopted in 1989."
    hashtags = ["#CRC", "#childrights"]                 # a list or one string
    source = "Source: UNICEF, Levels and Trends in Child Mortality"
    logo = "logo.png"                                    # a PNG, placed in the footer
    alt = "…"                                            # alt text; default: derived from the text above
    lang = "en"                                          # language tag, used for the alt text and layout
    direction = "auto"                                   # ltr | rtl | auto (rtl when the title is Arabic/Hebrew)

    [colors]                                             # #rgb, #rrggbb or CSS colour names
    background = "#0b3d91"
    foreground = "#ffffff"
    accent = "#ffd23f"

    [fonts]                                              # default: fonts/ next to the spec (shipped OFL fonts)
    regular = "fonts/NotoSans-Regular.ttf"
    bold = "fonts/NotoSans-Bold.ttf"
    arabic_regular = "fonts/NotoSansArabic-Regular.ttf"
    arabic_bold = "fonts/NotoSansArabic-Bold.ttf"

:func:`check_spec` returns every problem as ``path:line: message`` (unknown keys with a did-you-mean, wrong types,
bad colours, missing logo or fonts, text that cannot fit at a readable size); :func:`load_spec` raises
:class:`CampaignError` with them. :func:`media_for_channel` renders the size a channel wants, cached by content hash;
:func:`build_all` renders every spec of a folder in every size (``infographics build``). What a card is
(:class:`CardSpec`) and how it is drawn live in ``cards.py``, which knows nothing of spec files.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageColor, ImageFont

from social_campaign.errors import CampaignError, InputError, Problem
from social_campaign.graphics.cards import (
    MAX_ALT,
    RGB,
    TARGETS,
    CardSpec,
    encode_card,
    fit_report,
    render_cached,
    render_card,
)
from social_campaign.graphics.files import write_atomic

TOP_KEYS = ("title", "number", "caption", "hashtags", "source", "logo", "alt", "lang", "direction", "colors", "fonts")
COLOR_KEYS = ("background", "foreground", "accent")
FONT_KEYS = ("regular", "bold", "arabic_regular", "arabic_bold")
DEFAULT_COLORS = {"background": "#0b3d91", "foreground": "#ffffff", "accent": "#ffd23f"}
DEFAULT_FONTS = {
    "regular": "fonts/NotoSans-Regular.ttf",
    "bold": "fonts/NotoSans-Bold.ttf",
    "arabic_regular": "fonts/NotoSansArabic-Regular.ttf",
    "arabic_bold": "fonts/NotoSansArabic-Bold.ttf",
}
MAX_LOGO_BYTES = 5 * 1024 * 1024
RTL_RE = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def load_spec(path: Path) -> CardSpec:
    """The spec at ``path``; :class:`CampaignError` holding every problem when it has errors."""
    problems, spec = _read(Path(path))
    errors = [p for p in problems if p.severity == "error"]
    if errors or spec is None:
        raise CampaignError(errors or [Problem(str(path), 1, "spec could not be read")])
    return spec


def check_spec(path: Path) -> list[Problem]:
    """Every problem of the spec at ``path`` (errors and warnings), each as ``path:line: message``."""
    problems, spec = _read(Path(path))
    if spec is not None and not any(p.severity == "error" for p in problems):
        for target, (w, h) in TARGETS.items():
            for what, size in fit_report(spec, (w, h)):
                problems.append(
                    Problem(
                        str(path),
                        _line_of(path, "", what),
                        f"{what} only fits the {target} card ({w}x{h}) at {size} px; shorten it",
                        "warning",
                    )
                )
    return problems


def spec_alt(path: Path) -> str | None:
    """The alt text of the spec at ``path`` (given or derived), or ``None`` when it does not load."""
    _problems, spec = _read(Path(path))
    return spec.alt_text if spec is not None else None


def media_for_channel(spec_path: Path, channel: str, out_dir: Path) -> tuple[Path, str]:
    """Render ``spec_path`` at the size ``channel`` wants into ``out_dir`` (cached by content hash): (png, alt)."""
    return render_cached(load_spec(spec_path), CHANNEL_TARGETS.get(channel, "x"), out_dir)


#: Which card size each channel gets (others: the X size).
CHANNEL_TARGETS = {"x": "x", "facebook": "facebook", "outbox": "x", "mastodon": "x", "bluesky": "x"}


@dataclass(frozen=True)
class BuiltCard:
    spec: Path
    target: str
    width: int
    height: int
    path: Path
    alt: str


def build_all(folder: Path, out_dir: Path) -> list[BuiltCard]:
    """Render every ``folder/*.toml`` for every target into ``out_dir/<spec>-<target>.png`` plus ``index.json``.

    Every spec is checked first; any error stops the build before a file is written (:class:`CampaignError`).
    """
    specs = sorted(folder.glob("*.toml"))
    if not specs:
        raise InputError(f"{folder}: no infographic specs (*.toml)")
    problems: list[Problem] = []
    for path in specs:
        problems += [p for p in check_spec(path) if p.severity == "error"]
    if problems:
        raise CampaignError(problems)
    built: list[BuiltCard] = []
    for path in specs:
        spec = load_spec(path)
        for target, (w, h) in TARGETS.items():
            out = write_atomic(out_dir / f"{spec.name}-{target}.png", encode_card(render_card(spec, target)))
            built.append(BuiltCard(path, target, w, h, out, spec.alt_text))
    index = [
        {
            "file": b.path.name,
            "spec": b.spec.name,
            "target": b.target,
            "width": b.width,
            "height": b.height,
            "alt": b.alt,
        }
        for b in built
    ]
    write_atomic(out_dir / "index.json", (json.dumps(index, indent=2, ensure_ascii=False) + "\n").encode())
    return built


# --- reading -------------------------------------------------------------------------------------------------------


def _read(path: Path) -> tuple[list[Problem], CardSpec | None]:
    where = str(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [Problem(where, 1, "infographic spec not found")], None
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(where, 1, f"cannot read infographic spec: {exc}")], None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        return [Problem(where, int(m.group(1)) if m else 1, f"not valid TOML: {str(exc).split(' (at')[0]}")], None
    lines = raw.splitlines()
    problems: list[Problem] = []

    def problem(table: str, key: str, message: str, severity: str = "error") -> None:
        problems.append(Problem(where, _find_line(lines, table, key), message, severity))

    _unknown(data, TOP_KEYS, "", problem)
    text: dict[str, str] = {}
    for key in ("title", "number", "caption", "source", "alt", "lang"):
        value = data.get(key, "")
        if isinstance(value, int | float) and not isinstance(value, bool) and key == "number":
            value = str(value)
        if not isinstance(value, str):
            problem("", key, f"{key} must be a string")
            value = ""
        text[key] = value.strip()
    if not text["title"]:
        problem("", "title", "title is required (the card's headline)")
    if len(text["alt"]) > MAX_ALT:
        problem("", "alt", f"alt is {len(text['alt'])} characters; the limit is {MAX_ALT}")
    hashtags = data.get("hashtags", [])
    if isinstance(hashtags, str):
        hashtags = hashtags.split()
    if not isinstance(hashtags, list) or not all(isinstance(t, str) for t in hashtags):
        problem("", "hashtags", 'hashtags must be a list of strings like ["#CRC"]')
        hashtags = []
    for tag in hashtags:
        if not re.fullmatch(r"#\w+", tag):
            problem("", "hashtags", f"hashtag {tag!r} must be # followed by letters, digits or _")
    direction = data.get("direction", "auto")
    if direction not in ("ltr", "rtl", "auto"):
        problem("", "direction", f"direction must be ltr, rtl or auto, not {direction!r}")
        direction = "auto"
    if direction == "auto":
        direction = "rtl" if RTL_RE.search(text["title"] or text["caption"]) else "ltr"

    colors = _table(data, "colors", COLOR_KEYS, problem)
    rgb: dict[str, RGB] = {}
    for key in COLOR_KEYS:
        value = colors.get(key, DEFAULT_COLORS[key])
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            r, g, b = ImageColor.getrgb(value)[:3]
            rgb[key] = (r, g, b)
        except ValueError:
            problem("colors", key, f"colors.{key}: {value!r} is not a colour (use #rrggbb)")
            r, g, b = ImageColor.getrgb(DEFAULT_COLORS[key])[:3]
            rgb[key] = (r, g, b)
    if "background" in colors and "foreground" in colors and _contrast(rgb["foreground"], rgb["background"]) < 4.5:
        ratio = _contrast(rgb["foreground"], rgb["background"])
        problem(
            "colors",
            "foreground",
            f"foreground on background has contrast {ratio:.1f}:1; aim for at least 4.5:1",
            "warning",
        )

    fonts_table = _table(data, "fonts", FONT_KEYS, problem)
    fonts: dict[str, Path] = {}
    for key in FONT_KEYS:
        value = fonts_table.get(key, DEFAULT_FONTS[key])
        font_path = path.parent / value if isinstance(value, str) else None
        if font_path is None:
            problem("fonts", key, f"fonts.{key} must be a path")
            continue
        fonts[key] = font_path.resolve()
        message = _check_font(font_path)
        if message:
            problem("fonts", key, f"font {value}: {message}")

    logo: Path | None = None
    if "logo" in data:
        if not isinstance(data["logo"], str):
            problem("", "logo", "logo must be a path to a PNG")
        else:
            logo = (path.parent / data["logo"]).resolve()
            message = _check_logo(logo)
            if message:
                problem("", "logo", f"logo {data['logo']}: {message}")

    if any(p.severity == "error" for p in problems):
        return problems, None
    spec = CardSpec(
        path=path.resolve(),
        title=text["title"],
        number=text["number"],
        caption=text["caption"],
        hashtags=tuple(hashtags),
        source=text["source"],
        background=rgb["background"],
        foreground=rgb["foreground"],
        accent=rgb["accent"],
        logo=logo,
        alt=text["alt"] or None,
        lang=text["lang"] or "en",
        direction=direction,
        fonts=fonts,
    )
    return problems, spec


def _unknown(table: dict[str, Any], known: tuple[str, ...], name: str, problem: Any) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
            problem(name, key, f"unknown key {(name + '.' if name else '') + key!r}{hint}")


def _table(data: dict[str, Any], name: str, known: tuple[str, ...], problem: Any) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        problem("", name, f"{name} must be a table ([{name}])")
        return {}
    _unknown(value, known, name, problem)
    return value


def _check_font(path: Path) -> str | None:
    if not path.is_file():
        return "not found (ship OFL fonts in infographics/fonts/)"
    try:
        ImageFont.truetype(str(path), 12)
    except OSError as exc:
        return f"not a usable font ({exc})"
    return None


def _check_logo(path: Path) -> str | None:
    if not path.is_file():
        return "not found"
    if path.stat().st_size > MAX_LOGO_BYTES:
        return "is over 5 MB"
    try:
        with Image.open(path, formats=["PNG"]) as im:
            if im.width * im.height > 16_000_000:
                return "is over 16 megapixels"
            im.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return f"not a readable PNG ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    return None


def _contrast(a: RGB, b: RGB) -> float:
    def lum(c: RGB) -> float:
        ch = [v / 255 for v in c]
        ch = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in ch]
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _find_line(lines: list[str], table: str, key: str) -> int:
    """The 1-based line where ``key`` is set inside ``[table]`` ("" = top level); the table header, else 1."""
    current = ""
    header_line = 0
    key_re = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    for number, line in enumerate(lines, 1):
        m = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if m:
            current = m.group(1)
            if current == key and table == "":
                return number
            if current == table:
                header_line = number
            continue
        if current == table and key_re.match(line):
            return number
    return header_line or 1


def _line_of(path: Path, table: str, key: str) -> int:
    try:
        return _find_line(path.read_text(encoding="utf-8").splitlines(), table, key)
    except OSError:
        return 1
