"""Publisher overhead: ``XPublisher``/``FacebookPublisher`` against the same create request made directly.

Each fake runs as its own process (``python -m tests.fakes.x_api`` / ``tests.fakes.graph_api``). For each network,
N posts are published from T threads through the publisher (error translation, base-URL session, result parsing)
and, as the baseline in the same run, through the bare client call the publisher wraps (tweepy ``create_tweet`` on a
plain session for X; ``requests.post`` to ``/{page-id}/feed`` for Facebook). Reports the best wall time of 3 interleaved rounds, posts/s and the ratio.

    .venv/bin/python -m benchmarks publishers [--posts 500] [--threads 8] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import tweepy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from social_campaign.config import Settings  # noqa: E402
from social_campaign.db import make_engine, upgrade  # noqa: E402
from social_campaign.publishers.base import OutgoingPost  # noqa: E402
from social_campaign.publishers.facebook import FacebookPublisher  # noqa: E402
from social_campaign.publishers.x import XPublisher  # noqa: E402
from tests.fakes import graph_api, x_api  # noqa: E402

ROUNDS = 3


def start_fake(module: str, latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", module, "--port", "0", "--latency-ms", str(latency_ms)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, f"http://127.0.0.1:{int(proc.stdout.readline())}"


def count_posts(url: str) -> int:
    with urllib.request.urlopen(url + "/_fake/posts", timeout=30) as resp:
        return len(json.loads(resp.read()))


def timed(n: int, threads: int, send: Callable[[int], object]) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, range(n)))
    return time.perf_counter() - start


def bench_x(n: int, threads: int, latency: float, data_dir: Path) -> list[tuple[str, float, float]]:
    proc, url = start_fake("tests.fakes.x_api", latency)
    try:
        settings = Settings(data_dir=data_dir, x_api_url=url, x_consumer_key=x_api.CONSUMER_KEY, x_consumer_secret=x_api.CONSUMER_SECRET,
                            x_access_token=x_api.ACCESS_TOKEN, x_access_token_secret=x_api.ACCESS_TOKEN_SECRET, _env_file=None)  # type: ignore[call-arg]  # fmt: skip
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        client = tweepy.Client(consumer_key=x_api.CONSUMER_KEY, consumer_secret=x_api.CONSUMER_SECRET,
                               access_token=x_api.ACCESS_TOKEN, access_token_secret=x_api.ACCESS_TOKEN_SECRET)  # fmt: skip
        base = client.session.request

        def to_fake(method: str, target: str, *a: object, **kw: object) -> requests.Response:
            return base(method, target.replace("https://api.twitter.com", url), *a, **kw)  # type: ignore[arg-type]

        client.session.request = to_fake  # type: ignore[method-assign]  # baseline only: the publisher needs no patch
        baseline, ours = float("inf"), float("inf")
        with XPublisher(settings=settings, engine=engine) as pub:
            for run in range(ROUNDS):  # interleaved, best of ROUNDS each: warm-up and machine noise hit both alike
                baseline = min(baseline, timed(n, threads, lambda i, r=run: client.create_tweet(text=f"baseline {r} {i}", user_auth=True)))
                ours = min(ours, timed(n, threads, lambda i, r=run: pub.publish(OutgoingPost(i, "x", f"publisher {r} {i}"))))
        assert count_posts(url) == 2 * n * ROUNDS
        return [("X: tweepy create_tweet (baseline)", baseline, 1.0), ("X: XPublisher.publish", ours, ours / baseline)]
    finally:
        proc.terminate()
        proc.wait()


def bench_facebook(n: int, threads: int, latency: float, data_dir: Path) -> list[tuple[str, float, float]]:
    proc, url = start_fake("tests.fakes.graph_api", latency)
    try:
        settings = Settings(data_dir=data_dir, facebook_graph_url=url, facebook_page_id=graph_api.PAGE_ID,
                            facebook_page_token=graph_api.PAGE_TOKEN, _env_file=None)  # type: ignore[call-arg]  # fmt: skip
        engine = make_engine(settings.resolved_database_url)
        session = requests.Session()
        feed = f"{url}/{settings.facebook_graph_version}/{graph_api.PAGE_ID}/feed"
        baseline, ours = float("inf"), float("inf")
        with FacebookPublisher(settings=settings, engine=engine) as pub:
            for run in range(ROUNDS):
                baseline = min(baseline, timed(n, threads, lambda i, r=run: session.post(
                    feed, data={"message": f"baseline {r} {i}", "access_token": graph_api.PAGE_TOKEN}).json()["id"]))  # fmt: skip
                ours = min(ours, timed(n, threads, lambda i, r=run: pub.publish(OutgoingPost(i, "facebook", f"publisher {r} {i}"))))
        assert count_posts(url) == 2 * n * ROUNDS
        return [("Facebook: requests.post /feed (baseline)", baseline, 1.0), ("Facebook: FacebookPublisher.publish", ours, ours / baseline)]
    finally:
        proc.terminate()
        proc.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks publishers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench_x(args.posts, args.threads, args.latency_ms, Path(tmp) / "x")
        rows += bench_facebook(args.posts, args.threads, args.latency_ms, Path(tmp) / "fb")
    print(f"{args.posts} posts, {args.threads} threads, fake latency {args.latency_ms:.0f} ms, "
          f"CPython {platform.python_version()}, tweepy {tweepy.__version__}")  # fmt: skip
    print("| measurement | wall time | posts/s | ratio to baseline |\n|---|---|---|---|")
    for name, seconds, ratio in rows:
        print(f"| {name} | {seconds:.2f} s | {args.posts / seconds:.0f} | {ratio:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
