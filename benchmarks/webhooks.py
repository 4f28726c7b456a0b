"""Webhook fan-out: N events to a local receiver, signed and sent by one webhook worker.

    .venv/bin/python -m benchmarks webhooks [--count N] [--concurrency C] [--no-postgres] [--pg-url URL]

Steps per database: N events are emitted in one transaction (``webhooks.events.emit``, one endpoint; timed), then one
worker (``webhooks.worker.process_batch`` in a loop: claim 200, POST them signed on ``C`` threads over one pooled
``requests`` session, record) sends them to the recording receiver (``python -m tests.fakes.webhook_receiver``, its
own process) until the queue is empty; the receiver's count of distinct ``webhook-id`` is checked against N.
Baseline in the same run: a plain loop POSTing the same N signed payloads over one ``requests.Session``, no database
(signing included). Target: ≥1,000 events/s with one worker.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _receiver() -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.webhook_receiver", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    return proc, f"http://127.0.0.1:{int(proc.stdout.readline())}"


def _stats(url: str) -> dict[str, int]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{url}/_stats", timeout=30) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def _settings(data: Path, db: str, url: str, secret: str, concurrency: int):  # type: ignore[no-untyped-def]
    from pydantic import SecretStr

    from social_campaign.config import Settings

    return Settings(data_dir=data, database_url=db, secret_key=SecretStr("benchmark-key-0001"), webhook_url=url,
                    webhook_secret=SecretStr(secret), webhook_concurrency=concurrency, pledge_rate_limits="",
                    _env_file=None)  # type: ignore[call-arg]


def _run_db(label: str, db: str, n: int, tmp: Path, url: str, secret: str, concurrency: int) -> dict[str, float]:
    from social_campaign.db import make_engine, session_scope, upgrade
    from social_campaign.models import utcnow
    from social_campaign.webhooks import endpoints, worker
    from social_campaign.webhooks.events import emit
    from social_campaign.webhooks.sender import Sender

    settings = _settings(tmp / "data", db, f"{url}/hooks/{label}", secret, concurrency)
    engine = make_engine(db)
    upgrade(engine)
    endpoints.sync_from_settings(settings, engine, utcnow())
    t0 = time.perf_counter()
    with session_scope(engine) as session:
        for i in range(n):
            emit(session, "delivery.sent", {"delivery_id": i, "channel": "x", "remote_id": str(10**18 + i),
                                            "url": f"https://x.com/i/status/{10**18 + i}"}, campaign="bench", now=utcnow())
    emitted = time.perf_counter() - t0
    before = _stats(url)["unique"]
    sender = Sender(settings.webhook_timeout_seconds, concurrency)
    me = "bench:worker"
    t0 = time.perf_counter()
    done = 0
    with ThreadPoolExecutor(concurrency) as pool:
        while (k := worker.process_batch(settings, engine, sender, pool, me)) > 0:
            done += k
    sent = time.perf_counter() - t0
    sender.close()
    got = _stats(url)["unique"] - before
    engine.dispose()
    assert done == n and got == n, f"{label}: claimed {done}, receiver got {got} distinct ids of {n}"
    return {"emit_s": emitted, "send_s": sent, "rate": n / sent, "emit_rate": n / emitted}


def _baseline(n: int, url: str, secret: str) -> float:
    import requests

    from social_campaign.models import utcnow
    from social_campaign.webhooks.events import new_event_id, payload
    from social_campaign.webhooks.sender import headers

    bodies = [(new_event_id(), payload("delivery.sent", {"delivery_id": i, "channel": "x"}, utcnow())) for i in range(n)]
    session = requests.Session()
    session.trust_env = False
    t0 = time.perf_counter()
    for event_id, body in bodies:
        r = session.post(f"{url}/hooks/baseline", data=body.encode(), headers=headers(secret, event_id, body, utcnow()),
                         timeout=10)
        r.raise_for_status()
    elapsed = time.perf_counter() - t0
    session.close()
    return n / elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks webhooks", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--pg-url", default=os.environ.get("SOCIAL_CAMPAIGN_TEST_POSTGRES_URL", DEFAULT_PG))
    args = parser.parse_args(argv)
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    proc, url = _receiver()
    print(f"webhook fan-out of {args.count:,} events, one worker ({args.concurrency} threads); "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    try:
        base = _baseline(args.count, url, secret)
        print(f"baseline  plain requests.Session loop, signed, no database: {base:,.0f}/s")
        with tempfile.TemporaryDirectory() as tmp:
            runs = [("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
            if not args.no_postgres:
                runs.append(("postgres", _pg_database(args.pg_url)))
            for label, db in runs:
                if not db:
                    print("postgres  skipped: no server answers")
                    continue
                try:
                    r = _run_db(label, db, args.count, Path(tmp), url, secret, args.concurrency)
                finally:
                    if label == "postgres":
                        _drop(args.pg_url, db)
                print(f"{label:9} emit {r['emit_rate']:,.0f}/s ({r['emit_s']:.2f} s); send {r['rate']:,.0f}/s "
                      f"({r['send_s']:.2f} s), {r['rate'] / base:.2f}x the baseline; target ≥1,000/s: "
                      f"{'met' if r['rate'] >= 1000 else 'NOT met'}")
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


def _pg_database(server: str) -> str | None:
    """A fresh database on ``server`` (dropped by :func:`_drop`), or None when no server answers."""
    import uuid

    from sqlalchemy import create_engine, text

    try:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        name = f"sc_bench_wh_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception:  # no server: the run says so
        return None
    return f"{server.rpartition('/')[0]}/{name}"


def _drop(server: str, db: str) -> None:
    from sqlalchemy import create_engine, text

    name = db.rpartition("/")[2]
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
