"""The engine, sessions and schema upgrades.

SQLite (the default) runs in WAL mode with a busy timeout, and every write transaction starts with ``BEGIN IMMEDIATE``
so that claiming a row is a single-writer transaction. PostgreSQL is used as it is; claims there use
``SELECT … FOR UPDATE SKIP LOCKED`` (see ``scheduling/claim.py``).

Schema changes go through Alembic (``social_campaign/migrations``); :func:`upgrade` runs on every start.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session, create_engine

from social_campaign.config import Settings
from social_campaign.errors import DatabaseError

MIGRATIONS = Path(__file__).parent / "migrations"
_upgrade_lock = threading.Lock()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE`` write transactions."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=pool_size, max_overflow=20)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN itself
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)


def engine_for(settings: Settings) -> Engine:
    """Create the engine for the settings and bring the schema up to date (clear error if unreachable)."""
    try:
        engine = make_engine(settings.resolved_database_url)
    except SQLAlchemyError as exc:  # malformed URL
        raise DatabaseError(f"SOCIAL_CAMPAIGN_DATABASE_URL: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from None
    except ModuleNotFoundError as exc:
        raise DatabaseError(f"SOCIAL_CAMPAIGN_DATABASE_URL: database driver not installed ({exc.name})") from None
    upgrade(engine)
    return engine


def upgrade(engine: Engine) -> None:
    """Run Alembic migrations to head on ``engine``. Safe to call from several processes at once."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    try:
        with _upgrade_lock, engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(7346501)"))  # one migrator at a time across processes
                conn.commit()
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
            finally:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_unlock(7346501)"))
                    conn.commit()
    except OperationalError as exc:
        raise DatabaseError(f"database unreachable: {_first_line(exc)}") from None
    except SQLAlchemyError as exc:
        raise DatabaseError(f"database upgrade failed: {_first_line(exc)}") from None


def _first_line(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else exc.__class__.__name__


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
