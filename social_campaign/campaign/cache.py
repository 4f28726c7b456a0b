"""A loaded campaign kept per process and reloaded only when one of its files changes.

Jobs that run every few seconds (the release tick) need the campaign each time; parsing and checking it costs far
more than looking at its files, so :func:`load_cached` keeps the last good :class:`Campaign` per path and parses
again only when the *stamp* changes: the size and modification time of ``schedule.toml`` and of every file under
``messages/`` and ``infographics/`` beside it. An edit that fails to load raises :class:`CampaignError` as
:func:`~social_campaign.campaign.loader.load_campaign` does, and the next call tries again.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from social_campaign.campaign.model import Campaign

Stamp = tuple[tuple[str, int, int], ...]

_lock = threading.Lock()
_cache: dict[Path, tuple[Stamp, Campaign]] = {}
FOLDERS = ("messages", "infographics")


def stamp(path: Path) -> Stamp:
    """Size and mtime (ns) of ``schedule.toml`` and of every file in the campaign's folders, sorted by path."""
    entries: list[tuple[str, int, int]] = []

    def add(p: str) -> None:
        try:
            st = os.stat(p)
        except OSError:
            entries.append((p, -1, -1))
        else:
            entries.append((p, st.st_size, st.st_mtime_ns))

    add(str(path))
    for folder in FOLDERS:
        for dirpath, _dirs, files in os.walk(path.parent / folder):
            for name in files:
                add(os.path.join(dirpath, name))
    return tuple(sorted(entries))


def load_cached(path: Path | str) -> Campaign:
    """The campaign at ``path``, parsed again only when its files changed since the last call in this process."""
    from social_campaign.campaign.loader import load_campaign

    key = Path(path).resolve()
    current = stamp(key)
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == current:
            return hit[1]
    campaign = load_campaign(key)
    with _lock:
        _cache[key] = (current, campaign)
    return campaign
