"""Atomic file writes: a temporary file in the same folder, then ``os.replace``; never half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from social_campaign.files import current_umask


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (readers see the old file or the whole new one, never a part)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~current_umask())  # as open() would make it: 0644 under umask 022, 0600 under 077
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
