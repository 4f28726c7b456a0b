"""A used confirm link's next steps: whether the pledge is confirmed (now or before) and its supporter number.

The emailed confirm link is single use for counting, but it keeps working as a page: its GET shows one button while
the pledge is pending (:func:`confirm_state` changes nothing; mail scanners open links), the button's POST confirms
(:func:`confirm_link`, through ``intake``'s conditional update, so the pledge is counted once however often it is
pressed), and any later visit, GET or POST, says it is already confirmed, with the same next steps. A withdrawn or
erased pledge's link is :class:`NotFound` (withdrawal and erasure blank the token's hash).

The supporter number is computed from stored columns (no counter of its own): the number of the campaign's confirmed
pledges confirmed no later than this one (ties by id), so it is honest at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.errors import NotFound
from social_campaign.i18n import _
from social_campaign.models import Pledge, PledgeStatus
from social_campaign.pledges.intake import NOT_CONFIRMABLE, _by_hash, _confirm_in, _confirmable, spec_of

_P = Pledge.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Confirmation:
    """What a used confirm link shows: the pledge's ``number`` among the campaign's confirmed pledges (in order of
    confirmation, so it is honest: it moves down when an earlier supporter withdraws) and whether the pledge was
    ``already`` confirmed before this request (a second click, a mail scanner's replay)."""

    pledge_id: int
    number: int
    already: bool


def supporter_number(session: Session, pledge: Pledge) -> int:
    """``pledge``'s position among the confirmed pledges of its campaign, by confirmation time (ties by id)."""
    mine, ident = pledge.confirmed_at, pledge.id
    return int(session.execute(
        core_select(func.count()).select_from(_P).where(
            _P.c.campaign == pledge.campaign, _P.c.status == PledgeStatus.confirmed.value,
            or_(_P.c.confirmed_at < mine, and_(_P.c.confirmed_at == mine, _P.c.id <= ident)),
        )
    ).scalar_one())


def _already(session: Session, pledge: Pledge) -> Confirmation:
    assert pledge.id is not None
    return Confirmation(pledge.id, supporter_number(session, pledge), already=True)


def confirm_state(engine: Engine, campaign: Campaign, token: str, now: datetime) -> Confirmation | None:
    """What the confirm link's GET shows, changing nothing (link scanners open it): ``None`` while the pledge waits
    for the button, its :class:`Confirmation` once confirmed; :class:`NotFound` for an unknown, withdrawn or erased
    link, :class:`BadRequest` for a pending pledge past the deadline."""
    spec = spec_of(campaign)
    with session_scope(engine) as session:
        pledge = _by_hash(session, campaign.slug, Pledge.confirm_token_hash, token)
        if pledge is not None and pledge.status == PledgeStatus.confirmed:
            return _already(session, pledge)
        _confirmable(pledge, spec, now)
        return None


def confirm_link(settings: Settings, engine: Engine, campaign: Campaign, token: str, now: datetime) -> Confirmation:
    """The confirm page's POST: confirms a pending pledge (counted once, whatever the number of clicks) or, for a link
    already used, changes nothing; either way returns the pledge's :class:`Confirmation`."""
    spec = spec_of(campaign)
    with session_scope(engine) as session:
        pledge = _by_hash(session, campaign.slug, Pledge.confirm_token_hash, token)
        if pledge is not None and pledge.status == PledgeStatus.confirmed:
            return _already(session, pledge)
        pledge = _confirmable(pledge, spec, now)
        done = _confirm_in(session, campaign, pledge, now)
        if pledge.status != PledgeStatus.confirmed:
            raise NotFound(_(NOT_CONFIRMABLE))
        assert pledge.id is not None
        return Confirmation(pledge.id, supporter_number(session, pledge), already=not done)


