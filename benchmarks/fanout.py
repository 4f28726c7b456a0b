"""Release fan-out: "it's time" emails to N confirmed supporters, handed to an SMTP sink on loopback.

    .venv/bin/python -m benchmarks fanout [--count N] [--no-postgres] [--pg-url URL]

Steps per database: N confirmed pledges are inserted, ``pledges.release.advance`` queues the N personal emails (timed:
the fan-out), then mail worker processes (``mail.worker.process_batch`` with the SMTP transport) send them to the
counting sink (``python -m tests.fakes.smtp``, its own process). Workers start, wait for a go signal, and report when
the queue is empty; the sink's count is checked against N (each recipient exactly once).
Runs: 1 worker on SQLite, 1 and 2 workers on PostgreSQL. Baseline in the same run: raw ``smtplib`` sending the same
pre-rendered messages over one connection, no database (the ceiling). Target: ≥1,000 emails/s with one worker.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _sink(out: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.smtp", "--port", "0", "--out", str(out)], cwd=ROOT,
                            stderr=subprocess.DEVNULL)
    while not (out / "port").exists():
        if proc.poll() is not None:
            raise SystemExit("the SMTP sink did not start")
        time.sleep(0.05)
    return proc, f"smtp://127.0.0.1:{(out / 'port').read_text()}"


def _settings(data: Path, db: str, smtp: str):  # type: ignore[no-untyped-def]
    from pydantic import SecretStr

    from social_campaign.config import Settings

    return Settings(data_dir=data, database_url=db, smtp_url=SecretStr(smtp), secret_key=SecretStr("benchmark-key-0001"),
                    pledge_rate_limits="", _env_file=None)  # type: ignore[call-arg]


def worker_main(argv: list[str]) -> int:
    """One mail worker process: wait for ``go``, drain the queue, print ``<finish time> <count>``."""
    from social_campaign.db import make_engine
    from social_campaign.mail import worker
    from social_campaign.mail.transport import build_transport

    db, smtp, data, go = argv
    settings = _settings(Path(data), db, smtp)
    engine = make_engine(db)
    me = worker.worker_id()
    Path(go + f".ready.{os.getpid()}").touch()
    while not Path(go).exists():
        time.sleep(0.001)
    done = 0
    marker = worker.SentMarker(engine, me, settings.lease_seconds)
    with build_transport(settings) as transport:
        while (n := worker.process_batch(settings, engine, transport, me, marker=marker)) > 0:
            done += n
    marker.close()
    print(f"{time.time():.6f} {done}", flush=True)
    return 0


def _run_db(label: str, db: str, n: int, workers: int, tmp: Path, smtp: str, out: Path) -> dict[str, float]:
    from social_campaign.db import make_engine, upgrade
    from social_campaign.pledges import release
    from tests.fakes.smtp import read_sink_log
    from tests.pledges.release_support import FIRE_AT, add_pledges, make_campaign

    engine = make_engine(db)
    upgrade(engine)
    add_pledges(engine, n)
    settings = _settings(tmp / "data", db, smtp)
    start = time.perf_counter()
    report = release.advance(settings, engine, make_campaign(tmp), FIRE_AT)
    fanout_s = time.perf_counter() - start
    assert report.queued == n, report
    engine.dispose()
    before = read_sink_log(out).total
    go = str(tmp / f"go-{uuid.uuid4().hex[:6]}")
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.fanout", "--worker", db, smtp, str(tmp / "data"), go],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    while len(list(tmp.glob(Path(go).name + ".ready.*"))) < workers:
        time.sleep(0.01)
    t0 = time.time()
    Path(go).touch()
    finishes = []
    total = 0
    for p in procs:
        stdout, _ = p.communicate(timeout=3600)
        finish, count = stdout.split()
        finishes.append(float(finish))
        total += int(count)
    elapsed = max(finishes) - t0
    log = read_sink_log(out)
    got = log.total - before
    assert got == n == total, (got, n, total)
    print(f"  {label}: fan-out queued {n} in {fanout_s:.1f} s ({n / fanout_s:,.0f}/s); sent in {elapsed:.1f} s "
          f"({n / elapsed:,.0f}/s)", flush=True)
    return {"rate": n / elapsed, "fanout": n / fanout_s}


def _baseline(n: int, smtp: str) -> float:
    """Raw smtplib, one connection, the same kind of pre-rendered messages, no database."""
    import smtplib
    from datetime import UTC, datetime

    from social_campaign.mail import render
    from social_campaign.mail.mime import build_message

    msgs = []
    for i in range(n):
        r = render.render("release", campaign_name="Universal Children's Day", withdraw_url=f"http://h/w/{i}",
                          name=f"Supporter {i}", share_url=f"http://h/c/s/share/{i}", share_text="Ratify the #CRC",
                          confirmed=n, goal=100)
        msgs.append((f"b{i}@example.org", build_message(
            mail_from="campaign@localhost", to_addr=f"b{i}@example.org", subject=r.subject, text=r.text, html=r.html,
            message_id=f"<b{i}@bench>", date=datetime.now(UTC), headers=r.headers)))
    host, port = smtp.removeprefix("smtp://").split(":")
    conn = smtplib.SMTP(host, int(port))
    start = time.perf_counter()
    for to, data in msgs:
        conn.sendmail("campaign@localhost", [to], data)
    elapsed = time.perf_counter() - start
    conn.quit()
    return n / elapsed


def _pg_database(admin_url: str) -> tuple[str, callable]:  # type: ignore[valid-type]
    from sqlalchemy import create_engine, text

    name = f"bench_fanout_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"{admin_url.rpartition('/')[0]}/{name}", drop


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        return worker_main(argv[1:])
    ap = argparse.ArgumentParser(prog="python -m benchmarks fanout", description=__doc__)
    ap.add_argument("--count", type=int, default=100_000, help="confirmed supporters (default 100000)")
    ap.add_argument("--no-postgres", action="store_true", help="SQLite only")
    ap.add_argument("--pg-url", default=os.environ.get("SOCIAL_CAMPAIGN_TEST_POSTGRES_URL", DEFAULT_PG))
    args = ap.parse_args(argv)
    import sqlalchemy

    n = args.count
    print(f"Conditions: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLAlchemy {sqlalchemy.__version__}; {n} confirmed supporters; sink and workers are separate processes "
          "on the same machine; 8 SMTP connections per worker.", flush=True)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        out = tmp / "sink"
        sink, smtp = _sink(out)
        try:
            base = _baseline(min(n, 20_000), smtp)
            print(f"  baseline: raw smtplib, one connection, no database: {base:,.0f}/s", flush=True)
            (tmp / "sqlite").mkdir()
            results["SQLite, 1 worker"] = _run_db("SQLite, 1 worker", f"sqlite:///{tmp}/sqlite/fanout.db", n, 1,
                                                  tmp / "sqlite", smtp, out)
            if not args.no_postgres:
                for workers in (1, 2):
                    url, drop = _pg_database(args.pg_url)
                    sub = tmp / f"pg{workers}"
                    sub.mkdir()
                    try:
                        results[f"PostgreSQL, {workers} worker{'s' if workers > 1 else ''}"] = _run_db(
                            f"PostgreSQL, {workers} worker(s)", url, n, workers, sub, smtp, out)
                    finally:
                        drop()
            log_conns = __import__("tests.fakes.smtp", fromlist=["read_sink_log"]).read_sink_log(out).connections
        finally:
            sink.terminate()
            sink.wait(10)
    print("\n| run | emails/s | fan-out (queueing) emails/s | vs baseline (raw smtplib, no DB) |")
    print("|---|---|---|---|")
    print(f"| baseline: raw smtplib, 1 connection, no DB | {base:,.0f} | n/a | 1.00x |")
    for label, r in results.items():
        print(f"| {label} | {r['rate']:,.0f} | {r['fanout']:,.0f} | {r['rate'] / base:.2f}x |")
    print(f"\nSMTP connections seen by the sink over all runs: {log_conns}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
