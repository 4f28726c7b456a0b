"""Campaign benchmarks: X weighted length against twitter-text-parser, and `check` on a large campaign.

``python -m benchmarks campaign [--texts N] [--posts N]``

1. ``x_weighted_length`` (our twitter-text v3 loop with current emoji data, cache bypassed) against the baseline
   ``twitter_text.parse_tweet`` on the same N distinct post texts (mixed Latin, CJK, URLs, old and new emoji).
2. ``check_campaign`` on a generated campaign of N posts (x + facebook, one image each), against the baseline of
   merely parsing its schedule.toml with tomllib, in the same run.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import twitter_text
from PIL import Image

from social_campaign.campaign.check import check_campaign
from social_campaign.text import x_parse

PIECES = [
    "Show your support for #ChildrensDay",
    "日本語のテキスト",
    "https://example.org/crc",
    "example.com",
    "\U0001f600",
    "\U0001f9d1\u200d\U0001f9d1\u200d\U0001f9d2",
    "\U0001faf6\U0001f3fd",
    "#USstandsAlone",
    "plain words here",
]


def texts(n: int) -> list[str]:
    rng = random.Random(7)
    return [" ".join(rng.choice(PIECES) for _ in range(rng.randint(3, 12))) + f" {i}" for i in range(n)]


def timed(fn, items) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for item in items:
        fn(item)
    return time.perf_counter() - start


def campaign(root: Path, posts: int) -> Path:
    (root / "messages").mkdir(parents=True)
    (root / "infographics").mkdir()
    Image.new("RGB", (1200, 675), (20, 70, 140)).save(root / "infographics" / "card.png")
    lines = [
        '[campaign]\nslug = "bench"\nname = "Bench"\ntimezone = "America/New_York"\nhashtags = ["#CRC"]\n'
        'link = "https://example.org"\n'
    ]
    for i in range(posts):
        (root / "messages" / f"m{i}.md").write_text(f"Message number {i} for #ChildrensDay {{hashtags}}\n")
        lines.append(
            f'[[post]]\nid = "p{i}"\nat = 2027-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00\n'
            f'channels = ["x", "facebook"]\nmessage = "m{i}"\nmedia = ["infographics/card.png"]\nalt = ["A card"]\n'
        )
    path = root / "schedule.toml"
    path.write_text("\n".join(lines))
    return path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks campaign")
    parser.add_argument("--texts", type=int, default=20000)
    parser.add_argument("--posts", type=int, default=1000)
    args = parser.parse_args(argv)
    items = texts(args.texts)
    ours = timed(x_parse.__wrapped__, items)  # type: ignore[attr-defined]
    base = timed(twitter_text.parse_tweet, items)
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {sys.version.split()[0]}")
    print(
        f"x_weighted_length: {args.texts} texts in {ours:.2f} s ({args.texts / ours:,.0f}/s); "
        f"twitter_text.parse_tweet {base:.2f} s ({args.texts / base:,.0f}/s); ratio {ours / base:.2f}x the baseline time"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = campaign(Path(tmp), args.posts)
        start = time.perf_counter()
        tomllib.loads(path.read_text())
        parse = time.perf_counter() - start
        start = time.perf_counter()
        problems = check_campaign(path)
        full = time.perf_counter() - start
        errors = [p for p in problems if p.severity == "error"]
        print(
            f"check_campaign: {args.posts} posts x 2 channels in {full:.2f} s ({len(errors)} errors); "
            f"tomllib parse alone {parse * 1000:.1f} ms; ratio {full / parse:.0f}x the parse"
        )
    return 0
