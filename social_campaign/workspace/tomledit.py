"""Edits of ``schedule.toml`` that keep everything they do not change: comments, key order, blank lines, quoting.

The functions work on a tomlkit document (``parse``/``dump``) and change one ``[[post]]`` (found by ``id``) or the
``[pledge]`` table. A replaced value keeps its key's place and the comment after it (``# ...`` on the same line). A
post's ``at`` is written as the file wrote it: a local date-time stays local (the campaign's zone applies), a
date-time with an offset gets the zone's offset at the new time; a time that falls in a DST gap or fold is written
local, so ``check`` reports it at the ``at`` field, unless the caller chose one of a fold's two instants (``fold``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import tomlkit
from tomlkit.items import AoT, Item, Table
from tomlkit.toml_document import TOMLDocument

from social_campaign.campaign.times import LocalTimeError, localize
from social_campaign.errors import NotFound

__all__ = [
    "add_post",
    "delete_post",
    "dump",
    "duplicate_post",
    "find_post",
    "parse",
    "post_ids",
    "set_at",
    "set_channels",
    "set_lang",
    "set_media",
    "set_message",
    "set_pledge",
    "set_value",
]


def parse(text: str) -> TOMLDocument:
    return tomlkit.parse(text)


def dump(doc: TOMLDocument) -> str:
    return tomlkit.dumps(doc)


def _posts(doc: TOMLDocument) -> AoT | None:
    raw = doc.get("post")
    return raw if isinstance(raw, AoT) else None


def post_ids(doc: TOMLDocument) -> list[str]:
    posts = _posts(doc)
    return [str(t.get("id", "")) for t in posts] if posts is not None else []


def find_post(doc: TOMLDocument, post_id: str) -> Table:
    """The ``[[post]]`` table with ``id = post_id``; :class:`NotFound` when there is none."""
    posts = _posts(doc)
    for table in posts if posts is not None else []:
        if str(table.get("id", "")) == post_id:
            found: Table = table
            return found
    raise NotFound(f"no post {post_id!r}")


def set_value(table: Table, key: str, value: Any) -> None:
    """Set ``key`` in ``table`` keeping its place and its trailing comment; a new key goes last; ``None`` removes."""
    if value is None:
        if key in table:
            del table[key]
        return
    new: Item = value if isinstance(value, Item) else tomlkit.item(value)
    old = table.get(key)
    if isinstance(old, Item):
        if isinstance(old, tomlkit.items.Array) and isinstance(new, tomlkit.items.Array) and "\n" in old.as_string():
            new.multiline(True)
        if isinstance(old, tomlkit.items.String) and isinstance(new, tomlkit.items.String):
            if old.type != new.type and "\n" not in str(value) and "'" not in str(value):
                new = tomlkit.items.String.from_raw(str(value), old.type)
        new.trivia.comment_ws = old.trivia.comment_ws
        new.trivia.comment = old.trivia.comment
        new.trivia.trail = old.trivia.trail
        if old == new and old.as_string() == new.as_string():
            return
    table[key] = new


def _array(values: Sequence[str]) -> tomlkit.items.Array:
    arr = tomlkit.array()
    arr.extend(values)
    return arr


def set_at(doc: TOMLDocument, post_id: str, at: datetime, tz: ZoneInfo, *, fold: int | None = None) -> None:
    """``at`` of a post: ``at`` is a wall-clock time in ``tz`` (naive) or an instant (aware)."""
    table = find_post(doc, post_id)
    old = table.get("at")
    had_offset = isinstance(old, datetime) and old.tzinfo is not None
    value = at
    if at.tzinfo is None and fold is not None:
        value = at.replace(tzinfo=tz, fold=fold)
        value = value.replace(tzinfo=value.tzinfo and _fixed(value))
    elif at.tzinfo is None and had_offset:
        try:
            value = localize(at, tz)
            value = value.replace(tzinfo=_fixed(value))
        except LocalTimeError:
            value = at  # written local: check reports the gap or fold at the field
    elif at.tzinfo is not None and not had_offset:
        local = at.astimezone(tz)
        value = local.replace(tzinfo=None) if _unambiguous(local.replace(tzinfo=None), tz) else at
    set_value(table, "at", value)


def _fixed(value: datetime) -> Any:
    from datetime import timezone

    offset = value.utcoffset()
    return timezone(offset) if offset is not None else None


def _unambiguous(naive: datetime, tz: ZoneInfo) -> bool:
    try:
        localize(naive, tz)
    except LocalTimeError:
        return False
    return True


def set_channels(doc: TOMLDocument, post_id: str, channels: Sequence[str]) -> None:
    set_value(find_post(doc, post_id), "channels", _array(list(channels)))


def set_message(doc: TOMLDocument, post_id: str, message: str) -> None:
    set_value(find_post(doc, post_id), "message", message)


def set_lang(doc: TOMLDocument, post_id: str, lang: str | None) -> None:
    set_value(find_post(doc, post_id), "lang", lang)


def set_media(doc: TOMLDocument, post_id: str, items: Sequence[tuple[str, str | None]]) -> None:
    """``media`` (paths) and ``alt`` (one text per item, ``""`` where a card spec's own alt applies) of a post."""
    table = find_post(doc, post_id)
    alts = [alt or "" for _path, alt in items]
    while alts and not alts[-1]:
        alts.pop()
    set_value(table, "media", _array([path for path, _alt in items]) if items else None)
    set_value(table, "alt", _array(alts) if alts else None)


def set_pledge(doc: TOMLDocument, key: str, value: Any) -> None:
    """One key of ``[pledge]`` (``None`` removes it); :class:`NotFound` when the file has no ``[pledge]``."""
    table = doc.get("pledge")
    if not isinstance(table, Table):
        raise NotFound("no [pledge] table")
    if isinstance(value, (list, tuple)):
        value = _array([str(v) for v in value])
    set_value(table, key, value)


def _fresh_id(doc: TOMLDocument, base: str) -> str:
    taken = set(post_ids(doc))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def add_post(doc: TOMLDocument, post_id: str, at: datetime, channels: Sequence[str], message: str) -> str:
    """Append a ``[[post]]`` after the last one (id made unique with ``-2``, ``-3``...); the id used."""
    post_id = _fresh_id(doc, post_id)
    table = tomlkit.table()
    table.add("id", post_id)
    table.add("at", at)
    table.add("channels", _array(list(channels)))
    table.add("message", message)
    posts = _posts(doc)
    if posts is not None and len(posts) and posts[-1].as_string().endswith("\n\n"):
        table.add(tomlkit.nl())  # the blank line the other posts end with
    if posts is None:
        posts = tomlkit.aot()
        posts.append(table)
        doc.append("post", posts)
    else:
        posts.append(table)
    return post_id


def duplicate_post(doc: TOMLDocument, post_id: str) -> str:
    """A copy of a post appended after the last one, with id ``<id>-copy`` (``-copy-2``...); the new id."""
    source = find_post(doc, post_id)
    new_id = _fresh_id(doc, f"{post_id}-copy")
    clone = tomlkit.parse("[[post]]\n" + source.as_string())["post"][0]
    set_value(clone, "id", new_id)
    posts = _posts(doc)
    assert posts is not None  # find_post found one
    posts.append(copy.copy(clone))
    return new_id


def delete_post(doc: TOMLDocument, post_id: str) -> None:
    """Remove a post (its table and the comments inside it)."""
    posts = _posts(doc)
    find_post(doc, post_id)
    assert posts is not None
    for i, table in enumerate(posts):
        if str(table.get("id", "")) == post_id:
            del posts[i]
            return


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_ID = re.compile(r"""^\s*id\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')""")


class Segments:
    """``schedule.toml`` cut at its table headers, so one ``[[post]]`` can be edited with tomlkit alone.

    tomlkit parses a 1,000-post file in about a second; a save edits one post. :meth:`post` parses only the lines of
    that post (its ``[[post]]`` header up to the next table header) into a tomlkit document holding just it, which
    every function above accepts (``set_at(segments.post(pid), pid, …)``); :meth:`dump` puts the edited posts back
    between the untouched lines, byte for byte. :meth:`append_post`, :meth:`duplicate` and :meth:`delete` work on
    whole segments."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        self.starts: list[int] = []  # line index of every table header, in order
        self.posts: list[tuple[int, str]] = []  # (index into starts, id) of each [[post]]
        self._docs: dict[int, TOMLDocument] = {}
        self._scan()

    def _scan(self) -> None:
        quote: str | None = None
        for n, line in enumerate(self.lines):
            if quote is not None:
                if line.count(quote) % 2 == 1:
                    quote = None
                continue
            for mark in ('"""', "'''"):
                if line.split("#", 1)[0].count(mark) % 2 == 1:
                    quote = mark
            found = _HEADER.match(line) if quote is None else None
            if found:
                self.starts.append(n)
                if found.group(1) == "[[" and found.group(2).strip() == "post":
                    self.posts.append((len(self.starts) - 1, ""))
        for k, (start, _id) in enumerate(self.posts):
            self.posts[k] = (start, self._id_of(start))

    def _range(self, start: int) -> tuple[int, int]:
        first = self.starts[start]
        end = self.starts[start + 1] if start + 1 < len(self.starts) else len(self.lines)
        return first, end

    def _id_of(self, start: int) -> str:
        first, end = self._range(start)
        for line in self.lines[first + 1 : end]:
            found = _ID.match(line)
            if found:
                return found.group(1) if found.group(1) is not None else found.group(2)
        return ""

    def _start_of(self, post_id: str) -> int:
        for start, pid in self.posts:
            if pid == post_id:
                return start
        raise NotFound(f"no post {post_id!r}")

    def post_ids(self) -> list[str]:
        return [pid for _start, pid in self.posts]

    def post(self, post_id: str) -> TOMLDocument:
        """A tomlkit document of the one post ``post_id`` (edits to it are kept for :meth:`dump`)."""
        start = self._start_of(post_id)
        if start not in self._docs:
            first, end = self._range(start)
            self._docs[start] = tomlkit.parse("".join(self.lines[first:end]))
        return self._docs[start]

    def dump(self) -> str:
        out: list[str] = []
        done = 0
        for start in sorted(self._docs):
            first, end = self._range(start)
            out.extend(self.lines[done:first])
            out.append(tomlkit.dumps(self._docs[start]))
            done = end
        out.extend(self.lines[done:])
        return "".join(out)

    def _insert_after_posts(self, text: str) -> None:
        """Put ``text`` (whole lines) right after the last post's segment; re-scan."""
        current = self.dump()
        self.__init__(current)  # type: ignore[misc]
        if not self.posts:
            self.lines.append(("\n" if current and not current.endswith("\n\n") else "") + text)
        else:
            _first, end = self._range(self.posts[-1][0])
            before = "".join(self.lines[:end])
            gap = "" if before.endswith("\n\n") else ("\n" if before.endswith("\n") else "\n\n")
            tail = "\n" if end < len(self.lines) and before.endswith("\n\n") else ""
            self.lines[end:end] = [gap + text.rstrip("\n") + "\n" + tail]
        self.__init__("".join(self.lines))  # type: ignore[misc]

    def append_post(self, post_id: str, at: datetime, channels: Sequence[str], message: str) -> str:
        """A new ``[[post]]`` after the last one (id made unique with ``-2``, ``-3``...); the id used."""
        taken = set(self.post_ids())
        new_id, n = post_id, 2
        while new_id in taken:
            new_id, n = f"{post_id}-{n}", n + 1
        doc = tomlkit.document()
        doc.append("post", tomlkit.aot())
        add_post(doc, new_id, at, channels, message)
        self._insert_after_posts(tomlkit.dumps(doc).lstrip("\n"))
        return new_id

    def duplicate(self, post_id: str) -> str:
        """A copy of a post after the last one, id ``<id>-copy`` (``-copy-2``...); the new id."""
        doc = self.post(post_id)
        taken = set(self.post_ids())
        new_id, n = f"{post_id}-copy", 2
        while new_id in taken:
            new_id, n = f"{post_id}-copy-{n}", n + 1
        copy_doc = tomlkit.parse(tomlkit.dumps(doc))
        set_value(find_post(copy_doc, post_id), "id", new_id)
        self._insert_after_posts(tomlkit.dumps(copy_doc).rstrip("\n") + "\n")
        return new_id

    def delete(self, post_id: str) -> None:
        """Remove a post's lines; comment lines right above the next table stay with it."""
        current = self.dump()
        self.__init__(current)  # type: ignore[misc]
        first, end = self._range(self._start_of(post_id))
        keep = end
        while keep > first + 1 and self.lines[keep - 1].lstrip().startswith("#"):
            keep -= 1
        del self.lines[first:keep]
        self.__init__("".join(self.lines))  # type: ignore[misc]
