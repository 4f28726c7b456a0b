"""Manager notices: things a campaign manager must see (a post missed, an account to reconnect, an edit refused)."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

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
