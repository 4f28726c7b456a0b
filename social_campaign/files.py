"""Private files: the data dir and everything under it are readable by the service's user only, whatever the umask.

Folders are created 0700 and files 0600 by the code that creates them (the mode is set explicitly, so a umask of 022
or 002 does not widen it). Writes are atomic: a temporary file in the same folder, then ``os.replace``.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "current_umask", "private_dir", "private_file", "private_process", "write_private"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_process() -> None:
    """Make every file this process creates from now on private (umask 077). Called by the long-running commands."""
    os.umask(0o077)


def current_umask() -> int:
    """The process's umask, read without widening it for other threads even for a moment."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)  # meanwhile, files other threads create are private: never wider than asked
    os.umask(mask)
    return mask


def private_dir(path: Path, *, tighten: bool = False) -> Path:
    """Create ``path`` and its missing parents with mode 0700; return it.

    Folders that already exist are left as they are, unless ``tighten`` is given: then ``path`` itself (never its
    parents) loses any group and other bits (for the data dir, which belongs to the service).
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # another process made it first; it is not ours to change
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered through the umask; set it exactly
    if tighten and path not in missing:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & ~0o077)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if it does not exist; make an existing one 0600. Return it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, FILE_MODE)
    else:
        os.close(fd)
        os.chmod(path, FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically with mode 0600 (its folder made with :func:`private_dir`)."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
