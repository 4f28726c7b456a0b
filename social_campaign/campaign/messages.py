"""Message files: ``messages/<name>.md`` with per-channel overrides and supporter variants, and their placeholders.

- ``messages/<name>.md`` is the text of message ``name``; ``messages/<name>.<channel>.md`` replaces it on that channel.
- Variants for supporters: ``<name>.md`` then ``<name>.v2.md``, ``<name>.v3.md`` … in number order.
- Placeholders: ``{link}`` (the campaign's link) and ``{hashtags}`` (its hashtags joined by spaces). ``{{`` and ``}}``
  are literal braces. Anything else in braces is an error reported with the message file's line.
- Line endings are normalised to ``\\n`` and trailing newlines are stripped.
- These names are the default language's; a campaign's other languages (``messages/<name>.<lang>.md`` …) are looked
  up through ``campaign/languages.py``, which the loader uses for every language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PLACEHOLDERS", "RenderProblem", "channel_file", "read_message", "render", "variant_files"]

PLACEHOLDERS = ("link", "hashtags")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}|[{}]")
_VARIANT = re.compile(r"^(?P<name>.+)\.v(?P<n>[0-9]+)\.md$")


@dataclass(frozen=True)
class RenderProblem:
    line: int
    message: str


def read_message(path: Path) -> str:
    """The file's text with ``\\n`` line endings and no trailing newline. Raises ``OSError``/``UnicodeDecodeError``."""
    text = path.read_text(encoding="utf-8")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip("\n")


def render(template: str, values: dict[str, str | None]) -> tuple[str, list[RenderProblem]]:
    """Fill ``{link}``/``{hashtags}`` from ``values``; problems name the template's 1-based line."""
    problems: list[RenderProblem] = []
    out: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(template):
        out.append(template[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        line = template.count("\n", 0, match.start()) + 1
        if token == "{{":
            out.append("{")
        elif token == "}}":
            out.append("}")
        elif match.group(1) is not None:
            name = match.group(1).strip()
            if name not in values:
                known = ", ".join("{" + k + "}" for k in values)
                problems.append(
                    RenderProblem(
                        line, f"unknown placeholder {token} (known: {known}; write {{{{ }}}} for literal braces)"
                    )
                )
                out.append(token)
            elif values[name] is None:
                problems.append(RenderProblem(line, f"{token} is used but [campaign] has no {name}"))
            else:
                out.append(values[name] or "")
        else:
            problems.append(RenderProblem(line, f"lone '{token}' (write {token}{token} for a literal brace)"))
            out.append(token)
    out.append(template[pos:])
    return "".join(out), problems


def channel_file(messages_dir: Path, name: str, channel: str) -> Path | None:
    """The file that gives message ``name`` on ``channel``: the override if present, else the base file, else None."""
    for candidate in (messages_dir / f"{name}.{channel}.md", messages_dir / f"{name}.md"):
        if candidate.is_file():
            return candidate
    return None


def variant_files(messages_dir: Path, name: str) -> list[Path]:
    """``<name>.md`` (if present) then ``<name>.vN.md`` in number order."""
    found: list[tuple[int, Path]] = []
    base = messages_dir / f"{name}.md"
    if base.is_file():
        found.append((1, base))
    if messages_dir.is_dir():
        for path in messages_dir.iterdir():
            match = _VARIANT.match(path.name)
            if match and match.group("name") == name and path.is_file() and int(match.group("n")) >= 2:
                found.append((int(match.group("n")), path))
    return [p for _, p in sorted(found)]
