"""Holding SQLite's write lock from another connection, and engines that give up on it quickly (real locks, no mocks)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from social_campaign.db import make_engine


@contextmanager
def write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holds ``BEGIN IMMEDIATE`` on the database at ``path`` until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield holder
    finally:
        holder.rollback()
        holder.close()


def impatient_engine(url: str, busy_ms: int = 0) -> Engine:
    """``db.make_engine(url)`` whose connections wait at most ``busy_ms`` for a lock (the default waits 30 s)."""
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _impatient(dbapi_conn: Any, _record: Any) -> None:  # runs after make_engine's own PRAGMAs
        dbapi_conn.execute(f"PRAGMA busy_timeout={int(busy_ms)}")

    return engine
