"""The site the Lighthouse benchmark measures (``benchmarks/lighthouse.py``): ``social-campaign serve --role web`` on
the shipped campaign with a known data dir, one supporter who pledged and confirmed through the pages (so a share page
exists), and the baseline, a bare well-formed HTML page served by ``http.server``."""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks._web import ROOT, free_port

SLUG = "childrens-day"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
BARE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
    b'<meta name="viewport" content="width=device-width, initial-scale=1"><title>Baseline</title>'
    b'<meta name="description" content="A bare page measured in the same run."></head>'
    b"<body><main><h1>Baseline</h1><p>A bare, well-formed page: no CSS, no script, no image.</p></main></body></html>"
)
#: The baseline: its page, and a favicon (a 1x1 PNG) so that the browser's /favicon.ico request is no console error.
BARE_FILES = {
    "/": ("text/html; charset=utf-8", BARE),
    "/favicon.ico": ("image/png", bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082")),
}


class _Bare(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ctype, body = BARE_FILES.get(self.path, ("text/plain", b"not found"))
        self.send_response(200 if self.path in BARE_FILES else 404)
        for name, value in (("content-type", ctype), ("content-length", str(len(body)))):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def bare_page() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Bare)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/"
    finally:
        srv.shutdown()
        srv.server_close()


@contextmanager
def serve(data_dir: Path) -> Iterator[str]:
    """``serve --role web`` on the shipped campaign with ``data_dir``; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
    env.update({
        "SOCIAL_CAMPAIGN_DATA_DIR": str(data_dir), "SOCIAL_CAMPAIGN_PLEDGE_RATE_LIMITS": "",
        "SOCIAL_CAMPAIGN_LOG_LEVEL": "warning", "SOCIAL_CAMPAIGN_SCHEDULE": str(ROOT / "schedule.toml"),
        "SOCIAL_CAMPAIGN_PUBLIC_URL": f"http://127.0.0.1:{port}",
    })
    cmd = [sys.executable, "-m", "social_campaign", "serve", "--role", "web", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(20)


def _csrf(client: httpx.Client, path: str) -> str:
    match = CSRF.search(client.get(path).raise_for_status().text)
    if not match:
        raise SystemExit(f"no CSRF field on {path}")
    return match.group(1)


def supporter(base: str, data_dir: Path) -> str:
    """Pledges and confirms through the pages, as a supporter would; returns the share page's path."""
    from sqlalchemy import create_engine, text

    from social_campaign.config import Settings
    from social_campaign.pledges import tokens

    email = "lighthouse@example.org"
    with httpx.Client(base_url=base, timeout=30) as client:
        form = {"name": "Amina Yusuf", "email": email, "consent": "yes", "country": "", "postcode": "", "website": "",
                "csrf": _csrf(client, f"/c/{SLUG}")}
        client.post(f"/c/{SLUG}/pledge", data=form).raise_for_status()
        settings = Settings(data_dir=data_dir, _env_file=None)
        engine = create_engine(settings.resolved_database_url)
        try:
            with engine.connect() as conn:
                share = conn.execute(text("SELECT share_token FROM pledge WHERE email = :e"), {"e": email}).scalar_one()
        finally:
            engine.dispose()
        confirm = f"/c/{SLUG}/confirm/{tokens.confirm_token(settings.key, share)}"
        client.post(confirm, data={"csrf": _csrf(client, confirm)}).raise_for_status()
    return f"/c/{SLUG}/share/{share}"


