"""Helpers of the workspace tests: a copy of the shipped campaign in a temp folder, and full snapshots of a folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from social_campaign.campaign.loader import load_campaign
from social_campaign.campaign.model import Campaign

REPO = Path(__file__).resolve().parents[2]


def copy_shipped(dest: Path) -> Path:
    """The shipped campaign (schedule.toml, messages/, infographics/) copied into ``dest``; its folder."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "schedule.toml", dest / "schedule.toml")
    shutil.copytree(REPO / "messages", dest / "messages")
    shutil.copytree(REPO / "infographics", dest / "infographics")
    return dest


def campaign_at(root: Path) -> Campaign:
    return load_campaign(root / "schedule.toml")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes), the lock file left out."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".social-campaign.lock" and ".git" not in p.relative_to(root).parts
    }
