"""TOML with line numbers: parse with ``tomllib`` and find the 1-based line of every table and key.

``tomllib`` gives values without positions, so :class:`LineIndex` scans the source once: it follows table headers
(``[campaign]``, ``[[post]]`` counted per array) and records the line of each key defined directly in a table,
skipping multi-line strings and the continuation lines of multi-line arrays. Positions are keyed by a path such as
``("post", 2, "at")`` (the third ``[[post]]``'s ``at``) or ``("campaign",)`` for a table header.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

__all__ = ["LineIndex", "TomlSyntaxError", "parse_toml"]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*(\]\]?)\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.\-" ']+?)\s*=""")
_TOMLLIB_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOMLLIB_EOF = re.compile(r"\s*\(at end of document\)\s*$")

Path_ = tuple[str | int, ...]


class TomlSyntaxError(ValueError):
    """Broken TOML: ``line`` is 1-based; ``message`` is tomllib's reason without the position."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")


def parse_toml(source: str) -> dict[str, Any]:
    """``tomllib.loads`` whose errors carry the line as :class:`TomlSyntaxError`."""
    try:
        return tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        line = source.count("\n") + 1
        pos = _TOMLLIB_POS.search(text)
        if pos:
            line = int(pos.group(1))
            text = _TOMLLIB_POS.sub(f" (column {pos.group(2)})", text)
        else:
            text = _TOMLLIB_EOF.sub(" (at end of file)", text)
        raise TomlSyntaxError(line, f"invalid TOML: {text}") from None


def _key_name(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    return raw


def _bracket_delta(line: str) -> tuple[int, str | None]:
    """Net change of [ ] { } nesting on a line outside strings/comments, and an opened multi-line string (if any)."""
    depth = 0
    i = 0
    while i < len(line):
        c = line[i]
        if c == "#":
            break
        if line.startswith('"""', i) or line.startswith("'''", i):
            quote = line[i : i + 3]
            close = line.find(quote, i + 3)
            if close < 0:
                return depth, quote
            i = close + 3
            continue
        if c in "\"'":
            j = i + 1
            while j < len(line) and line[j] != c:
                j += 2 if (c == '"' and line[j] == "\\") else 1
            i = j + 1
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        i += 1
    return depth, None


class LineIndex:
    """Lines of tables and keys in one TOML source."""

    def __init__(self, source: str) -> None:
        self.lines: dict[Path_, int] = {}
        counts: dict[str, int] = {}
        table: Path_ = ()
        depth = 0
        in_string: str | None = None
        for number, line in enumerate(source.splitlines(), start=1):
            if in_string:
                close = line.find(in_string)
                if close >= 0:
                    change, in_string = _bracket_delta(line[close + 3 :])
                    depth = max(depth + change, 0)
                continue
            if depth > 0:
                change, in_string = _bracket_delta(line)
                depth = max(depth + change, 0)
                continue
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                name = header.group(2).strip()
                if header.group(1) == "[[":
                    index = counts.get(name, 0)
                    counts[name] = index + 1
                    table = (*_split(name), index)
                else:
                    table = tuple(_split(name))
                self.lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                path = (*table, *_split(key.group(1)))
                self.lines.setdefault(path, number)
                change, in_string = _bracket_delta(line[key.end() :])
                depth = max(change, 0)

    def line(self, *path: str | int, default: int = 1) -> int:
        """The line of ``path``, or of its nearest recorded ancestor, or ``default``."""
        probe: Path_ = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return default


def _split(dotted: str) -> list[str]:
    parts = re.findall(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[^.]+', dotted)
    return [_key_name(p) for p in parts if p.strip()]
