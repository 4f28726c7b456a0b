"""Revision 0003 drops ``ratehit`` (rate limits moved to upserted ``ratebucket`` rows); its downgrade recreates the table
and its indexes as 0001 made them, and upgrading again drops it. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from social_campaign.db import MIGRATIONS


def _migrate(engine: Engine, fn: object, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        fn(cfg, revision)  # type: ignore[operator]
        conn.commit()


def test_0003_drops_ratehit_and_its_downgrade_recreates_it(any_engine: Engine) -> None:
    assert "ratehit" not in sa.inspect(any_engine).get_table_names()
    assert "ratebucket" in sa.inspect(any_engine).get_table_names()
    _migrate(any_engine, command.downgrade, "0002")
    inspector = sa.inspect(any_engine)
    assert {c["name"] for c in inspector.get_columns("ratehit")} == {"id", "campaign", "ip_hash", "at"}
    assert {i["name"]: i["column_names"] for i in inspector.get_indexes("ratehit")} == {
        "ix_ratehit_at": ["at"], "ix_ratehit_lookup": ["campaign", "ip_hash", "at"],
    }
    with any_engine.begin() as conn:  # usable as the old code used it
        conn.execute(sa.text("INSERT INTO ratehit (campaign, ip_hash, at) VALUES ('c', :h, :at)"),
                     {"h": "h" * 64, "at": datetime(2027, 1, 1, tzinfo=UTC).replace(tzinfo=None)})
        assert conn.execute(sa.text("SELECT count(*) FROM ratehit")).scalar_one() == 1
    _migrate(any_engine, command.upgrade, "head")
    assert "ratehit" not in sa.inspect(any_engine).get_table_names()
