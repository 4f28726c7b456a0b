"""What the public sees of a campaign's pledge: goal, confirmed count, state, deadline and release time.

The state comes from the release state machine (``pledges.release.campaign_state``) when it is available; otherwise
from the clock and the count alone: before the deadline ``open`` (or ``goal reached``), after it ``released`` /
``goal reached`` (goal met, before or after ``fire_at``) or ``not reached``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from social_campaign.campaign.model import Campaign, PledgeSpec

STATES = ("open", "goal reached", "released", "not reached", "closed")


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Progress:
    slug: str
    goal: int
    confirmed: int
    state: str
    deadline: datetime
    fire_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "goal": self.goal,
            "confirmed": self.confirmed,
            "state": self.state,
            "deadline": iso_utc(self.deadline),
            "fire_at": iso_utc(self.fire_at),
        }

    @property
    def is_open(self) -> bool:
        return self.state in ("open", "goal reached") and datetime.now(UTC) < self.deadline

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.confirmed / self.goal)) if self.goal else 0


def fallback_state(spec: PledgeSpec, confirmed: int, now: datetime) -> str:
    if now < spec.deadline:
        return "goal reached" if confirmed >= spec.goal else "open"
    if confirmed >= spec.goal:
        return "released" if now >= spec.fire_at else "goal reached"
    return "not reached"


def _release_row(engine: Engine, slug: str) -> Any:
    try:
        from social_campaign.models import PledgeRelease
    except ImportError:
        return None
    from sqlmodel import Session

    with Session(engine) as session:
        return session.get(PledgeRelease, slug)


def state_of(engine: Engine, spec: PledgeSpec, slug: str, confirmed: int, now: datetime) -> str:
    try:
        from social_campaign.pledges.release import campaign_state
    except ImportError:
        return fallback_state(spec, confirmed, now)
    return str(campaign_state(spec, confirmed, now, _release_row(engine, slug)))


def progress_of(engine: Engine, campaign: Campaign, confirmed: int, now: datetime) -> Progress:
    spec = campaign.pledge
    assert spec is not None
    return Progress(
        slug=campaign.slug, goal=spec.goal, confirmed=confirmed, state=state_of(engine, spec, campaign.slug, confirmed, now),
        deadline=spec.deadline, fire_at=spec.fire_at,
    )
