"""Pledge intake over HTTP: sustained pledges/s and p99 latency at a fixed offered rate, on SQLite (WAL) and PostgreSQL.

    .venv/bin/python -m benchmarks pledge_intake [--count N] [--rate R] [--workers 1 2] [--no-postgres] [--no-sqlite]

Each run starts a fresh database and ``social-campaign serve --role web --workers N`` on the shipped campaign; the load
generator runs in its own process. Baseline, measured in the same run on the same server: ``GET /healthz`` (a trivial
endpoint with a DB ping). Every pledge is new (distinct email) and valid: CSRF check, validation, the duplicate check,
the pledge insert and the confirmation email's enqueue (group commit: many pledges per transaction, each answered only
after its transaction committed). Rate limits are off (all requests come from 127.0.0.1).
Target: ≥500 pledges/s with p99 < 100 ms on SQLite.
"""

from __future__ import annotations

import argparse
import os

from benchmarks._web import (
    HEADER,
    PG_DEFAULT,
    conditions,
    load,
    postgres_database,
    row,
    server,
)


def measure(label: str, database_url: str | None, count: int, rate: float, workers: int) -> list[str]:
    lines = []
    label = f"{label}, {workers} web process{'es' if workers > 1 else ''}"
    with server(database_url, workers) as port:
        load(port, "--get", "/healthz", "--count", "500", "--concurrency", "8")  # warm-up
        base = load(port, "--get", "/healthz", "--count", str(count * 2), "--concurrency", "16")
        lines.append(row(f"{label}: GET /healthz, closed loop x16", base))
        load(port, "--pledge", "childrens-day", "--count", "300", "--concurrency", "8")  # warm-up
        top = load(port, "--pledge", "childrens-day", "--count", str(count), "--concurrency", "16")
        lines.append(row(f"{label}: POST pledge, closed loop x16 (sustained)", top, float(base["rate"])))  # type: ignore[arg-type]
        fixed = load(port, "--pledge", "childrens-day", "--mode", "open", "--rate", str(rate), "--count", str(count),
                     "--concurrency", "64")
        lines.append(row(f"{label}: POST pledge, open loop at {rate:g}/s offered", fixed, float(base["rate"])))  # type: ignore[arg-type]
    return lines


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks pledge_intake", description=__doc__)
    ap.add_argument("--count", type=int, default=3000, help="pledges per run (default 3000)")
    ap.add_argument("--rate", type=float, default=500.0, help="offered rate of the open-loop run (default 500/s)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="web processes to measure (default 1 2)")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args(argv)
    lines: list[str] = []
    for workers in args.workers:
        if not args.no_sqlite:
            lines += measure("SQLite WAL", None, args.count, args.rate, workers)
        if not args.no_postgres:
            with postgres_database(os.environ.get("SOCIAL_CAMPAIGN_TEST_POSTGRES_URL", PG_DEFAULT)) as url:
                lines += measure("PostgreSQL", url, args.count, args.rate, workers)
    print(f"Conditions: {conditions()}; {args.count} pledges per run.\n")
    print(HEADER)
    print("\n".join(lines))
    return 0
