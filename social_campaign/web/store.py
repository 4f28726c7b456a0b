"""The campaign the web app serves: loaded from ``settings.schedule`` at start and reloaded when one of its files changes.

A reload that fails keeps the last good campaign (the scheduler's sync reports refused edits to the manager).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from social_campaign.campaign.cache import Stamp, stamp
from social_campaign.campaign.model import Campaign
from social_campaign.errors import NotFound, SocialCampaignError

log = logging.getLogger(__name__)


class CampaignStore:
    """Holds the served campaigns by slug. Built from a path (reloading) or from fixed :class:`Campaign` objects."""

    def __init__(self, path: Path | None = None, campaigns: list[Campaign] | None = None, check_every: float = 2.0) -> None:
        self.path = path
        self.check_every = check_every
        self._by_slug = {c.slug: c for c in campaigns or []}
        self._stamp: Stamp | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        if path is not None:
            self._load(initial=True)

    def _file_stamp(self) -> Stamp:
        assert self.path is not None
        return stamp(self.path)  # schedule.toml and every file in messages/ and infographics/

    def _load(self, *, initial: bool = False) -> None:
        from social_campaign.campaign.loader import load_campaign

        assert self.path is not None
        stamp = self._file_stamp()
        try:
            campaign = load_campaign(self.path)
        except SocialCampaignError as exc:
            if initial:
                raise
            log.warning("keeping the last good campaign: %s", exc)
        else:
            if self._by_slug and campaign.content_hash != next(iter(self._by_slug.values())).content_hash:
                log.info("reloaded %s", self.path)
            self._by_slug = {campaign.slug: campaign}
        self._stamp = stamp

    def _maybe_reload(self) -> None:
        if self.path is None or time.monotonic() - self._checked < self.check_every:
            return
        with self._lock:
            self._checked = time.monotonic()
            if self._file_stamp() != self._stamp:
                self._load()

    def get(self, slug: str) -> Campaign:
        self._maybe_reload()
        campaign = self._by_slug.get(slug)
        if campaign is None:
            raise NotFound(f"no campaign called {slug!r}")
        return campaign

    def all(self) -> list[Campaign]:
        self._maybe_reload()
        return list(self._by_slug.values())
