"""The workspace's save round trip: ``workspace.save.save_files`` (version check, staged copy, ``check``, atomic
writes, revision + audit row) for one edit of a post's time, against ``check`` alone on the same files in the same
run.

``python -m benchmarks editing [--saves N] [--posts N]``

Two campaigns: a copy of the shipped one, and a generated one with ``--posts`` posts (x + facebook, one image each,
as ``benchmarks campaign`` builds it). Each save moves one post by a minute (alternating posts), so every save really
writes ``schedule.toml``; git is not involved (the folders are not work trees). Prints p50/p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from social_campaign.campaign.check import run_check
from social_campaign.campaign.loader import load_campaign
from social_campaign.config import Settings
from social_campaign.db import make_engine, upgrade
from social_campaign.workspace import revisions, tomledit
from social_campaign.workspace.save import save_files

REPO = Path(__file__).resolve().parents[1]
TARGET_MS = 300.0


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


def shipped(dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copy2(REPO / "schedule.toml", dest / "schedule.toml")
    shutil.copytree(REPO / "messages", dest / "messages")
    shutil.copytree(REPO / "infographics", dest / "infographics")
    return dest


def generated(dest: Path, posts: int) -> Path:
    from benchmarks.campaign import campaign as build

    build(dest, posts)
    return dest


def measure(root: Path, saves: int, settings: Settings, db_url: str) -> tuple[list[float], list[float]]:
    """(save round trips, check alone) in ms."""
    engine = make_engine(db_url)
    upgrade(engine)
    campaign = load_campaign(root / "schedule.toml")
    ids = [p.id for p in campaign.posts]
    now = datetime.now(UTC)
    rounds: list[float] = []
    checks: list[float] = []
    run_check(root / "schedule.toml", now)  # warm the caches both sides use
    for n in range(saves):
        start = time.perf_counter()
        run_check(root / "schedule.toml", now)
        checks.append((time.perf_counter() - start) * 1000)
        post = next(p for p in campaign.posts if p.id == ids[n % len(ids)])
        assert post.at is not None
        version = revisions.version_of(root)  # the form carries it
        start = time.perf_counter()
        segments = tomledit.Segments(campaign.source.read_text(encoding="utf-8"))
        moved = post.at.astimezone(campaign.timezone).replace(tzinfo=None) + timedelta(minutes=1 if n % 2 else -1)
        tomledit.set_at(segments.post(post.id), post.id, moved, campaign.timezone)
        save_files(settings, engine, campaign, {"schedule.toml": segments.dump()}, version=version,
                   author="bench@example.org", summary=f"bench {n}")
        rounds.append((time.perf_counter() - start) * 1000)
        campaign = load_campaign(root / "schedule.toml")  # outside the timing: the next form's page load
    engine.dispose()
    return rounds, checks


def report(name: str, rounds: list[float], checks: list[float]) -> None:
    p50, p99 = statistics.median(rounds), _percentile(rounds, 99)
    c50, c99 = statistics.median(checks), _percentile(checks, 99)
    verdict = "meets" if p99 < TARGET_MS else "MISSES"
    print(f"{name}: save round trip p50 {p50:.0f} ms, p99 {p99:.0f} ms over {len(rounds)} saves ({verdict} the "
          f"{TARGET_MS:.0f} ms p99 target); check alone p50 {c50:.0f} ms, p99 {c99:.0f} ms; "
          f"save/check p50 ratio {p50 / c50:.2f}x")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks editing")
    parser.add_argument("--saves", type=int, default=60)
    parser.add_argument("--posts", type=int, default=1000)
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        settings = Settings(data_dir=base / "data", _env_file=None)
        for name, root in (("shipped campaign (4 posts, 4 languages)", shipped(base / "shipped")),
                           (f"generated campaign ({args.posts} posts)", generated(base / "big", args.posts))):
            rounds, checks = measure(root, args.saves, settings, f"sqlite:///{base / (root.name + '.db')}")
            report(name, rounds, checks)
    return 0
