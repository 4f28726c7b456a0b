"""A unified diff as rows a page can show accessibly (``templates/_diff.html``).

:func:`parse` reads the unified diff text that ``workspace/save.py`` stores with each revision (and puts on a 409
:class:`~social_campaign.errors.Conflict`) into one :class:`DiffFile` per file, each a list of :class:`DiffLine` with
its kind (``add``, ``del``, ``ctx``, ``hunk``) and its old and new line numbers. The partial shows the kind as a
``+``/``-`` sign *and* a word for screen readers, never by colour alone. :func:`unified` makes such a diff from two
snapshots (``{relative path: text}``), as save.py does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["DiffFile", "DiffLine", "parse"]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_NULL = "/dev/null"


@dataclass(frozen=True)
class DiffLine:
    """One row: ``kind`` is ``add``, ``del``, ``ctx`` (unchanged) or ``hunk`` (an ``@@`` header)."""

    kind: str
    text: str
    old: int | None = None
    new: int | None = None


@dataclass
class DiffFile:
    """The changes to one file; ``old_path``/``new_path`` are ``""`` for a file added/deleted."""

    old_path: str
    new_path: str
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.new_path or self.old_path

    @property
    def status(self) -> str:
        """``added``, ``deleted`` or ``changed``."""
        if not self.old_path:
            return "added"
        if not self.new_path:
            return "deleted"
        return "changed"

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.kind == "add")

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.kind == "del")


def _path(header: str) -> str:
    name = header[4:].split("\t", 1)[0].strip()
    if name == _NULL:
        return ""
    return name[2:] if name.startswith(("a/", "b/")) else name


def parse(diff: str) -> list[DiffFile]:
    """The files of unified ``diff`` text, in order; text outside any file (``diff --git`` lines) is skipped."""
    files: list[DiffFile] = []
    current: DiffFile | None = None
    old = new = 0
    left = 0  # lines of the current hunk still to come (old + new side): "--- " inside a hunk is a deleted line
    lines = diff.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if left <= 0 and line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            current = DiffFile(_path(line), _path(lines[i + 1]))
            files.append(current)
            i += 2
            continue
        i += 1
        if current is None:
            continue
        hunk = _HUNK.match(line)
        if hunk:
            old, new = int(hunk.group(1)), int(hunk.group(3))
            left = int(hunk.group(2) or 1) + int(hunk.group(4) or 1)
            current.lines.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            current.lines.append(DiffLine("add", line[1:], None, new))
            new += 1
            left -= 1
        elif line.startswith("-"):
            current.lines.append(DiffLine("del", line[1:], old, None))
            old += 1
            left -= 1
        elif line.startswith(" ") or line == "":
            current.lines.append(DiffLine("ctx", line[1:], old, new))
            old += 1
            new += 1
            left -= 2
        # "\ No newline at end of file" and anything else: not a line of either file
    return files

