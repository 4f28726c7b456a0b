"""Versions and revisions of a campaign's files.

``version_of(root)`` is the content hash the edit forms carry (hidden ``version``): sha256 over every text file of the
campaign folder (``schedule.toml``, ``messages/*.md``, ``infographics/*.toml``) and the bytes of the media files
``schedule.toml`` references, sorted by relative path, so any change on disk (a hand edit, a ``git pull``) changes it.
``snapshot(root)`` is the text files themselves; each :class:`WorkspaceRevision` keeps one, so any version a form was
loaded from can be diffed against the files now. ``ensure_baseline`` records the files on disk as a revision (author
``disk``) when their version has none yet: call it before showing a form.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from social_campaign.campaign.model import Campaign
from social_campaign.db import session_scope
from social_campaign.models.workspace import WorkspaceRevision

__all__ = [
    "DISK_AUTHOR",
    "diff_snapshots",
    "ensure_baseline",
    "files_of",
    "get",
    "history",
    "latest",
    "media_paths",
    "next_number",
    "snapshot",
    "text_paths",
    "version_of",
]

DISK_AUTHOR = "disk"
_TEXT_GLOBS = (("messages", "*.md"), ("infographics", "*.toml"))
_digests: dict[tuple[str, int, int], bytes] = {}
_references: dict[tuple[str, str], set[str]] = {}  # (folder, sha256 of schedule.toml) -> media it references  # (path, size, mtime_ns) -> sha256 of a media file's bytes


def text_paths(root: Path) -> list[str]:
    """The campaign's text files, as sorted relative paths (``/`` separators)."""
    found = ["schedule.toml"] if (root / "schedule.toml").is_file() else []
    for folder, pattern in _TEXT_GLOBS:
        base = root / folder
        if base.is_dir():
            found.extend(f"{folder}/{p.name}" for p in base.glob(pattern) if p.is_file())
    return sorted(found)


def media_paths(root: Path) -> list[str]:
    """Relative paths of the media files ``schedule.toml`` references (post media that are not card specs, the
    badge overlay) and that exist; a file that does not parse references nothing."""
    try:
        raw = (root / "schedule.toml").read_bytes()
    except OSError:
        return []
    key = (str(root), hashlib.sha256(raw).hexdigest())
    names = _references.get(key)
    if names is None:
        names = _referenced(raw)
        if len(_references) > 256:
            _references.clear()
        _references[key] = names
    return sorted(name.replace("\\", "/") for name in names if (root / name).is_file())


def _referenced(raw: bytes) -> set[str]:
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return set()
    names: set[str] = set()
    posts = doc.get("post", [])
    for post in posts if isinstance(posts, list) else []:
        media = post.get("media", []) if isinstance(post, dict) else []
        for item in media if isinstance(media, list) else []:
            if isinstance(item, str) and not item.lower().endswith(".toml"):
                names.add(item)
    badge = doc.get("badge")
    if isinstance(badge, dict) and isinstance(badge.get("overlay"), str):
        names.add(badge["overlay"])
    return names


def _media_digest(path: Path) -> bytes:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    digest = _digests.get(key)
    if digest is None:
        digest = hashlib.sha256(path.read_bytes()).digest()
        if len(_digests) > 4096:
            _digests.clear()
        _digests[key] = digest
    return digest


def version_of(root: Path) -> str:
    """The content hash of the campaign folder ``root`` (64 hex digits)."""
    digest = hashlib.sha256()
    entries = [(rel, False) for rel in text_paths(root)] + [(rel, True) for rel in media_paths(root)]
    for rel, is_media in sorted(entries):
        path = root / rel
        try:
            data = _media_digest(path) if is_media else hashlib.sha256(path.read_bytes()).digest()
        except OSError:
            data = b""
        digest.update(b"\0" + rel.encode() + b"\0" + data)
    return digest.hexdigest()


def snapshot(root: Path) -> dict[str, str]:
    """relative path -> text of every text file of the campaign (undecodable bytes replaced)."""
    out: dict[str, str] = {}
    for rel in text_paths(root):
        try:
            out[rel] = (root / rel).read_bytes().decode("utf-8", errors="replace")
        except OSError:
            continue
    return out


def diff_snapshots(before: dict[str, str], after: dict[str, str]) -> str:
    """A unified diff of two snapshots, file by file in path order (``a/<path>`` → ``b/<path>``)."""
    parts: list[str] = []
    for rel in sorted(set(before) | set(after)):
        old, new = before.get(rel), after.get(rel)
        if old == new:
            continue
        parts.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                fromfile="/dev/null" if old is None else f"a/{rel}",
                tofile="/dev/null" if new is None else f"b/{rel}",
            )
        )
        if parts and not parts[-1].endswith("\n"):
            parts[-1] += "\n"
    return "".join(parts)


def files_of(revision: WorkspaceRevision) -> dict[str, str]:
    """The snapshot a revision keeps."""
    data: Any = json.loads(revision.files)
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def history(engine: Engine, slug: str) -> list[WorkspaceRevision]:
    """Every revision of campaign ``slug``, newest first."""
    with Session(engine) as session:
        query = select(WorkspaceRevision).where(WorkspaceRevision.campaign == slug)
        return list(session.exec(query.order_by(col(WorkspaceRevision.number).desc())).all())


def get(engine: Engine, slug: str, number: int) -> WorkspaceRevision | None:
    """Revision ``number`` of ``slug``, or ``None``."""
    with Session(engine) as session:
        query = select(WorkspaceRevision).where(
            WorkspaceRevision.campaign == slug, WorkspaceRevision.number == number
        )
        return session.exec(query).first()


def latest(session: Session, slug: str, version: str | None = None) -> WorkspaceRevision | None:
    """The newest revision of ``slug`` (with ``version``, the newest one of that version)."""
    query = select(WorkspaceRevision).where(WorkspaceRevision.campaign == slug)
    if version is not None:
        query = query.where(WorkspaceRevision.version == version)
    return session.exec(query.order_by(col(WorkspaceRevision.number).desc()).limit(1)).first()


def next_number(session: Session, slug: str) -> int:
    last = latest(session, slug)
    return 1 if last is None else last.number + 1


def ensure_baseline(engine: Engine, campaign: Campaign, *, version: str | None = None) -> WorkspaceRevision:
    """The revision of the files on disk now; recorded (author ``disk``) when their version has no row yet.
    ``version``: the files' version when the caller has just computed it."""
    root = campaign.root
    version = version or version_of(root)
    with session_scope(engine) as session:
        found = latest(session, campaign.slug, version)
        if found is not None:
            return found
        files = snapshot(root)
        previous = latest(session, campaign.slug)
        before = files_of(previous) if previous is not None else {}
        revision = WorkspaceRevision(
            campaign=campaign.slug,
            number=1 if previous is None else previous.number + 1,
            version=version,
            parent_version=previous.version if previous is not None else "",
            author=DISK_AUTHOR,
            summary="Files on disk" if previous is None else "Changed on disk",
            files=json.dumps(files, sort_keys=True, ensure_ascii=False),
            diff=diff_snapshots(before, files) if previous is not None else "",
        )
        session.add(revision)
        session.flush()
        return revision
