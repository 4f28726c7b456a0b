"""Build small campaigns in a temporary folder for the check tests."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from social_campaign.errors import Problem

HEAD = """[campaign]
slug = "test-campaign"
name = "Test campaign"
timezone = "America/New_York"
hashtags = ["#ChildrensDay", "#CRC"]
link = "https://example.org/crc"
"""

POST = """
[[post]]
id = "{id}"
at = {at}
channels = ["x", "facebook"]
message = "{message}"
"""


def write_png(path: Path, size: tuple[int, int] = (120, 80), mode: str = "RGB") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, (10, 20, 30) if mode == "RGB" else (10, 20, 30, 255)).save(path)
    return path


def make_campaign(root: Path, body: str, messages: dict[str, str] | None = None, head: str = HEAD) -> Path:
    """schedule.toml = ``head + body``; ``messages`` maps file names in messages/ to their text."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "messages").mkdir(exist_ok=True)
    for name, text in (messages or {}).items():
        (root / "messages" / name).write_text(text, encoding="utf-8")
    path = root / "schedule.toml"
    path.write_text(head + body, encoding="utf-8")
    return path


def post(id: str = "one", at: str = "2027-11-18T10:00:00", message: str = "hello") -> str:
    return POST.format(id=id, at=at, message=message)


def errors(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems if p.severity == "error"]


def warnings(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems if p.severity == "warning"]


def line_of(path: Path, fragment: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``fragment``."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if fragment in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{fragment!r} not in {path}")
