"""A campaign's dashboard with 100,000 pledges and 2,000 deliveries: the server's time per request, p50 and p99.

    .venv/bin/python -m benchmarks dashboard [--pledges N] [--deliveries M] [--requests R] [--pg-url URL | --no-postgres]

A database is seeded with N pledges over 60 days (about 85 % confirmed, in 40 countries and some without one, release
emails and share clicks for a part of them) and M deliveries in every state over the same days. Then the app
(``create_app``, the real routes, a logged-in viewer's session cookie) answers R requests in this process through
Starlette's TestClient, one after another, for:

* ``/admin/c/{slug}`` while it is watched (the counts at most 2 s old, refreshed in the background:
  ``workspace/aggregates.py``), and as a first look (the cache emptied before each request: every GROUP BY runs in
  line, then the lists, the SVG charts and the template),
* ``/admin/c/{slug}/live.json`` while watched (what the page polls),
* ``/healthz`` and ``/c/{slug}`` (the public campaign page) as the baseline measured in the same run.

Timing is the wall time of each request in this process (no network, no load generator): the server-side work; and
the process's CPU time per request (on SQLite the database's work is in it).
Target: the dashboard's p99 under 150 ms. SQLite always; PostgreSQL too when ``--pg-url`` is given or a server
answers at the default test address.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks._web import reachable_server

ROOT = Path(__file__).resolve().parent.parent
SLUG = "childrens-day"
STATES = ["sent"] * 10 + ["scheduled"] * 6 + ["failed", "missed", "cancelled", "unconfirmed", "needs_reconnect"]


def campaign(root: Path, now: datetime) -> Any:
    from social_campaign.campaign.model import Campaign, PledgeSpec

    deadline = now + timedelta(days=10)
    return Campaign(
        slug=SLUG, name="Universal Children's Day", timezone=ZoneInfo("America/New_York"), hashtags=("#CRC",),
        link="https://example.org/crc", posts=(), root=root, source=root / "schedule.toml", content_hash="0" * 64,
        pledge=PledgeSpec(goal=150_000, deadline=deadline, fire_at=deadline + timedelta(hours=1), message="pledge",
                          variants=("Pledge text",)),
        description="Benchmark campaign.",
    )


def seed(engine: Any, pledges: int, deliveries: int, now: datetime) -> None:
    """Bulk inserts (Core, batches of 5,000): the sizes of a big campaign, spread over the last 60 days."""
    from sqlalchemy import insert

    from social_campaign.models import Delivery, EmailMessage, Pledge, ShareClick

    rng = random.Random(9)
    countries = [f"Country {i}" for i in range(40)] + [None, ""]
    start = now - timedelta(days=60)
    rows, emails, clicks = [], [], []
    for i in range(1, pledges + 1):
        at = start + timedelta(seconds=rng.randrange(60 * 86400))
        status = "confirmed" if rng.random() < 0.85 else rng.choice(["pending", "withdrawn", "fraud"])
        email = f"p{i}@example.org"
        rows.append({"id": i, "campaign": SLUG, "name": f"P{i}", "email": email, "email_canonical": email,
                     "active_email": None if status == "fraud" else email, "country": rng.choice(countries),
                     "status": status, "ip_hash": "", "share_token": f"s{i}", "created_at": at,
                     "confirmed_at": at + timedelta(minutes=5) if status in ("confirmed", "withdrawn") else None})
        if status == "confirmed" and i % 3 == 0:
            emails.append({"campaign": SLUG, "kind": "release", "to_addr": email, "to_canonical": email, "subject": "s",
                           "body_text": "b", "headers_json": "{}", "message_id": f"<{i}@x>",
                           "dedupe_key": f"release:{SLUG}:{i}", "state": "sent", "attempts": 1, "not_before": at,
                           "created_at": at})
        if status == "confirmed" and i % 7 == 0:
            clicks.append({"campaign": SLUG, "pledge_id": i, "channel": rng.choice(["x", "whatsapp", "facebook"]),
                           "at": at})
    delivery_rows = []
    for i in range(deliveries):
        due = start + timedelta(seconds=rng.randrange(70 * 86400))
        delivery_rows.append({"campaign": SLUG, "post_id": f"post-{i}", "channel": rng.choice(["x", "facebook", "mastodon"]),
                              "occurrence": "", "kind": "post", "due_at": due, "state": rng.choice(STATES),
                              "text": "hello", "media_json": "[]", "content_hash": "", "attempts": 0,
                              "last_error": "refused", "created_at": due, "updated_at": due})
    with engine.begin() as conn:
        tables: list[tuple[Any, list[dict[str, Any]]]] = [
            (Pledge, rows), (EmailMessage, emails), (ShareClick, clicks), (Delivery, delivery_rows)]
        for table, values in tables:
            for k in range(0, len(values), 5000):
                conn.execute(insert(table.__table__), values[k:k + 5000])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def client_for(database_url: str, data: Path, now: datetime) -> Any:
    """The app on ``database_url`` with a viewer logged in (a real session row and its cookie)."""
    from fastapi.testclient import TestClient

    from social_campaign.config import Settings
    from social_campaign.db import engine_for, session_scope
    from social_campaign.web.app import create_app
    from social_campaign.web.auth import COOKIE
    from social_campaign.workspace import accounts, sessions

    settings = Settings(data_dir=data, database_url=database_url, pledge_rate_limits="",
                        public_url="http://testserver", _env_file=None)
    engine = engine_for(settings)
    with session_scope(engine) as s:
        user = accounts.add(s, "viewer@example.org", "viewer", "correct horse battery staple", actor="bench", now=now)
        s.flush()
        token = sessions.open_session(s, user, hours=24, now=now)
    client = TestClient(create_app(settings, engine, campaigns=[campaign(data, now)]))
    client.cookies.set(COOKIE, token)
    return client, engine


def timings(client: Any, path: str, count: int, before: Any = None) -> dict[str, float]:
    """Wall time of each request (p50, p99, max) and the process's CPU time per request (all threads: the app's,
    the dashboard's query threads and its background refreshes; SQLite runs inside this process, PostgreSQL not)."""
    for _ in range(5):  # warm up: templates compiled, connections open
        assert client.get(path).status_code == 200, path
    times = []
    cpu = time.process_time()
    for _ in range(count):
        if before is not None:
            before()
        t = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    cpu = (time.process_time() - cpu) * 1000 / count
    times.sort()
    return {"p50": statistics.median(times), "p99": times[min(len(times) - 1, round(0.99 * len(times)) - 1)],
            "max": times[-1], "cpu": cpu, "bytes": len(response.content)}


def run(database_url: str, data: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    now = datetime.now(UTC)
    client, engine = client_for(database_url, data, now)
    try:
        t = time.perf_counter()
        seed(engine, args.pledges, args.deliveries, now)
        print(f"  seeded {args.pledges:,} pledges and {args.deliveries:,} deliveries in {time.perf_counter() - t:.1f} s",
              flush=True)
        from social_campaign.workspace import aggregates

        def cold() -> None:  # nothing cached: the first look after 2 quiet seconds
            aggregates.forget(engine, SLUG)

        out = {
            "healthz (baseline)": timings(client, "/healthz", args.requests),
            "public page (baseline)": timings(client, f"/c/{SLUG}", args.requests),
            "dashboard, watched": timings(client, f"/admin/c/{SLUG}", args.requests),
            "dashboard, first look": timings(client, f"/admin/c/{SLUG}", args.requests, before=cold),
            "live.json, watched": timings(client, f"/admin/c/{SLUG}/live.json", args.requests),
        }
        return out
    finally:
        client.close()
        engine.dispose()



def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks dashboard")
    ap.add_argument("--pledges", type=int, default=100_000)
    ap.add_argument("--deliveries", type=int, default=2_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--pg-url")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import sqlalchemy

    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLAlchemy "
          f"{sqlalchemy.__version__}; in-process TestClient, {args.requests} sequential requests per path")
    runs: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        runs.append(("SQLite", f"sqlite:///{Path(tmp) / 'dash.db'}"))
        pg = reachable_server(args)
        from contextlib import ExitStack

        with ExitStack() as stack:
            if pg:
                from benchmarks._web import postgres_database

                runs.append(("PostgreSQL", stack.enter_context(postgres_database(pg))))
            worst = 0.0
            for label, url in runs:
                print(f"{label}:", flush=True)
                data = Path(tmp) / label.lower()
                data.mkdir()
                for name, r in run(url, data, args).items():
                    print(f"  {name:<24} p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms  max {r['max']:6.1f} ms  "
                          f"CPU {r['cpu']:5.1f} ms/request  ({r['bytes'] / 1024:.0f} KB)", flush=True)
                    if name.startswith(("dashboard", "live")):
                        worst = max(worst, r["p99"])
    print(f"load average {os.getloadavg()[0]:.1f}; target: dashboard p99 < 150 ms: {'met' if worst < 150 else 'MISSED'}")
    return 0
