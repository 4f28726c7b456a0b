"""Flood: one client sends pledge POSTs as fast as it can while another client reads the campaign page.

    .venv/bin/python -m benchmarks flood [--count 6000] [--connections 16] [--reader-rate 50] [--baseline-seconds 30]

Starts ``social-campaign serve`` (every role: web, scheduler, workers; one web process) on the shipped campaign, a fresh
SQLite data dir and the DEFAULT rate limits (``SOCIAL_CAMPAIGN_PLEDGE_RATE_LIMITS`` unset). The flooder is
``benchmarks._load`` in its own process: ``--count`` pledges (distinct emails, valid form) over ``--connections``
keep-alive connections, closed loop. The reader runs in this process: ``GET /c/childrens-day`` at a fixed offered rate
over 4 keep-alive connections, latency measured from each request's due time (queueing counts; no coordinated
omission). Baseline, in the same run on the same server: the same reader for ``--baseline-seconds`` with no flood.
Database growth is the size of ``social-campaign.db`` plus its ``-wal`` and ``-shm`` files, from just before a phase
to ``--settle`` seconds after it (so the mail worker's follow-up writes count too), measured twice: as written (the WAL
as the phase left it: every page written since the last checkpoint, a scratch file SQLite reuses after each
checkpoint, 1000 pages by default) and retained (after ``PRAGMA wal_checkpoint(TRUNCATE)`` from this process before
and after the phase: what the database keeps).
Targets: the reader's p99 under 200 ms during the flood, and under 1 MB of database growth (retained).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from benchmarks._load import Conn, _percentile
from benchmarks._web import ROOT, conditions, free_port
from social_campaign.web.routes.pledge import REFUSAL_PAUSE

SLUG = "childrens-day"
TARGET_P99_MS = 200.0
TARGET_GROWTH = 1_000_000


@contextmanager
def serve(data_dir: Path, role: str = "all") -> Iterator[int]:
    """``social-campaign serve --role ROLE`` with the default limits on a fresh data dir; yields the port once the page
    answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
    env.update({"SOCIAL_CAMPAIGN_DATA_DIR": str(data_dir), "SOCIAL_CAMPAIGN_LOG_LEVEL": "warning",
                "SOCIAL_CAMPAIGN_SCHEDULE": str(ROOT / "schedule.toml")})
    proc = subprocess.Popen([sys.executable, "-m", "social_campaign", "serve", "--role", role, "--port", str(port)], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/c/{SLUG}", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def db_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.glob("social-campaign.db*") if p.is_file())


def checkpoint(data_dir: Path) -> int:
    """Fold the WAL into the database file and truncate it; returns the database's size afterwards (db+wal+shm)."""
    with closing(sqlite3.connect(data_dir / "social-campaign.db", timeout=30)) as db:
        busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    if busy:
        raise SystemExit("the WAL checkpoint was blocked by a reader; run again")
    return db_bytes(data_dir)


def table_counts(data_dir: Path) -> dict[str, int]:
    with closing(sqlite3.connect(f"file:{data_dir / 'social-campaign.db'}?mode=ro", uri=True, timeout=30)) as db:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("pledge", "ratebucket", "emailmessage")}


async def read_pages(port: int, rate: float, done: Callable[[], bool]) -> dict[str, object]:
    """GET the campaign page at ``rate``/s (open loop, 4 connections) until ``done()``; latency from the due time."""
    raw = f"GET /c/{SLUG} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/html\r\n\r\n".encode()
    idle: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(4):
        idle.put_nowait(Conn("127.0.0.1", port))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def one(due: float) -> None:
        conn = await idle.get()
        try:
            statuses[await conn.request(raw)] += 1
            latencies.append(time.perf_counter() - due)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            statuses[0] += 1
            conn.writer = None
        finally:
            idle.put_nowait(conn)

    start, tasks, i = time.perf_counter(), [], 0
    while not done():
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
        i += 1
    await asyncio.gather(*tasks)
    return {"count": len(latencies), "non_200": sum(n for s, n in statuses.items() if s != 200),
            "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2), "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
            "max_ms": round(max(latencies, default=float("nan")) * 1000, 2), "seconds": round(time.perf_counter() - start, 2)}


async def baseline(port: int, rate: float, seconds: float) -> dict[str, object]:
    end = time.perf_counter() + seconds
    return await read_pages(port, rate, lambda: time.perf_counter() >= end)


async def flood(port: int, rate: float, count: int, connections: int) -> tuple[dict[str, object], dict[str, object]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks._load", "--port", str(port), "--pledge", SLUG, "--count", str(count),
        "--concurrency", str(connections), "--max-seconds", "600", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )
    output = asyncio.create_task(proc.communicate())
    reader = await read_pages(port, rate, output.done)
    stdout, _ = await output
    if proc.returncode:
        raise SystemExit(f"the flooder failed (exit {proc.returncode})")
    return reader, json.loads(stdout)


def row(label: str, r: dict[str, object], written: int, kept: int, counts: dict[str, int]) -> str:
    return (f"| {label} | {r['seconds']} | {r['count']} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} | {r['non_200']} "
            f"| {kept:,} | {written:,} | {counts['pledge']} / {counts['ratebucket']} / {counts['emailmessage']} |")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks flood", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=6000, help="pledge POSTs the flooder sends (default 6000)")
    ap.add_argument("--connections", type=int, default=16, help="the flooder's keep-alive connections (default 16)")
    ap.add_argument("--reader-rate", type=float, default=50.0, help="campaign page GETs per second (default 50)")
    ap.add_argument("--baseline-seconds", type=float, default=30.0, help="length of the no-flood phase (default 30)")
    ap.add_argument("--role", choices=("all", "web"), default="all",
                    help="serve's role: all (web, scheduler and workers in one process; the default) or web only")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds after a phase before the database is measured")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp), args.role) as port:
        data = Path(tmp)
        asyncio.run(baseline(port, args.reader_rate, 2.0))  # warm-up
        time.sleep(args.settle)
        size0 = checkpoint(data)
        base = asyncio.run(baseline(port, args.reader_rate, args.baseline_seconds))
        time.sleep(args.settle)
        written1, counts1 = db_bytes(data) - size0, table_counts(data)
        size1 = checkpoint(data)
        reader, flooder = asyncio.run(flood(port, args.reader_rate, args.count, args.connections))
        time.sleep(args.settle)
        written2, counts2 = db_bytes(data) - size1, table_counts(data)
        size2 = checkpoint(data)
        with closing(sqlite3.connect(data / "social-campaign.db")) as db:
            hits = db.execute("SELECT sum(hits) FROM ratebucket").fetchone()[0]
    statuses = dict(flooder["statuses"])  # type: ignore[call-overload]
    versions = conditions().split("; ")[0]  # the rest of the shared text describes the other web benchmarks' server
    print(f"Conditions: {versions}, SQLite {sqlite3.sqlite_version}; `social-campaign serve --role {args.role}` (one web "
          f"process; uvicorn with uvloop + httptools, no access log), SQLite WAL, the default rate limits; refusals of a "
          f"client already known to be over a limit are answered after a {REFUSAL_PAUSE:g} s pause; "
          f"reader at {args.reader_rate:g} GET/s open loop over 4 connections; flooder {args.count} POSTs over "
          f"{args.connections} connections, closed loop.\n")
    print("| phase | seconds | reader GETs | reader p50 ms | reader p99 ms | max ms | non-200 | DB growth retained, bytes "
          "| WAL written, bytes | rows after: pledges / rate buckets / emails |\n|---|---|---|---|---|---|---|---|---|---|")
    print(row("baseline: reader alone", base, written1, size1 - size0, counts1))
    print(row(f"flood: {args.count} POSTs from one client", reader, written2, size2 - size1, counts2))
    ratio = float(reader["p99_ms"]) / float(base["p99_ms"]) if float(base["p99_ms"]) else float("nan")  # type: ignore[arg-type]
    print(f"\nFlooder: {flooder['count']} answered in {flooder['elapsed_s']} s ({flooder['rate']}/s), statuses {statuses}, "
          f"{flooder['errors']} connection errors; its p50 {flooder['p50_ms']} ms, p99 {flooder['p99_ms']} ms; "
          f"attempts that reached the database (sum of bucket hits, 2 windows): {hits}; load average at the end "
          f"{os.getloadavg()[0]:.1f}.")
    ok_latency = float(reader["p99_ms"]) < TARGET_P99_MS  # type: ignore[arg-type]
    ok_growth = size2 - size1 < TARGET_GROWTH
    print(f"Reader p99 during the flood: {reader['p99_ms']} ms = {ratio:.2f}x the baseline's {base['p99_ms']} ms "
          f"(target < {TARGET_P99_MS:g} ms: {'met' if ok_latency else 'NOT met'}); database growth "
          f"{size2 - size1:,} bytes (target < 1 MB: {'met' if ok_growth else 'NOT met'}).")
    return 0  # timed figures are reported (docs/PERFORMANCE.md), never asserted
