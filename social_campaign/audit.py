"""The audit log: who exported or erased what, and when (``AuditEntry`` rows).

:func:`record` adds one entry in the caller's transaction, so the entry exists exactly when the action it records
committed. ``actor`` says who acted (``cli:<os user>``, ``retention``, ``supporter`` for a person's own request, a
manager's address in the workspace); ``target`` names what was acted on **without personal data** (``pledge:<id>``,
a campaign slug): the log outlives an erasure, so it must never hold the address or the name it erased.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from social_campaign.models import AuditEntry, utcnow

_TABLE = AuditEntry.__table__  # type: ignore[attr-defined]


def record(
    session: Session | Connection,
    *,
    actor: str,
    action: str,
    campaign: str = "",
    target: str = "",
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Add one entry in the caller's transaction (a SQLModel session or a Core connection). ``details`` is stored as
    JSON (sorted keys); values that JSON cannot hold are written as their ``str``."""
    values: dict[str, Any] = {
        "at": at or utcnow(),
        "actor": actor[:320],
        "action": action[:60],
        "campaign": campaign[:100],
        "target": target[:320],
        "details": json.dumps(details or {}, sort_keys=True, default=str),
    }
    if isinstance(session, Session):
        session.add(AuditEntry(**values))
    else:
        session.execute(insert(_TABLE).values(**values))


def entries(session: Session, *, action: str | None = None, limit: int = 100) -> list[AuditEntry]:
    """The newest entries first (``action`` filters), for ``status`` views and tests."""
    query = select(AuditEntry)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list(session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit)).all())


def cli_actor() -> str:
    """``cli:<os user>`` for commands run by hand (``getpass.getuser()``; ``cli:unknown`` when it cannot tell)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"
