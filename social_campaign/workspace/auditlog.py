"""Reading the audit log for the owners' page ``/admin/audit``: newest first, paged, filtered by campaign and action,
with a ``diff`` in the details split into lines marked added, removed or context (the page shows the + and - signs,
so the marking never rests on colour alone)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from social_campaign.models import AuditEntry

PAGE = 50


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "ctx"
    sign: str  # "+", "-" or " "
    text: str


@dataclass(frozen=True)
class Row:
    id: int
    at: datetime
    actor: str
    action: str
    campaign: str
    target: str
    details: list[tuple[str, str]]
    diff: list[DiffLine]


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    page: int
    more: bool
    campaigns: list[str]
    actions: list[str]


def diff_lines(diff: str) -> list[DiffLine]:
    """A unified diff as marked lines (file headers ``---``/``+++`` and ``@@`` hunks are context)."""
    out = []
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            out.append(DiffLine("add", "+", line[1:]))
        elif line.startswith("-") and not line.startswith("---"):
            out.append(DiffLine("del", "-", line[1:]))
        else:
            out.append(DiffLine("ctx", " ", line[1:] if line.startswith(" ") else line))
    return out


def _row(entry: AuditEntry) -> Row:
    try:
        details: Any = json.loads(entry.details or "{}")
    except ValueError:
        details = {"details": entry.details}
    if not isinstance(details, dict):
        details = {"details": details}
    diff = details.pop("diff", "")
    shown = [(str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in sorted(details.items())]
    assert entry.id is not None
    return Row(entry.id, entry.at, entry.actor, entry.action, entry.campaign, entry.target, shown,
               diff_lines(diff if isinstance(diff, str) else json.dumps(diff)))


def read(engine: Engine, *, campaign: str = "", action: str = "", page: int = 1) -> Page:
    """One page of entries, newest first, filtered by ``campaign`` and ``action`` when given."""
    page = max(1, page)
    query = select(AuditEntry)
    if campaign:
        query = query.where(AuditEntry.campaign == campaign)
    if action:
        query = query.where(AuditEntry.action == action)
    with Session(engine) as s:
        found = list(s.exec(query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).offset((page - 1) * PAGE).limit(PAGE + 1)).all())
        campaigns = [c for c in s.exec(select(AuditEntry.campaign).distinct().order_by(AuditEntry.campaign)).all() if c]
        actions = list(s.exec(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all())
    return Page([_row(e) for e in found[:PAGE]], page, len(found) > PAGE, campaigns, actions)


def count(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(AuditEntry)).one())
