"""Confirming through the emailed link (``pledges/confirmation.py`` over ``pledges/intake.py``): counted once however
often it is pressed, a used link says it is already confirmed, the supporter number, and links that do not work, on
SQLite and PostgreSQL with an explicit ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.errors import BadRequest, NotFound
from social_campaign.models import CampaignCounter, Pledge, PledgeStatus
from social_campaign.pledges import confirmation, intake, tokens
from tests.web.conftest import make_campaign

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def camp(tmp_path: Path) -> Campaign:
    return make_campaign(tmp_path, deadline=NOW + timedelta(days=1), fire_at=NOW + timedelta(days=2))


def _pending(engine: Engine, slug: str, *who: str) -> None:
    with engine.begin() as conn:
        for name in who:
            email = f"{name}@example.org"
            conn.execute(insert(Pledge.__table__).values(  # type: ignore[attr-defined]
                campaign=slug, name=name, email=email, email_canonical=email, active_email=email, status="pending",
                ip_hash="", created_at=NOW, confirm_token_hash=tokens.token_hash(f"c-{name}"),
                withdraw_token_hash=tokens.token_hash(f"w-{name}")))


def _counter(engine: Engine, slug: str) -> int:
    with Session(engine) as s:
        row = s.get(CampaignCounter, slug)
        return row.confirmed if row else 0


def test_confirm_link_counts_once_and_then_says_already(any_engine: Engine, settings: Settings, camp: Campaign) -> None:
    _pending(any_engine, camp.slug, "ada", "bea")
    assert confirmation.confirm_state(any_engine, camp, "c-ada", NOW) is None  # pending: the button
    first = confirmation.confirm_link(settings, any_engine, camp, "c-ada", NOW)
    assert (first.number, first.already) == (1, False)
    again = confirmation.confirm_link(settings, any_engine, camp, "c-ada", NOW + timedelta(minutes=1))
    assert (again.pledge_id, again.number, again.already) == (first.pledge_id, 1, True)
    assert confirmation.confirm_state(any_engine, camp, "c-ada", NOW) == again
    assert _counter(any_engine, camp.slug) == 1
    with pytest.raises(NotFound):  # intake.confirm keeps its contract: a used link is not confirmable
        intake.confirm(settings, any_engine, camp, "c-ada", NOW)
    assert confirmation.confirm_link(settings, any_engine, camp, "c-bea", NOW + timedelta(seconds=1)).number == 2
    assert _counter(any_engine, camp.slug) == 2


def test_numbers_by_confirmation_time_and_ties_by_id(any_engine: Engine, settings: Settings, camp: Campaign) -> None:
    _pending(any_engine, camp.slug, "ada", "bea", "cai")
    later = confirmation.confirm_link(settings, any_engine, camp, "c-ada", NOW + timedelta(seconds=5))
    same_a = confirmation.confirm_link(settings, any_engine, camp, "c-bea", NOW)
    same_b = confirmation.confirm_link(settings, any_engine, camp, "c-cai", NOW)
    assert (same_a.number, same_b.number) == (1, 2) and same_a.pledge_id < same_b.pledge_id
    assert confirmation.confirm_state(any_engine, camp, "c-ada", NOW) == confirmation.Confirmation(later.pledge_id, 3, True)
    intake.withdraw(settings, any_engine, camp, "w-bea", NOW)  # numbers stay honest
    assert confirmation.confirm_state(any_engine, camp, "c-ada", NOW).number == 2  # type: ignore[union-attr]
    assert confirmation.confirm_state(any_engine, camp, "c-cai", NOW).number == 1  # type: ignore[union-attr]


def test_links_that_do_not_work(any_engine: Engine, settings: Settings, camp: Campaign) -> None:
    _pending(any_engine, camp.slug, "ada", "bea")
    for token in ("", "nope", "x" * 200, "w-ada"):  # unknown, too long, or another kind of token
        with pytest.raises(NotFound, match="not valid"):
            confirmation.confirm_state(any_engine, camp, token, NOW)
        with pytest.raises(NotFound):
            confirmation.confirm_link(settings, any_engine, camp, token, NOW)
    intake.withdraw(settings, any_engine, camp, "w-ada", NOW)
    with pytest.raises(NotFound):  # withdrawn: its confirm link no longer works
        confirmation.confirm_state(any_engine, camp, "c-ada", NOW)
    with pytest.raises(BadRequest, match="deadline has passed"):  # pending past the deadline
        confirmation.confirm_link(settings, any_engine, camp, "c-bea", NOW + timedelta(days=1))
    with Session(any_engine) as s:
        assert [p.status for p in s.exec(select(Pledge).order_by(Pledge.id))] == [  # type: ignore[arg-type]
            PledgeStatus.withdrawn, PledgeStatus.pending]
