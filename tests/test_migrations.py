"""Migrations: the revisions match the SQLModel tables, and every revision keeps the data written before it.

Revisions are append-only (``make migration`` adds the next one). For each revision after the first, a database is
built at the revision before it, filled with rows such as the service writes (``tests/migration_seed.py``), and
upgraded to head; every row of every table that still exists at head must come through with the same values in the
columns that still exist. New revisions are picked up without editing this file. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import social_campaign.models  # noqa: F401
from social_campaign.db import MIGRATIONS, make_engine, upgrade
from tests.migration_seed import SEED, Ref, generic_value

Snapshot = dict[str, list[dict[str, Any]]]


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


SCRIPTS = ScriptDirectory.from_config(_config())
HEAD = SCRIPTS.get_current_head()
#: (revision, the revision before it), oldest first
STEPS = [(s.revision, s.down_revision) for s in reversed(list(SCRIPTS.walk_revisions())) if s.down_revision]


@pytest.fixture
def bare_engine(any_url: str) -> Iterator[Engine]:
    """An engine on an empty database (no schema yet), SQLite and PostgreSQL."""
    eng = make_engine(any_url)
    yield eng
    eng.dispose()


def _upgrade_to(engine: Engine, revision: str) -> None:
    cfg = _config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


def _current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _tables(conn: Connection) -> sa.MetaData:
    meta = sa.MetaData()
    meta.reflect(bind=conn)
    meta.remove(meta.tables["alembic_version"])
    return meta


def _complete(table: sa.Table, row: dict[str, Any], n: int, keys: dict[str, list[Any]]) -> dict[str, Any]:
    """The seed row cut to the table's columns, with references resolved and later NOT NULL columns filled."""
    out: dict[str, Any] = {}
    for column in table.columns:
        if column.name in row:
            value = row[column.name]
            out[column.name] = keys[value.table][value.n] if isinstance(value, Ref) else value
        elif column.foreign_keys:
            out[column.name] = keys[next(iter(column.foreign_keys)).column.table.name][0]
        elif column.autoincrement is True or (column.primary_key and isinstance(column.type, sa.Integer)):
            continue  # the database numbers it
        elif column.server_default is not None:
            continue  # as the revision that added it fills old rows
        elif not column.nullable or column.primary_key:
            out[column.name] = generic_value(column, n)
    return out


def _fill(engine: Engine) -> None:
    """Rows in every table of the database as it stands: the realistic seed, or three generic rows."""
    keys: dict[str, list[Any]] = {}
    with engine.begin() as conn:
        for table in _tables(conn).sorted_tables:
            rows = SEED.get(table.name) or [{}, {}, {}]
            pk = list(table.primary_key.columns)
            keys[table.name] = []
            for n, row in enumerate(rows):
                result = conn.execute(table.insert().values(_complete(table, row, n, keys)))
                keys[table.name].append(result.inserted_primary_key[0] if len(pk) == 1 else None)


def _snapshot(engine: Engine) -> Snapshot:
    with engine.connect() as conn:
        meta = _tables(conn)
        out: Snapshot = {}
        for table in meta.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(*order))]
        return out


def _kept(before: Snapshot, after: Snapshot) -> None:
    """Every table still present at head has the same rows, compared over the columns that still exist."""
    assert before, "nothing was seeded"
    for name, rows in before.items():
        if name not in after:
            continue  # a later revision dropped the table on purpose
        assert len(after[name]) == len(rows), f"{name}: {len(rows)} rows before the upgrade, {len(after[name])} after"
        common = set(rows[0]) & set(after[name][0]) if rows and after[name] else set()
        for old, new in zip(rows, after[name], strict=True):
            assert {c: new[c] for c in common} == {c: old[c] for c in common}, f"{name}: a row changed"


def test_migrations_match_models(any_engine: Engine) -> None:
    with any_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == [], f"run `make migration`: {diff}"


def test_revisions_form_one_line_from_0001() -> None:
    assert SCRIPTS.get_bases() == ["0001"] and len(SCRIPTS.get_heads()) == 1
    assert [rev for rev, _ in STEPS] == sorted(rev for rev, _ in STEPS)


@pytest.mark.parametrize(("revision", "previous"), STEPS, ids=[rev for rev, _ in STEPS])
def test_upgrading_keeps_every_row(bare_engine: Engine, revision: str, previous: str) -> None:
    _upgrade_to(bare_engine, previous)
    _fill(bare_engine)
    before = _snapshot(bare_engine)
    assert all(before.values()), "every table at the previous revision holds rows"
    _upgrade_to(bare_engine, "head")
    assert _current(bare_engine) == HEAD
    after = _snapshot(bare_engine)
    _kept(before, after)
    if "delivery" in after:  # a few values spelled out, besides the comparison above
        texts = {r["post_id"]: r["text"] for r in after["delivery"]}
        assert texts["kickoff"] == "Ratify the #CRC 🧒🏽👧🏿 https://example.org/crc"
        assert texts["weekly"] == "يوم الطفل العالمي: حقوق كل طفل #ChildrensDay"
    if "pledge" in after:
        assert [(p["email"], p["status"]) for p in after["pledge"]] == [
            ("Amira.K@Example.org", "confirmed"), ("li.wei@example.cn", "withdrawn"), ("x@spam.example", "fraud"),
        ]  # fmt: skip
    if "attempt" in after:
        assert [a["outcome"] for a in after["attempt"]] == ["transient", "sent"]


def test_upgrade_is_idempotent(bare_engine: Engine) -> None:
    upgrade(bare_engine)
    _fill(bare_engine)
    before = _snapshot(bare_engine)
    upgrade(bare_engine)
    assert _current(bare_engine) == HEAD
    assert _snapshot(bare_engine) == before
