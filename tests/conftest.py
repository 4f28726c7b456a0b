"""Shared fixtures: clean environment, settings on a temporary data dir, engines for SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.db import make_engine, upgrade

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
#: Where ``make test`` looks for PostgreSQL when SOCIAL_CAMPAIGN_TEST_POSTGRES_URL is unset (``.ci/run``'s server).
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

pytest_plugins = ["tests.fakes"]  # fake_x, fake_graph (tests/fakes/__init__.py)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SOCIAL_CAMPAIGN_* setting leaks in from the developer's shell, and no .env is read from the checkout."""
    for key in list(os.environ):
        if key.startswith("SOCIAL_CAMPAIGN_") and key != "SOCIAL_CAMPAIGN_TEST_POSTGRES_URL":
            monkeypatch.delenv(key, raising=False)
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", pledge_rate_limits="", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings.resolved_database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@functools.cache
def postgres_url() -> str | None:
    """SOCIAL_CAMPAIGN_TEST_POSTGRES_URL, else the default address when a server answers there (probed once per
    session, never started: only ``.ci/run`` starts one), else None."""
    configured = os.environ.get("SOCIAL_CAMPAIGN_TEST_POSTGRES_URL")
    if configured:
        return configured
    import psycopg

    try:
        psycopg.connect(DEFAULT_PG_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.Error:
        return None
    return DEFAULT_PG_URL


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (created and dropped), or skip when no server answers."""
    server = postgres_url()
    if not server:
        pytest.skip("no PostgreSQL: SOCIAL_CAMPAIGN_TEST_POSTGRES_URL is unset and nothing answers at 127.0.0.1:5432")
    name = f"sc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = server.rpartition("/")
    url = f"{base}/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            # FORCE ends the test's own pooled connections in the same statement: a separate terminate-then-drop
            # races with a pool (or a test's background thread) that reconnects in between
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on SQLite and (when a server answers) PostgreSQL: the same test runs on both."""
    return str(request.getfixturevalue("pg_url")) if request.param == "postgres" else f"sqlite:///{tmp_path / 'any.db'}"


@pytest.fixture
def any_engine(any_url: str) -> Iterator[Engine]:
    """``any_url`` with the schema upgraded to head."""
    eng = make_engine(any_url)
    upgrade(eng)
    yield eng
    eng.dispose()
