"""Shared by the web benchmarks: start the app under uvicorn in a subprocess, run the load generator in another."""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def reachable_server(args: argparse.Namespace) -> str | None:
    """The PostgreSQL server a benchmark also runs on: ``--pg-url`` if given; else :data:`PG_DEFAULT` when it answers
    within 3 s; ``None`` with ``--no-postgres`` or when nothing answers (the benchmark then runs on SQLite alone)."""
    if args.no_postgres:
        return None
    if args.pg_url:
        return str(args.pg_url)
    try:
        import psycopg

        psycopg.connect(PG_DEFAULT.replace("+psycopg", ""), connect_timeout=3).close()
    except Exception:
        return None
    return PG_DEFAULT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server of ``admin_url`` (dropped afterwards)."""
    from sqlalchemy import create_engine, text

    name = f"sc_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@contextmanager
def server(database_url: str | None = None, workers: int = 1) -> Iterator[int]:
    """``social-campaign serve --role web`` (what ships: uvicorn with uvloop + httptools, no access log) on the
    shipped campaign, a fresh data dir, rate limits off (every request comes from 127.0.0.1); yields the port."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "social_campaign", "serve", "--role", "web", "--port", str(port),
               "--workers", str(workers)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
        env.update({
            "SOCIAL_CAMPAIGN_DATA_DIR": tmp, "SOCIAL_CAMPAIGN_PLEDGE_RATE_LIMITS": "", "SOCIAL_CAMPAIGN_LOG_LEVEL": "warning",
            "SOCIAL_CAMPAIGN_SCHEDULE": str(ROOT / "schedule.toml"),
        })
        if database_url:
            env["SOCIAL_CAMPAIGN_DATABASE_URL"] = database_url
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.1)
            yield port
        finally:
            proc.terminate()
            proc.wait(20)


def load(port: int, *args: str) -> dict[str, object]:
    """Run ``benchmarks._load`` in its own process against ``port`` and return its JSON result."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks._load", "--port", str(port), *args], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def conditions() -> str:
    import fastapi
    import sqlalchemy
    import uvicorn

    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"FastAPI {fastapi.__version__}, uvicorn {uvicorn.__version__} ({loop}), SQLAlchemy {sqlalchemy.__version__}; "
        "`social-campaign serve --role web`, load generator in a separate process on the same machine (keep-alive, "
        "raw asyncio sockets)"
    )


def row(label: str, r: dict[str, object], baseline: float | None = None) -> str:
    ratio = f"{float(r['rate']) / baseline:.2f}x" if baseline else "1.00x (baseline)"  # type: ignore[arg-type]
    errors = int(r["errors"]) + sum(n for s, n in dict(r["statuses"]).items() if str(s) != "200")  # type: ignore[call-overload]
    return f"| {label} | {r['count']} | {r['rate']} | {r['p50_ms']} | {r['p99_ms']} | {errors} | {ratio} |"


HEADER = "| run | requests | req/s | p50 ms | p99 ms | non-200 | vs baseline |\n|---|---|---|---|---|---|---|"
