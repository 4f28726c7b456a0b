"""Building campaigns directly from ``campaign/model.py`` values, and small database helpers, for scheduling tests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign, MediaRef, Post
from social_campaign.models import Attempt, Delivery

T0 = datetime(2027, 11, 20, 14, 0, tzinfo=UTC)


def post(pid: str, *, at: datetime | None = T0, channels: tuple[str, ...] = ("x", "facebook"), text: str | None = None,
         cron: str | None = None, media: tuple[MediaRef, ...] = ()) -> Post:  # fmt: skip
    body = text if text is not None else f"Post {pid} #ChildrensDay"
    return Post(
        id=pid, channels=channels, message=pid, texts={c: f"{body} ({c})" for c in channels}, media=media,
        at=None if cron else at, cron=cron,
    )  # fmt: skip


def campaign(root: Path, posts: list[Post], *, slug: str = "childrens-day", tz: str = "America/New_York") -> Campaign:
    digest = hashlib.sha256(repr(posts).encode()).hexdigest()
    return Campaign(
        slug=slug, name="Universal Children's Day", timezone=ZoneInfo(tz), hashtags=("#ChildrensDay",), link=None,
        posts=tuple(posts), root=root, source=root / "schedule.toml", content_hash=digest,
    )  # fmt: skip


def rows(engine: Engine, **where: object) -> list[Delivery]:
    with Session(engine) as session:
        query = select(Delivery).order_by(Delivery.id)  # type: ignore[arg-type]
        for key, value in where.items():
            query = query.where(getattr(Delivery, key) == value)
        return list(session.exec(query).all())


def states(engine: Engine) -> dict[tuple[str, str, str], str]:
    return {(r.post_id, r.channel, r.occurrence): r.state for r in rows(engine)}


def attempts(engine: Engine, delivery_id: int) -> list[Attempt]:
    with Session(engine) as session:
        return list(session.exec(select(Attempt).where(Attempt.delivery_id == delivery_id).order_by(Attempt.id)).all())  # type: ignore[arg-type]


def set_state(engine: Engine, delivery_id: int, state: str) -> None:
    with Session(engine) as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        row.state = state
        session.add(row)
        session.commit()
