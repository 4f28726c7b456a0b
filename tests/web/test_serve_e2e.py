"""End to end against a live ``social-campaign serve`` (uvicorn, scheduler and mail worker) on the shipped campaign,
with SOCIAL_CAMPAIGN_SMTP_URL pointing at a real aiosmtpd server and rate limits off: what the issue checks from outside."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.fakes.smtp import SmtpServer, smtp_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow
SLUG = "childrens-day"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=[1, 2], ids=["1-web-process", "2-web-processes"])
def live(request: pytest.FixtureRequest, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[str]:  # noqa: F811
    """``serve`` with one web process, and with two (``--workers 2``: forms signed by one are accepted by the other)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
    env.update(
        SOCIAL_CAMPAIGN_DATA_DIR=str(tmp_path / "data"),
        SOCIAL_CAMPAIGN_SMTP_URL=smtp_server.url(),
        SOCIAL_CAMPAIGN_PLEDGE_RATE_LIMITS="",
        SOCIAL_CAMPAIGN_PUBLIC_URL=f"http://127.0.0.1:{port}",
        SOCIAL_CAMPAIGN_POLL_SECONDS="0.2",
        SOCIAL_CAMPAIGN_LOG_LEVEL="WARNING",
    )
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "social_campaign", "serve", "--port", str(port), "--workers", str(request.param)],
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a start-up bound, not a measurement: a loaded machine starts slowly
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail(f"serve did not start: {(tmp_path / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code: int | None = proc.wait(30)  # generous: only so that a hung stop fails instead of hanging the suite
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        log.close()
        text = (tmp_path / "serve.log").read_text()
        assert code == 0, f"serve ended with {code} after SIGTERM (None: it did not stop): {text[-2000:]}"
        assert "Traceback" not in text


def _form(client: httpx.Client, **fields: str) -> dict[str, str]:
    page = client.get(f"/c/{SLUG}")
    assert page.status_code == 200
    form = dict(HIDDEN.findall(page.text))
    form.update({"name": "Amina", "email": "amina.yusuf@gmail.com", "consent": "yes", "country": "", "postcode": "", "website": ""})
    form.update(fields)
    return form


def _wait(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.05)


def _confirmed(client: httpx.Client) -> int:
    return int(client.get(f"/c/{SLUG}/progress.json").json()["confirmed"])


def _same(a: httpx.Response, b: httpx.Response) -> bool:
    strip = lambda r: (r.status_code, r.text, sorted((k, v) for k, v in r.headers.items() if k != "date"))  # noqa: E731
    return strip(a) == strip(b)


def test_pledge_email_confirm_then_aliases_and_honeypot_leave_it_at_one(live: str, smtp_server: SmtpServer) -> None:  # noqa: F811
    with httpx.Client(base_url=live, timeout=10) as client:
        assert _confirmed(client) == 0
        first = client.post(f"/c/{SLUG}/pledge", data=_form(client))
        assert first.status_code == 200
        _wait(lambda: len(smtp_server.messages) == 1)
        time.sleep(0.5)
        assert len(smtp_server.messages) == 1
        msg = message_from_bytes(smtp_server.messages[0].data, policy=policy.default)
        text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        (confirm,) = re.findall(rf"{re.escape(live)}(/c/{SLUG}/confirm/[A-Za-z0-9_-]+)", text)
        page = client.get(confirm)  # a page with one button; the POST confirms
        assert page.status_code == 200
        assert client.post(confirm, data=dict(HIDDEN.findall(page.text))).status_code == 200
        _wait(lambda: _confirmed(client) == 1, timeout=5)

        alias = client.post(f"/c/{SLUG}/pledge", data=_form(client, email="Amina.Yusuf+crc@GoogleMail.com"))
        bot = client.post(f"/c/{SLUG}/pledge", data=_form(client, email="bot@example.org", website="http://spam.example"))
        assert _same(first, alias) and _same(first, bot)
        time.sleep(2.5)  # longer than progress_interval: a counter flush has run
        assert _confirmed(client) == 1
        assert all(m.rcpt_tos != ["bot@example.org"] for m in smtp_server.messages)
