"""Queueing test emails through the real ``mail.queue.enqueue``."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.db import session_scope
from social_campaign.mail import render
from social_campaign.mail.queue import enqueue
from social_campaign.models import EmailMessage


def queue_emails(engine: Engine, n: int, *, prefix: str = "s", campaign: str = "c", start: int = 0) -> None:
    with session_scope(engine) as session:
        for i in range(start, start + n):
            r = render.render("not_reached", campaign_name="Day", withdraw_url=f"http://h/w/{i}", name=f"N{i}", confirmed=1, goal=2)
            enqueue(session, campaign=campaign, kind="not_reached", to_addr=f"{prefix}{i}@example.org", to_canonical=f"{prefix}{i}@example.org",
                    subject=r.subject, body_text=r.text, body_html=r.html, headers=r.headers, dedupe_key=f"t:{prefix}{i}",
                    max_per_address=5)


def states(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.exec(select(EmailMessage.state)).all()
    out: dict[str, int] = {}
    for s in rows:
        out[s] = out.get(s, 0) + 1
    return out
