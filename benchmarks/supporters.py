"""Supporters' data: export 100,000 supporters to CSV, and erase one supporter from a campaign of 100,000.

    .venv/bin/python -m benchmarks supporters [--count N] [--erasures K] [--pg-url URL | --no-postgres]

1. Export: N confirmed supporters who all opted in (with their consent records, ``tests/supporters/seed.py``) are
   inserted, then ``social-campaign supporters export --campaign … --output FILE`` runs as its own process, as an
   organiser runs it: wall time and the process's peak RSS (``wait4``). Baseline in the same run: a raw ``sqlite3``
   (or ``psycopg``) process reading the same columns of the same rows (pledge ⋈ pledgedata ⋈ consentrecord ⋈
   consenttext) and writing them with ``csv`` — no SQLAlchemy, no checks, no neutralising — and ``python -c pass``.
   Targets: under 5 s, peak RSS under 150 MB.
2. Erasure: K (default 25) supporters spread over the campaign are erased one at a time through ``erase_email`` (look
   up by address, blank, delete the emails, audit entry, webhook event, commit, SQLite WAL checkpoint), in this
   process; median and max wall time, and the median CPU time of this process (the database server's, for
   PostgreSQL, is not in it). Target: under 50 ms.

SQLite always; PostgreSQL too when ``--pg-url`` is given or a server answers at the default test address.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._web import reachable_server

ROOT = Path(__file__).resolve().parent.parent
SLUG = "childrens-day"

RAW_SQL = (
    "SELECT p.id, p.name, p.email, p.country, d.lang, c.organisation, c.at, t.text, t.version, c.text_hash, c.page_url, "
    "p.created_at, p.confirmed_at FROM pledge p JOIN pledgedata d ON d.pledge_id = p.id "
    "JOIN consentrecord c ON c.pledge_id = p.id AND c.kind = 'updates' AND c.given "
    "LEFT JOIN consenttext t ON t.hash = c.text_hash WHERE p.campaign = 'childrens-day' AND p.status = 'confirmed' "
    "ORDER BY p.id"
)
RAW_SQLITE = f"""
import csv, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
w = csv.writer(open(sys.argv[2], "w", newline=""))
for row in con.execute({RAW_SQL!r}):
    w.writerow(row)
"""
RAW_PG = f"""
import csv, psycopg, sys
with psycopg.connect(sys.argv[1]) as con, con.cursor(name="raw") as cur:
    cur.itersize = 2000
    cur.execute({RAW_SQL!r})
    w = csv.writer(open(sys.argv[2], "w", newline=""))
    for row in cur:
        w.writerow(row)
"""


#: Runs the command given as arguments and prints its peak RSS in KiB. A small process forks the measured one: the
#: child's high-water mark starts at its parent's size before ``exec``, so the benchmark's own (large) process must
#: not be that parent.
PEAK = "import resource, subprocess, sys, time; t = time.perf_counter(); r = subprocess.run(sys.argv[1:]); " \
       "t = time.perf_counter() - t; u = resource.getrusage(resource.RUSAGE_CHILDREN); " \
       "print(t, u.ru_maxrss, u.ru_utime + u.ru_stime, file=sys.stderr); sys.exit(r.returncode)"


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system) of one process run to completion (exit 0 required).
    On a shared, busy machine the CPU time is the steadier figure."""
    proc = subprocess.run([sys.executable, "-c", PEAK, *cmd], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])}… failed: {proc.stderr}")
    elapsed, kib, cpu = proc.stderr.strip().splitlines()[-1].split()
    return float(elapsed), int(kib) / 1024, float(cpu)


def run(db_url: str, data: Path, count: int, erasures: int) -> dict[str, float]:
    from sqlalchemy import func, select

    from social_campaign.config import Settings
    from social_campaign.db import engine_for
    from social_campaign.models import Pledge
    from social_campaign.supporters.erase import erase_email, forget_old_copies
    from tests.supporters.seed import seed

    settings = Settings(data_dir=data, database_url=db_url, pledge_rate_limits="", _env_file=None)  # type: ignore[call-arg]
    engine = engine_for(settings)
    t0 = time.perf_counter()
    seed(engine, count, updates_every=1)
    forget_old_copies(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    print(f"  {count:,} supporters inserted in {time.perf_counter() - t0:.1f} s", flush=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "SOCIAL_CAMPAIGN_DATA_DIR": str(data),
           "SOCIAL_CAMPAIGN_DATABASE_URL": db_url}
    out = data.parent / "export.csv"
    res: dict[str, float] = {}
    res["export_s"], res["export_mb"], res["export_cpu"] = timed(
        [sys.executable, "-m", "social_campaign", "supporters", "export", "--campaign", SLUG, "--output", str(out)], env)
    lines = sum(1 for _ in out.open(newline=""))
    assert lines == count + 1, f"export wrote {lines - 1} rows, expected {count}"
    if engine.dialect.name == "sqlite":
        raw = [sys.executable, "-c", RAW_SQLITE, str(engine.url.database), str(data.parent / "raw.csv")]
    else:
        raw = [sys.executable, "-c", RAW_PG, db_url.replace("+psycopg", ""), str(data.parent / "raw.csv")]
    res["raw_s"], res["raw_mb"], res["raw_cpu"] = timed(raw, env)
    res["pass_s"], res["pass_mb"], res["pass_cpu"] = timed([sys.executable, "-c", "pass"], env)

    times, cpu = [], []
    step = max(1, count // erasures)
    for i in range(0, count, step)[:erasures]:
        start, start_cpu = time.perf_counter(), time.process_time()
        n = erase_email(engine, f"p{i}@example.org", now=datetime.now(UTC), actor="benchmark", data_dir=data)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert n == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Pledge)).scalar_one() == count
    res["erase_median_ms"], res["erase_max_ms"] = statistics.median(times) * 1000, max(times) * 1000
    res["erase_cpu_ms"] = statistics.median(cpu) * 1000
    engine.dispose()
    return res


def _pg_database(server: str) -> tuple[str, object]:
    from sqlalchemy import create_engine, text

    name = f"sc_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return f"{server.rpartition('/')[0]}/{name}", drop



def report(label: str, r: dict[str, float]) -> None:
    print(f"{label}: export {r['export_s']:.2f} s ({r['export_cpu']:.2f} s CPU), peak RSS {r['export_mb']:.0f} MB "
          f"(raw SELECT→csv {r['raw_s']:.2f} s ({r['raw_cpu']:.2f} s CPU) / {r['raw_mb']:.0f} MB: "
          f"{r['export_s'] / r['raw_s']:.1f}x; python -c pass {r['pass_s']:.2f} s / {r['pass_mb']:.0f} MB); "
          f"erase one: median {r['erase_median_ms']:.1f} ms (CPU of this process {r['erase_cpu_ms']:.1f} ms), "
          f"max {r['erase_max_ms']:.1f} ms; load average {os.getloadavg()[0]:.1f}", flush=True)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks supporters")
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--erasures", type=int, default=25)
    ap.add_argument("--pg-url")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="sc-bench-supporters-") as tmp:
        print(f"SQLite ({args.count:,} supporters, all opted in)", flush=True)
        report("SQLite", run(f"sqlite:///{tmp}/data/social_campaign.db", Path(tmp) / "data", args.count, args.erasures))
        server = reachable_server(args)
        if server:
            url, drop = _pg_database(server)
            try:
                print(f"PostgreSQL ({args.count:,} supporters)", flush=True)
                report("PostgreSQL", run(url, Path(tmp) / "pgdata", args.count, args.erasures))
            finally:
                drop()  # type: ignore[operator]
    return 0
