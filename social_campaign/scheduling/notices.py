"""Manager notices: things a campaign manager must see (a post missed, an account to reconnect, an edit refused)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.mail.queue import enqueue
from social_campaign.models import ManagerNotice

log = logging.getLogger(__name__)


def notify(session: Session, *, campaign: str, kind: str, message: str, dedupe_key: str) -> bool:
    """Add a notice in the caller's transaction unless ``dedupe_key`` exists. Returns True when added."""
    key = dedupe_key[:200]
    if session.exec(select(ManagerNotice.id).where(ManagerNotice.dedupe_key == key)).first() is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ManagerNotice(campaign=campaign, kind=kind, message=message, dedupe_key=key))
    except IntegrityError:
        return False
    log.debug("notice (%s): %s", kind, message)
    return True


#: Notices older than this when a manager address is first set are marked, not emailed (no flood of old news).
FRESH = timedelta(hours=24)
#: The per-address cap protects supporters from abuse; the manager's own alerts are not capped.
MANAGER_CAP = 1_000_000


def mail_manager(settings: Settings, engine: Engine, now: datetime, *, batch: int = 100) -> int:
    """Queue one email per new notice to ``settings.manager_email``; returns how many were queued.

    Each notice is queued and marked ``emailed_at`` in one transaction, and the email's dedupe key is the notice's id,
    so a crash or a second scheduler never sends a notice twice and never skips one.
    """
    if settings.manager_email is None:
        return 0
    queued = 0
    with session_scope(engine) as session:
        notices = session.exec(
            select(ManagerNotice).where(col(ManagerNotice.emailed_at).is_(None)).order_by(col(ManagerNotice.id)).limit(batch)
        ).all()
        for notice in notices:
            notice.emailed_at = now
            session.add(notice)
            if notice.created_at < now - FRESH:
                continue
            where = f"{settings.public_url}/admin"
            row = enqueue(
                session, campaign=notice.campaign, kind="manager", to_addr=settings.manager_email,
                to_canonical=settings.manager_email.lower(),
                subject=f"[{notice.campaign or 'social-campaign'}] {notice.kind}: {notice.message}"[:300],
                body_text=f"{notice.message}\n\nSee {where}, or run `social-campaign status`.\n", body_html=None,
                dedupe_key=f"notice:{notice.id}", max_per_address=MANAGER_CAP,
            )  # fmt: skip
            queued += row is not None
    return queued
