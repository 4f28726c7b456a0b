"""Where personal data still is: every text cell of every table, every file of the data dir."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel


def database_traces(engine: Engine, needles: list[str]) -> list[str]:
    """``table.column = value`` for every cell (of every table) that contains one of ``needles`` (case-insensitive)."""
    low = [n.lower() for n in needles]
    found = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in row._mapping.items():
                    text = value if isinstance(value, str) else (value.decode("utf-8", "replace") if isinstance(value, bytes) else None)
                    if text is not None and any(n in text.lower() for n in low):
                        found.append(f"{table.name}.{column} = {text[:80]!r}")
    return found


def file_traces(root: Path, needles: list[str]) -> list[str]:
    """Files under ``root`` whose bytes contain one of ``needles`` (case-insensitive, UTF-8)."""
    low = [n.lower().encode() for n in needles]
    return [str(p) for p in sorted(root.rglob("*")) if p.is_file() and any(n in p.read_bytes().lower() for n in low)]
