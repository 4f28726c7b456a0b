"""The campaigns a deployment serves, and a new campaign made from the shipped one.

* :func:`campaign_paths`: ``Settings.campaign_paths`` (``SOCIAL_CAMPAIGN_CAMPAIGNS`` or ``--schedule``, else
  ``SCHEDULE``) plus every ``DATA_DIR/campaigns/<slug>/schedule.toml`` an owner created in the workspace, each once.
* :func:`check_unique`: two campaign files with the same slug would fight over the same rows and pages; refused at
  start with one line naming both files.
* :func:`create_from_template`: copies the shipped campaign (``schedule.toml``, ``messages/``, ``infographics/``) into
  a private temporary folder beside ``DATA_DIR/campaigns/``, rewrites ``[campaign] slug``, ``name`` and ``timezone``
  with tomlkit (every comment kept), runs ``check`` on the copy and only then renames it into place, so a refused
  campaign leaves nothing on disk. The web store and the scheduler find it at their next look.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import tomlkit
from sqlalchemy.engine import Engine
from tomlkit.items import Item

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.errors import BadRequest, ConfigError
from social_campaign.files import private_dir, write_private
from social_campaign.i18n import _

TEMPLATE = Path(__file__).resolve().parents[2] / "schedule.toml"  # the shipped campaign (as scheduling/demo.py finds it)
FOLDERS = ("messages", "infographics")
MAX_NAME = 200


def campaigns_dir(settings: Settings) -> Path:
    """Where the workspace keeps the campaigns it created: ``DATA_DIR/campaigns``."""
    return settings.data_dir / "campaigns"


def campaign_paths(settings: Settings) -> list[Path]:
    """Every campaign file this deployment serves: the configured ones first, then the workspace's, each once."""
    found = list(settings.campaign_paths)
    folder = campaigns_dir(settings)
    if folder.is_dir():
        found += sorted(p for p in folder.glob("*/schedule.toml") if not p.parent.name.startswith("."))
    seen: set[Path] = set()
    out: list[Path] = []
    for path in found:
        key = Path(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


def read_slug(path: Path) -> str | None:
    """``[campaign] slug`` of ``path`` read cheaply (no checks); ``None`` when the file cannot tell."""
    try:
        with open(path, "rb") as fh:
            slug = tomllib.load(fh).get("campaign", {}).get("slug")
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        return None
    return slug if isinstance(slug, str) else None


def check_unique(found: Iterable[tuple[str, Path]]) -> None:
    """Raise :class:`ConfigError` naming both files when two campaign files share a slug."""
    by_slug: dict[str, Path] = {}
    for slug, path in found:
        first = by_slug.setdefault(slug, path)
        if first != path and os.path.abspath(first) != os.path.abspath(path):
            raise ConfigError(f"two campaigns have the slug {slug!r}: {first} and {path}; give one of them another slug")


def _validate(slug: str, name: str, timezone: str, taken: set[str]) -> None:
    from social_campaign.campaign.loader import SLUG
    from social_campaign.campaign.times import zone

    if not SLUG.match(slug):
        raise BadRequest(_("Please use lower-case letters, digits and hyphens for the address name, starting with a "
                           "letter or digit (at most 63 characters)."), field="slug")
    if slug in taken:
        raise BadRequest(_("A campaign with this address name already exists. Please choose another."), field="slug")
    if not name.strip():
        raise BadRequest(_("Please enter the campaign's name."), field="name")
    if len(name) > MAX_NAME:
        raise BadRequest(_("Please shorten the name to at most %(num)s characters.") % {"num": MAX_NAME}, field="name")
    try:
        zone(timezone)
    except ValueError:
        raise BadRequest(_("Please choose a time zone from the list, such as Europe/Paris."), field="timezone") from None


def _keep_trivia(old: Item | None, new: Item) -> Item:
    """``new`` with ``old``'s trailing comment and spacing (tomlkit drops them on assignment)."""
    if old is not None:
        for attr in ("indent", "comment_ws", "comment", "trail"):
            setattr(new.trivia, attr, getattr(old.trivia, attr))
    return new


def rewrite(text: str, *, slug: str, name: str, timezone: str) -> str:
    """``schedule.toml`` text with ``[campaign] slug``, ``name`` and ``timezone`` replaced, every comment kept. The
    template's translated names are dropped: the new name is used in every language until someone translates it."""
    doc = tomlkit.parse(text)
    head = doc["campaign"]
    assert isinstance(head, dict)
    for key, value in (("slug", slug), ("name", name.strip()), ("timezone", timezone)):
        head[key] = _keep_trivia(head.item(key) if key in head else None, tomlkit.string(value))  # type: ignore[attr-defined]
    for table in head.get("translations", {}).values():
        if isinstance(table, dict) and "name" in table:
            del table["name"]
    return tomlkit.dumps(doc)


def _copy_private(source: Path, target: Path) -> None:
    """Copy ``source``'s schedule folders into ``target``: folders 0700, files 0600 (``files.write_private``)."""
    for folder in FOLDERS:
        root = source / folder
        for dirpath, _dirs, files in os.walk(root):
            here = target / Path(dirpath).relative_to(source)
            private_dir(here)
            for name in files:
                write_private(here / name, (Path(dirpath) / name).read_bytes())


def create_from_template(
    settings: Settings, engine: Engine, *, slug: str, name: str, timezone: str, actor: str, taken: set[str],
    template: Path = TEMPLATE, now: datetime | None = None,
) -> Path:  # fmt: skip
    """Create ``DATA_DIR/campaigns/<slug>/`` from ``template``'s folder; returns its ``schedule.toml``.

    ``taken``: the slugs already served. Raises :class:`BadRequest` at the field (nothing left on disk) for a bad or
    taken slug, an empty name or an unknown time zone, or when the copy does not pass ``check``."""
    from social_campaign import audit
    from social_campaign.campaign.check import run_check

    slug, timezone = slug.strip(), timezone.strip()
    _validate(slug, name, timezone, taken)
    if not template.is_file():
        raise BadRequest(_("The shipped campaign is not on this server, so no campaign can be made from it. Please "
                           "add the campaign folder and list it in SOCIAL_CAMPAIGN_CAMPAIGNS instead."))
    parent = private_dir(campaigns_dir(settings))
    target = parent / slug
    if target.exists():
        raise BadRequest(_("A campaign with this address name already exists. Please choose another."), field="slug")
    original = template.read_text(encoding="utf-8")
    text = rewrite(original, slug=slug, name=name, timezone=timezone)
    staging = Path(tempfile.mkdtemp(prefix=f".new-{slug}-", dir=parent))  # mkdtemp: 0700, hidden from campaign_paths
    try:
        _copy_private(template.parent, staging)
        write_private(staging / "schedule.toml", text.encode("utf-8"))
        result = run_check(staging / "schedule.toml", now, mastodon_max=settings.mastodon_max_chars)
        if result.campaign is None or result.errors:
            first = (result.errors or result.problems)[0]
            raise BadRequest(_("The new campaign does not pass the check: %(problem)s") % {"problem": first.message})
        diff = "".join(difflib.unified_diff(original.splitlines(keepends=True), text.splitlines(keepends=True),
                                            "template/schedule.toml", f"{slug}/schedule.toml"))
        renamed = False
        try:
            with session_scope(engine) as session:  # the audit entry commits exactly when the folder is in place
                audit.record(session, actor=actor, action="campaign.create", campaign=slug, target=slug, details={
                    "name": name.strip(), "timezone": timezone, "template": str(template), "diff": diff})
                try:
                    os.rename(staging, target)  # atomic; fails when another request made the same slug meanwhile
                except OSError:
                    raise BadRequest(_("A campaign with this address name already exists. Please choose another."),
                                     field="slug") from None
                renamed = True
        except BaseException:
            if renamed:
                shutil.rmtree(target, ignore_errors=True)
            raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target / "schedule.toml"


@dataclass(frozen=True)
class CampaignRow:
    """One line of the workspace's campaigns list."""

    campaign: Campaign
    state: str  # pledges.release.campaign_state, or "posts" for a campaign without [pledge]
    confirmed: int
    goal: int | None
    next_due: datetime | None
    refused: str | None  # the first problem of the newest refused edit, while it is refused
    refused_at: datetime | None


def overview(engine: Engine, campaigns: list[Campaign], now: datetime) -> list[CampaignRow]:
    """A row per served campaign: state, confirmed pledges against the goal, next delivery, refused edit."""
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from social_campaign.models import CampaignRevision, Delivery, DeliveryState, Pledge, PledgeRelease, PledgeStatus
    from social_campaign.pledges.release import campaign_state

    slugs = [c.slug for c in campaigns]
    with Session(engine) as s:
        confirmed = dict(s.exec(
            select(Pledge.campaign, func.count()).where(col(Pledge.campaign).in_(slugs),
                                                        Pledge.status == PledgeStatus.confirmed)
            .group_by(col(Pledge.campaign))).all())
        due = dict(s.exec(
            select(Delivery.campaign, func.min(Delivery.due_at)).where(
                col(Delivery.campaign).in_(slugs), Delivery.state == DeliveryState.scheduled)
            .group_by(col(Delivery.campaign))).all())
        releases = {r.campaign: r for r in s.exec(select(PledgeRelease).where(col(PledgeRelease.campaign).in_(slugs)))}
        revisions = {r.campaign: r for r in s.exec(select(CampaignRevision).where(col(CampaignRevision.campaign).in_(slugs)))}
    rows = []
    for c in campaigns:
        n = int(confirmed.get(c.slug, 0))
        state = campaign_state(c.pledge, n, now, releases.get(c.slug)) if c.pledge is not None else "posts"
        rev = revisions.get(c.slug)
        next_due = due.get(c.slug)
        refused = rev.last_refused.replace(f"{c.root}{os.sep}", "") if rev and rev.last_refused else None
        rows.append(CampaignRow(c, state, n, c.pledge.goal if c.pledge else None,
                                next_due if isinstance(next_due, datetime) else None,
                                refused, rev.refused_at if rev else None))
    return rows
