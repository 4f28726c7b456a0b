"""THE write pipeline of the workspace: every change made in the browser goes through :func:`save_files`.

1. Stale? ``version_of(root) != version`` → :class:`Conflict` with the diff from the form's version to the files
   now. Nothing is written.
2. Stage: the campaign's files are copied (hard links where possible) into a temp folder next to the campaign
   folder (so ``../`` paths resolve the same), the changes applied there, and the same ``check`` as the command line
   runs on the copy. Any error → :class:`CampaignError` (problems named by path relative to the campaign folder).
   Nothing is written.
3. Write, holding the campaign's lock (a threading lock and ``fcntl.flock`` on ``<root>/.social-campaign.lock``, so
   two web workers never interleave) and re-checking the version under it. Each file is written atomically: first
   every new content goes to a temp file in its target's folder (fsynced, with the old file's mode), then the temp
   files replace their targets (``os.replace``) in this order: messages and media first, ``schedule.toml`` last, so
   a crash in between never leaves ``schedule.toml`` naming a file not yet written; deletions come after
   ``schedule.toml``, so it never names a deleted file either. A failure before the first replace removes the temp
   files and writes nothing; a failure between two replaces (a full disk cannot cause one: the bytes are already
   written) leaves each file whole, old or new, ``schedule.toml`` still the old one, and no temp file behind.
4. One transaction records the :class:`WorkspaceRevision` (number previous + 1, the snapshot, the diff) and the
   audit entry ``campaign.save`` (details with the diff).
5. A campaign folder inside a git work tree gets a commit of the changed paths with the user as author
   (``workspace/gitcommit.py``); git missing or failing is logged, never fails the save.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy.engine import Engine

from social_campaign import audit
from social_campaign.campaign.check import run_check
from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.errors import BadRequest, CampaignError, Conflict, Problem
from social_campaign.i18n import _
from social_campaign.models.workspace import WorkspaceRevision
from social_campaign.workspace import gitcommit, revisions

__all__ = ["LOCK_NAME", "campaign_lock", "save_files", "stale_diff"]

log = logging.getLogger(__name__)
LOCK_NAME = ".social-campaign.lock"
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()

Changes = dict[str, str | bytes | None]


@contextlib.contextmanager
def campaign_lock(root: Path) -> Iterator[None]:
    """Exclusive: one writer per campaign folder, across threads and processes."""
    key = str(root.resolve())
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock, open(root / LOCK_NAME, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _safe(rel: str) -> str:
    """``rel`` as a normalised relative path inside the campaign folder; :class:`BadRequest` otherwise."""
    path = PurePosixPath(rel.replace("\\", "/"))
    if not rel or path.is_absolute() or ".." in path.parts or path.parts[:1] == (".git",) or str(path) == LOCK_NAME:
        raise BadRequest(_("This file cannot be changed from the workspace."))
    return str(path)


def stale_diff(engine: Engine, slug: str, version: str, root: Path) -> str:
    """The unified diff from the files of ``version`` (its revision) to the files on disk now ("" when unknown)."""
    from sqlmodel import Session

    with Session(engine) as session:
        found = revisions.latest(session, slug, version)
        before = revisions.files_of(found) if found is not None else {}
    return revisions.diff_snapshots(before, revisions.snapshot(root)) if found is not None else ""


def _conflict(engine: Engine, campaign: Campaign, version: str) -> Conflict:
    return Conflict(
        _("The campaign's files changed since this form was loaded. Nothing was saved: reload the page and make "
          "your change again."),
        diff=stale_diff(engine, campaign.slug, version, campaign.root),
    )


def _stage(root: Path, changes: Changes) -> Path:
    """The campaign's files with ``changes`` applied, in a temp folder next to ``root`` (so ``../`` paths resolve the
    same). A folder no change touches is a symlink to the real one, so ``check`` resolves its files (card specs,
    fonts, images) to their real paths and its caches (fonts, text layout, decoded images) keep working; a folder
    with a change is real, its other files hard links (copies where links fail)."""
    stage = Path(tempfile.mkdtemp(prefix=f".{root.name}-stage-", dir=root.parent))
    changed = set(changes)
    tops = {"schedule.toml", "messages", "infographics"}
    tops.update(rel.split("/", 1)[0] for rel in revisions.media_paths(root) if not rel.startswith("../"))
    for top in sorted(tops):
        _mirror(root / top, stage / top, top, changed)
    for rel, content in changes.items():
        target = stage / rel
        if target.exists() or target.is_symlink():
            target.unlink()
        if content is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return stage


def _mirror(source: Path, target: Path, rel: str, changed: set[str]) -> None:
    if source.is_dir() and not source.is_symlink():
        if not any(path == rel or path.startswith(rel + "/") for path in changed):
            target.symlink_to(source, target_is_directory=True)
            return
        target.mkdir()
        for child in sorted(source.iterdir()):
            _mirror(child, target / child.name, f"{rel}/{child.name}", changed)
    elif source.is_file() and rel not in changed:
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


def _check(root: Path, stage: Path, mastodon_max: int) -> None:
    result = run_check(stage / "schedule.toml", datetime.now(UTC), mastodon_max=mastodon_max)
    if not result.errors:
        return
    raise CampaignError([Problem(_relative(p.path, root, stage), p.line, p.message, p.severity)
                         for p in result.problems])


def _relative(path: str, root: Path, stage: Path) -> str:
    """A problem's file as a path relative to the campaign folder (the staged copy's, or the real one's)."""
    for base in (str(stage) + os.sep, str(root.resolve()) + os.sep, str(root) + os.sep):
        if path.startswith(base):
            return path[len(base):]
    return path


def _order(rel: str) -> int:
    return 1 if rel == "schedule.toml" else 0


def _write(root: Path, changes: Changes) -> None:
    """Atomic per file, all temp files first, then the replaces (see the module's docstring for the order)."""
    pending: list[tuple[str, Path]] = []
    try:
        for rel in sorted((r for r, c in changes.items() if c is not None), key=lambda r: (_order(r), r)):
            content = changes[rel]
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            pending.append((rel, Path(tmp)))
            with os.fdopen(fd, "wb") as handle:
                handle.write(content.encode("utf-8") if isinstance(content, str) else content or b"")
                handle.flush()
                os.fsync(handle.fileno())
            mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
            os.chmod(tmp, mode)
    except BaseException:
        for _rel, tmp_path in pending:
            tmp_path.unlink(missing_ok=True)
        raise
    done = 0
    try:
        for rel, tmp_path in pending:
            os.replace(tmp_path, root / rel)
            done += 1
    except BaseException:
        for _rel, tmp_path in pending[done:]:
            tmp_path.unlink(missing_ok=True)
        raise
    for rel in sorted(r for r, c in changes.items() if c is None):
        (root / rel).unlink(missing_ok=True)


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def save_files(
    settings: Settings,
    engine: Engine,
    campaign: Campaign,
    changes: Changes,
    *,
    version: str,
    author: str,
    summary: str,
) -> WorkspaceRevision:
    """Check, write, record and commit ``changes`` (relative path -> new content, ``None`` deletes); see the module
    docstring. Raises :class:`Conflict` (stale ``version``) or :class:`CampaignError` (check failed), writing nothing."""
    root = campaign.root
    changes = {_safe(rel): content for rel, content in changes.items()}
    if revisions.version_of(root) != version:
        raise _conflict(engine, campaign, version)
    stage = _stage(root, changes)
    try:
        _check(root, stage, settings.mastodon_max_chars)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    with campaign_lock(root):
        if revisions.version_of(root) != version:
            raise _conflict(engine, campaign, version)
        parent = revisions.ensure_baseline(engine, campaign, version=version)
        before = revisions.snapshot(root)
        _write(root, changes)
        after = dict(before)
        texts = set(revisions.text_paths(root)) | set(before)
        for rel, content in changes.items():
            if content is None or rel not in texts:
                after.pop(rel, None)
            else:
                after[rel] = content if isinstance(content, str) else content.decode("utf-8", errors="replace")
        after = {rel: after[rel] for rel in sorted(after)}
        diff = revisions.diff_snapshots(before, after)
        new_version = revisions.version_of(root)
        with session_scope(engine) as session:
            revision = WorkspaceRevision(
                campaign=campaign.slug,
                number=revisions.next_number(session, campaign.slug),
                version=new_version,
                parent_version=parent.version,
                author=author,
                summary=summary[:500],
                files=json.dumps(after, sort_keys=True, ensure_ascii=False),
                diff=diff,
            )
            session.add(revision)
            audit.record(
                session,
                actor=author,
                action="campaign.save",
                campaign=campaign.slug,
                target=campaign.slug,
                details={"revision": revision.number, "summary": summary, "files": sorted(changes), "diff": diff},
            )
            session.flush()
        gitcommit.commit(root, sorted(changes), author=author, message=summary or f"Revision {revision.number}")
    log.info("saved %s revision %s (%s)", campaign.slug, revision.number, ", ".join(sorted(changes)))
    return revision
