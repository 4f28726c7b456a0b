"""The Alembic revision matches the SQLModel tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import social_campaign.models  # noqa: F401


def test_migrations_match_models(any_engine: Engine) -> None:
    with any_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == [], f"run `make migration`: {diff}"


def test_upgrade_is_idempotent(any_engine: Engine) -> None:
    from social_campaign.db import upgrade

    upgrade(any_engine)
    upgrade(any_engine)
