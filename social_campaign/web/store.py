"""The campaigns the web app serves, by slug: every file of ``workspace.campaigns.campaign_paths(settings)`` (the
configured ones and those created in the workspace), loaded at start and looked at again at most every
``check_every`` seconds on :meth:`CampaignStore.get`/:meth:`CampaignStore.all`: a changed file is reloaded, a new
campaign folder is picked up, a removed one is dropped.

At start a configured campaign that does not load stops the app (``CampaignError``), and so do two files with the same
slug (``ConfigError`` naming both). Later, a reload that fails keeps the last good campaign (the scheduler's sync
reports refused edits to the manager), and a new file whose slug is already served is skipped with a warning.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from social_campaign.campaign.cache import Stamp, stamp
from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.errors import ConfigError, NotFound, SocialCampaignError

log = logging.getLogger(__name__)


@dataclass
class _Entry:
    stamp: Stamp
    campaign: Campaign | None  # the last good version; None while a file never loaded


class CampaignStore:
    """Holds the served campaigns by slug. Built from ``settings`` (every campaign, rescanned), from one ``path``
    (reloading) or from fixed :class:`Campaign` objects (tests)."""

    def __init__(
        self, path: Path | None = None, campaigns: list[Campaign] | None = None, check_every: float = 2.0, *,
        settings: Settings | None = None,
    ) -> None:  # fmt: skip
        self.path = path
        self.settings = settings
        self.check_every = check_every
        self._by_slug = {c.slug: c for c in campaigns or []}
        self._entries: dict[Path, _Entry] = {}
        self._checked = 0.0
        self._lock = threading.Lock()
        if path is not None or settings is not None:
            self._scan(initial=True)
            self._checked = time.monotonic()

    @property
    def reloading(self) -> bool:
        return self.path is not None or self.settings is not None

    def _paths(self) -> tuple[list[Path], set[Path]]:
        """The campaign files to serve, and those that must load at start (the configured ones)."""
        if self.settings is None:
            assert self.path is not None
            return [self.path], {Path(os.path.abspath(self.path))}
        from social_campaign.workspace.campaigns import campaign_paths

        return campaign_paths(self.settings), {Path(os.path.abspath(p)) for p in self.settings.campaign_paths}

    def _scan(self, *, initial: bool = False) -> None:
        from social_campaign.campaign.loader import load_campaign
        from social_campaign.workspace.campaigns import check_unique

        paths, required = self._paths()
        entries: dict[Path, _Entry] = {}
        for path in paths:
            key = Path(os.path.abspath(path))
            files = stamp(key)
            entry = self._entries.get(key)
            if entry is not None and entry.stamp == files:
                entries[key] = entry
                continue
            last = entry.campaign if entry is not None else None
            try:
                loaded = load_campaign(key)
            except SocialCampaignError as exc:
                if initial and key in required:
                    raise
                if last is not None:
                    log.warning("%s: keeping the last good campaign: %s", path, exc)
                else:
                    log.warning("%s: not served: %s", path, exc)
                entries[key] = _Entry(files, last)
                continue
            if last is not None and last.content_hash != loaded.content_hash:
                log.info("reloaded %s", path)
            elif last is None and not initial:
                log.info("serving the new campaign %s (%s)", loaded.slug, path)
            entries[key] = _Entry(files, loaded)
        found = [(e.campaign.slug, p) for p, e in entries.items() if e.campaign is not None]
        if initial:
            check_unique(found)
        by_slug: dict[str, Campaign] = {}
        for key, entry in entries.items():
            if entry.campaign is None:
                continue
            other = by_slug.get(entry.campaign.slug)
            if other is not None:
                log.warning("%s", ConfigError(f"two campaigns have the slug {entry.campaign.slug!r}: {other.source} and "
                                              f"{key}; serving only the first"))
                continue
            by_slug[entry.campaign.slug] = entry.campaign
        self._entries, self._by_slug = entries, by_slug

    def _maybe_reload(self) -> None:
        if not self.reloading or time.monotonic() - self._checked < self.check_every:
            return
        with self._lock:
            if time.monotonic() - self._checked < self.check_every:
                return
            self._checked = time.monotonic()
            self._scan()

    def refresh(self) -> None:
        """Look at the campaign files now (after the workspace created a campaign), not at the next interval."""
        if self.reloading:
            with self._lock:
                self._checked = time.monotonic()
                self._scan()

    def get(self, slug: str) -> Campaign:
        self._maybe_reload()
        campaign = self._by_slug.get(slug)
        if campaign is None:
            raise NotFound(f"no campaign called {slug!r}")
        return campaign

    def all(self) -> list[Campaign]:
        self._maybe_reload()
        return list(self._by_slug.values())
