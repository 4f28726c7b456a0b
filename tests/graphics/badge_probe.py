"""Run badge requests through the real web route in a process of its own and report its memory, as JSON.

``python -m tests.graphics.badge_probe PHOTO [--copies N] [--concurrency N] [--no-trim]``: builds the app on a fresh
SQLite file, fetches the badge page (and its CSRF token) once, then posts PHOTO ``--copies`` times at once (threads, one
TestClient) and prints ``{"statuses", "errors", "before_mb", "peak_mb", "after_mb", "gate_peak", "trims"}``: the
resident memory just before the posts, the highest it reached while they ran (the kernel's high-water mark, reset
through ``/proc/self/clear_refs`` just before), and after they finished. Linux only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

from social_campaign.campaign.model import BadgeSpec
from social_campaign.config import Settings
from social_campaign.db import engine_for
from social_campaign.graphics import memory
from social_campaign.web.app import create_app
from tests.graphics.imaging import frame
from tests.web.conftest import make_campaign

URL = "/c/childrens-day/badge"


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photo", type=Path)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=0)
    parser.add_argument("--no-trim", action="store_true")
    parser.add_argument("--size", default="400")
    args = parser.parse_args()
    if args.no_trim:
        memory.release_memory = lambda: False  # measurement switch for docs/PERFORMANCE.md only
    root = Path(tempfile.mkdtemp())
    (root / "infographics").mkdir()
    frame(1080).save(root / "infographics" / "frame.png")
    spec = BadgeSpec(overlay=root / "infographics" / "frame.png", size=400, download_size=1080, shape="circle")
    campaign = dataclasses.replace(make_campaign(root), badge=spec)
    settings = Settings(
        data_dir=root / "data", pledge_rate_limits="", public_url="https://pledge.example.org", _env_file=None,
        image_decode_concurrency=args.concurrency, image_decode_wait_seconds=600,
    )
    app = create_app(settings, engine_for(settings), campaigns=[campaign])
    photo = args.photo.read_bytes()
    with TestClient(app, raise_server_exceptions=False) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get(URL).text)
        assert token is not None
        data = {"csrf": token.group(1), "size": args.size}

        def one(_: int) -> tuple[int, str]:
            res = client.post(URL, files={"photo": ("p", photo)}, data=data, headers={"accept": "application/json"})
            return res.status_code, "" if res.status_code == 200 else res.json()["error"]

        one(0)  # warm up (templates, database, threads), like a running server
        memory.GATE.reset_counts()
        before = status_mb("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # the high-water mark restarts from here
        with ThreadPoolExecutor(max(1, args.copies)) as pool:
            results = list(pool.map(one, range(args.copies)))
        peak = status_mb("VmHWM")
        after = status_mb("VmRSS")
    sys.stdout.write(json.dumps({
        "statuses": [r[0] for r in results], "errors": sorted({r[1] for r in results if r[1]}),
        "before_mb": round(before, 1), "peak_mb": round(peak, 1), "after_mb": round(after, 1),
        "gate_peak": memory.GATE.peak, "trims": memory.GATE.trims,
    }) + "\n")


if __name__ == "__main__":
    main()
