"""Scheduling benchmark: 1,000 posts due in the same minute against the fake X API (a subprocess) with 100 ms latency.

Lateness is the due time to the fake's acceptance time (its ``created_at``, millisecond precision). Configurations:

* ``sqlite-1``: one ``social-campaign worker`` process on SQLite (WAL);
* ``pg-1`` and ``pg-4``: one and four worker processes on PostgreSQL (a fresh database per run; skipped if unreachable);
* ``baseline``: a naive sequential loop posting the same posts with plain ``tweepy.Client.create_tweet`` (no database).

Two arrival patterns: ``spread`` (due times spread evenly over one minute) and ``burst`` (all due at the same instant).

    .venv/bin/python -m benchmarks scheduling [--posts 1000] [--latency-ms 100] [--threads 32] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from social_campaign.campaign.model import Campaign, Post  # noqa: E402
from social_campaign.config import Settings  # noqa: E402
from social_campaign.db import make_engine, upgrade  # noqa: E402
from social_campaign.models import utcnow  # noqa: E402
from social_campaign.scheduling.sync import sync_loaded  # noqa: E402
from tests.fakes import x_api  # noqa: E402
from tests.scheduling.procs import (  # noqa: E402
    FakeXProcess,
    start_worker,
    stop,
    wait_for,
    worker_env,
)

LEAD = 20.0  # seconds between scheduling and the first due time (worker processes start up in between)


@dataclass
class Result:
    name: str
    pattern: str
    n: int
    p50: float
    p99: float
    worst: float
    throughput: float  # posts accepted per second, first due → last acceptance

    def row(self) -> str:
        return f"| {self.name} | {self.pattern} | {self.n} | {self.p50:.2f} | {self.p99:.2f} | {self.worst:.2f} | {self.throughput:.0f} |"


def _due_times(n: int, pattern: str, start: datetime) -> list[datetime]:
    if pattern == "burst":
        return [start] * n
    return [start + timedelta(seconds=60 * i / n) for i in range(n)]


def _measure(name: str, pattern: str, due: dict[str, datetime], posts: list[dict[str, str]]) -> Result:
    accepted = {p["sent_text"]: datetime.strptime(p["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) for p in posts}
    missing = set(due) - set(accepted)
    if missing or len(posts) != len(due):
        raise SystemExit(f"{name}/{pattern}: {len(posts)} posts on the fake for {len(due)} due ({len(missing)} missing)")
    late = sorted((accepted[t] - due[t]).total_seconds() for t in due)
    first, last = min(due.values()), max(accepted.values())
    return Result(name, pattern, len(due), statistics.median(late), late[int(0.99 * (len(late) - 1))], late[-1],
                  len(due) / max((last - first).total_seconds(), 1e-3))  # fmt: skip


def run_workers(name: str, pattern: str, n: int, workers: int, latency: float, threads: int, db_url: str | None) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        settings = Settings(data_dir=data, database_url=db_url, _env_file=None)  # type: ignore[call-arg]
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        start = utcnow() + timedelta(seconds=LEAD)
        times = _due_times(n, pattern, start)
        texts = [f"Bench {name} {pattern} {i} #CRC" for i in range(n)]
        posts = [Post(id=f"p{i}", channels=("x",), message="m", texts={"x": t}, at=d) for i, (t, d) in enumerate(zip(texts, times, strict=True))]
        camp = Campaign(slug="bench", name="bench", timezone=ZoneInfo("UTC"), hashtags=(), link=None, posts=tuple(posts),
                        root=Path(tmp), source=Path(tmp) / "schedule.toml", content_hash=uuid.uuid4().hex)  # fmt: skip
        sync_loaded(settings, engine, camp, utcnow())
        fake = FakeXProcess(latency_ms=latency)
        extra = {"SOCIAL_CAMPAIGN_WORKER_THREADS": str(threads), "SOCIAL_CAMPAIGN_POLL_SECONDS": "1.0"}
        if db_url:
            extra["SOCIAL_CAMPAIGN_DATABASE_URL"] = db_url
        env = worker_env(data, fake.url, **extra)
        procs = [start_worker(env, Path(tmp) / f"w{i}.log") for i in range(workers)]
        try:
            wait_for(lambda: len(fake.posts()) >= n, LEAD + 60 + n * latency / 1000 + 60, f"{n} posts")
            created = fake.posts()
        finally:
            for p in procs:
                stop(p)
            fake.close()
            engine.dispose()
        return _measure(name, pattern, {t: d.replace(microsecond=d.microsecond // 1000 * 1000) for t, d in zip(texts, times, strict=True)}, created)


def run_baseline(pattern: str, n: int, latency: float) -> Result:
    """Plain tweepy, one create_tweet after another, each as soon as it is due (no database, no threads)."""
    import tweepy

    fake = FakeXProcess(latency_ms=latency)
    client = tweepy.Client(consumer_key=x_api.CONSUMER_KEY, consumer_secret=x_api.CONSUMER_SECRET,
                           access_token=x_api.ACCESS_TOKEN, access_token_secret=x_api.ACCESS_TOKEN_SECRET)  # fmt: skip
    client.session.trust_env = False
    original = client.session.request

    def to_fake(method: str, url: str, *a: object, **kw: object) -> object:
        return original(method, url.replace("https://api.twitter.com", fake.url), *a, **kw)

    client.session.request = to_fake  # type: ignore[method-assign]
    start = utcnow() + timedelta(seconds=2)
    times = _due_times(n, pattern, start)
    texts = [f"Bench baseline {pattern} {i} #CRC" for i in range(n)]
    try:
        for text, due in zip(texts, times, strict=True):
            wait = (due - utcnow()).total_seconds()
            if wait > 0:
                time.sleep(wait)
            client.create_tweet(text=text)
        created = fake.posts()
    finally:
        fake.close()
    return _measure("baseline (sequential tweepy)", pattern, {t: d.replace(microsecond=d.microsecond // 1000 * 1000) for t, d in zip(texts, times, strict=True)}, created)


def _pg_database(url: str) -> tuple[str, object] | None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        name = f"sc_bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        print(f"PostgreSQL not reachable ({str(exc).splitlines()[0]}): skipping the PostgreSQL runs", file=sys.stderr)
        return None
    return f"{url.rpartition('/')[0]}/{name}", admin


def _drop(url: str, admin: object) -> None:
    from sqlalchemy import text

    name = url.rpartition("/")[2]
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks scheduling", description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--threads", type=int, default=32, help="SOCIAL_CAMPAIGN_WORKER_THREADS per worker process")
    parser.add_argument("--patterns", default="spread,burst")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)
    patterns = [p for p in args.patterns.split(",") if p]
    results: list[Result] = []
    for pattern in patterns:
        if not args.skip_baseline:
            results.append(run_baseline(pattern, args.posts, args.latency_ms))
            print(results[-1].row(), flush=True)
        results.append(run_workers("sqlite, 1 worker", pattern, args.posts, 1, args.latency_ms, args.threads, None))
        print(results[-1].row(), flush=True)
        for workers in (1, 4):
            pg = _pg_database(args.postgres) if args.postgres else None
            if pg is None:
                continue
            try:
                results.append(run_workers(f"postgres, {workers} worker{'s' * (workers > 1)}", pattern, args.posts, workers, args.latency_ms, args.threads, pg[0]))
                print(results[-1].row(), flush=True)
            finally:
                _drop(*pg)
    print(f"\nConditions: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}, "
          f"{args.posts} posts, fake X latency {args.latency_ms:.0f} ms, {args.threads} threads per worker")  # fmt: skip
    print("| configuration | pattern | posts | p50 lateness (s) | p99 lateness (s) | worst (s) | posts/s |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(r.row())
    for pattern in patterns:
        base = next((r for r in results if r.pattern == pattern and r.name.startswith("baseline")), None)
        if base is None:
            continue
        for r in results:
            if r.pattern == pattern and r is not base:
                print(f"{pattern}: {r.name}: p99 lateness {base.p99 / max(r.p99, 1e-3):.1f}x lower than the baseline, "
                      f"throughput {r.throughput / base.throughput:.1f}x")  # fmt: skip
    return 0
