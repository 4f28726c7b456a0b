"""Who claimed a row: ``host:boot:pid:nonce``, so a restarted worker can tell its dead predecessors' rows.

A row left in ``sending`` by a process on this host (same boot) whose pid no longer exists belongs to a crashed worker
and can be recovered at once; anything else waits for the lease (``settings.lease_seconds``) to run out.
"""

from __future__ import annotations

import os
import socket
import uuid
from functools import cache
from pathlib import Path


@cache
def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:12]
    except OSError:
        return "noboot"


def host() -> str:
    return socket.gethostname().replace(":", "_")[:40] or "host"


def new_worker_id(role: str = "w") -> str:
    """A fresh id for one worker in this process (``claimed_by`` is at most 100 characters)."""
    return f"{host()}:{boot_id()}:{os.getpid()}:{role}-{uuid.uuid4().hex[:8]}"[:100]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def is_dead(claimed_by: str | None) -> bool:
    """True only when ``claimed_by`` names a process on this host and boot that no longer runs."""
    if not claimed_by:
        return False
    parts = claimed_by.split(":")
    if len(parts) < 4 or parts[0] != host()[:40] or parts[1] != boot_id():
        return False
    try:
        pid = int(parts[2])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    return not pid_alive(pid)
