"""The engine, sessions and schema upgrades.

SQLite (the default) runs in WAL mode with a busy timeout, and every write transaction starts with ``BEGIN IMMEDIATE``
so that claiming a row is a single-writer transaction. PostgreSQL is used as it is; claims there use
``SELECT … FOR UPDATE SKIP LOCKED`` (see ``scheduling/claim.py``).

Schema changes go through Alembic (``social_campaign/migrations``); :func:`upgrade` runs on every start.
Viewing commands use :func:`open_existing` instead, which never creates or migrates a database.

A SQLite database file, its ``-wal`` and ``-shm`` are 0600 and a folder made for it 0700, whatever the umask.
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
from social_campaign.files import FILE_MODE, private_dir, private_file

MIGRATIONS = Path(__file__).parent / "migrations"
_upgrade_lock = threading.Lock()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE`` write transactions."""
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            private_dir(path.parent)
            private_file(path)  # 0600 before SQLite opens it; SQLite gives -wal and -shm the same mode
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
            if path is not None:
                _private_sidecars(path)

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (``None`` for an in-memory database or another database)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1].split("?", 1)[0] if "///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def _private_sidecars(path: Path) -> None:
    for sidecar in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if sidecar.stat().st_mode & 0o077:
                sidecar.chmod(FILE_MODE)
        except OSError:  # not there (yet), or not ours: nothing to tighten
            pass


def _engine(settings: Settings) -> Engine:
    try:
        return make_engine(settings.resolved_database_url)
    except SQLAlchemyError as exc:  # malformed URL
        raise DatabaseError(f"SOCIAL_CAMPAIGN_DATABASE_URL: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from None
    except ModuleNotFoundError as exc:
        hint = ""
        if "psycopg" in str(exc.name):
            hint = "; for PostgreSQL use postgresql+psycopg://user:password@host:5432/dbname"
        raise DatabaseError(f"SOCIAL_CAMPAIGN_DATABASE_URL: database driver not installed ({exc.name}){hint}") from None


def engine_for(settings: Settings) -> Engine:
    """Create the engine for the settings and bring the schema up to date (clear error if unreachable)."""
    if sqlite_path(settings.resolved_database_url) is not None:
        private_dir(settings.data_dir, tighten=True)
    engine = _engine(settings)
    upgrade(engine)
    return engine


def open_existing(settings: Settings) -> Engine:
    """The engine of a database that exists and is at the current schema, for viewing; never creates or migrates.

    Raises :class:`DatabaseError` (one line) when there is no database yet or its schema is not the current one.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    url = settings.resolved_database_url
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise DatabaseError(f"no database yet ({path}): `social-campaign run`, `serve` or `db upgrade` creates it")
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        engine.dispose()
        raise DatabaseError(f"database unreachable: {_first_line(exc)}") from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseError(f"database unreadable: {_first_line(exc)}") from None
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if current != head:
        engine.dispose()
        where = path or engine.url.render_as_string(hide_password=True)
        if current is None:
            raise DatabaseError(f"no database yet ({where}): `social-campaign run`, `serve` or `db upgrade` creates it")
        raise DatabaseError(
            f"the database ({where}) is at schema {current}, not {head}: run `social-campaign db upgrade`"
        )
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
