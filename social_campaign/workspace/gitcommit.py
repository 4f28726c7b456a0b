"""A git commit for each save of a campaign folder that lives in a git work tree.

Only the changed paths are added and committed (``git commit --only``-style: ``git commit -- <paths>``), so other
work in the same tree is never swept in. The user is the author (``--author "<email> <<email>>"``); the committer is
git's own identity (its configuration or ``GIT_COMMITTER_*`` in the process's environment), else ``social-campaign``.
Git missing, the folder not in a work tree, or a failing command is logged and never fails the save.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

__all__ = ["commit", "in_work_tree"]

log = logging.getLogger(__name__)
FALLBACK_NAME = "social-campaign"
FALLBACK_EMAIL = "social-campaign@localhost"
_TIMEOUT = 30.0


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )


def in_work_tree(root: Path) -> bool:
    """Whether ``root`` is inside a git work tree (False when git is missing)."""
    if shutil.which("git") is None:
        return False
    try:
        done = _git(root, "rev-parse", "--is-inside-work-tree")
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and done.stdout.strip() == "true"


def commit(root: Path, paths: list[str], *, author: str, message: str) -> str | None:
    """Commit ``paths`` (relative to ``root``) with ``author`` (an email); the new commit's hash, or ``None`` when
    there is no work tree, nothing changed, or git failed (logged)."""
    if not paths or not in_work_tree(root):
        return None
    try:
        identity: list[str] = []
        if _git(root, "config", "--get", "user.email").returncode != 0:
            identity = ["-c", f"user.name={FALLBACK_NAME}", "-c", f"user.email={FALLBACK_EMAIL}"]
        added = _git(root, "add", "-A", "--", *paths)
        if added.returncode != 0:
            log.warning("git add failed in %s: %s", root, added.stderr.strip())
            return None
        if _git(root, "diff", "--cached", "--quiet", "--", *paths).returncode == 0:
            return None  # nothing staged for these paths
        done = _git(
            root, *identity, "commit", "--quiet", "--no-verify", f"--author={author} <{author}>", "-m", message,
            "--", *paths,
        )
        if done.returncode != 0:
            log.warning("git commit failed in %s: %s", root, done.stderr.strip())
            return None
        head = _git(root, "rev-parse", "HEAD")
        return head.stdout.strip() or None
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("git commit skipped in %s: %s", root, exc)
        return None
