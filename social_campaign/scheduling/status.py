"""The manager's view: counts per state, what is next, what failed and why, accounts to reconnect, refused edits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from social_campaign.models import (
    Account,
    AccountStatus,
    CampaignRevision,
    Delivery,
    DeliveryState,
    ManagerNotice,
)

PROBLEM_STATES = (DeliveryState.failed, DeliveryState.missed, DeliveryState.needs_reconnect, DeliveryState.unconfirmed)


@dataclass
class Status:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # campaign -> state -> n
    next_due: list[Delivery] = field(default_factory=list)
    problems: list[Delivery] = field(default_factory=list)
    reconnect: list[Account] = field(default_factory=list)
    refused: list[CampaignRevision] = field(default_factory=list)
    notices: list[ManagerNotice] = field(default_factory=list)


def get_status(engine: Engine, now: datetime, *, limit: int = 10) -> Status:
    status = Status()
    with Session(engine) as session:
        for campaign, state, n in session.exec(
            select(Delivery.campaign, Delivery.state, func.count()).group_by(
                col(Delivery.campaign), col(Delivery.state)
            )
        ).all():
            status.counts.setdefault(campaign, {})[state] = n
        status.next_due = list(
            session.exec(
                select(Delivery)
                .where(Delivery.state == DeliveryState.scheduled)
                .order_by(col(Delivery.due_at))
                .limit(limit)
            ).all()
        )
        status.problems = list(
            session.exec(
                select(Delivery)
                .where(col(Delivery.state).in_(PROBLEM_STATES))
                .order_by(col(Delivery.updated_at).desc())
                .limit(limit * 5)
            ).all()
        )
        status.reconnect = list(
            session.exec(select(Account).where(Account.status == AccountStatus.needs_reconnect)).all()
        )
        status.refused = list(
            session.exec(select(CampaignRevision).where(col(CampaignRevision.last_refused).is_not(None))).all()
        )
        status.notices = list(
            session.exec(select(ManagerNotice).order_by(col(ManagerNotice.created_at).desc()).limit(limit)).all()
        )
    return status
