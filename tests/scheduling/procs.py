"""Real processes for crash and scale tests: ``python -m social_campaign worker`` and the fake X API as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fakes import x_api

ROOT = Path(__file__).resolve().parents[2]


def worker_env(data_dir: Path, x_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
    env.update(
        SOCIAL_CAMPAIGN_DATA_DIR=str(data_dir),
        SOCIAL_CAMPAIGN_X_API_URL=x_url,
        SOCIAL_CAMPAIGN_X_CONSUMER_KEY=x_api.CONSUMER_KEY,
        SOCIAL_CAMPAIGN_X_CONSUMER_SECRET=x_api.CONSUMER_SECRET,
        SOCIAL_CAMPAIGN_X_ACCESS_TOKEN=x_api.ACCESS_TOKEN,
        SOCIAL_CAMPAIGN_X_ACCESS_TOKEN_SECRET=x_api.ACCESS_TOKEN_SECRET,
        SOCIAL_CAMPAIGN_POLL_SECONDS="0.2",
        SOCIAL_CAMPAIGN_LOG_LEVEL="WARNING",
        SOCIAL_CAMPAIGN_PLEDGE_RATE_LIMITS="",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def start_worker(env: dict[str, str], log: Path, role: str = "worker") -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "social_campaign", role], cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    return proc.wait(timeout)


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class FakeXProcess:
    """``python -m tests.fakes.x_api --port 0`` in a subprocess; read through its ``/_fake/`` admin endpoints."""

    def __init__(self, *, latency_ms: float = 0.0) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.x_api", "--port", "0", "--latency-ms", str(latency_ms)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline().decode().strip())
        self.url = f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> Any:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{self.url}{path}", timeout=30) as response:
            return json.loads(response.read())

    def posts(self) -> list[dict[str, Any]]:
        return self.get("/_fake/posts")  # type: ignore[no-any-return]

    def close(self) -> None:
        stop(self.proc)
