"""Forwarded headers count only when the operator says so: ``web.server.uvicorn_options``, ``web.deps.client_ip`` and
a real ``serve`` process, where uvicorn's own default (trust 127.0.0.1) must not apply."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from starlette.requests import Request

from social_campaign.config import Settings, load_settings
from social_campaign.crypto import keyed_hash
from social_campaign.errors import ConfigError
from social_campaign.models import Pledge
from social_campaign.web.deps import client_ip
from social_campaign.web.server import GRACEFUL_SHUTDOWN_SECONDS, TrustedProxies, forwarded_client, uvicorn_options
from tests.conftest import ROOT
from tests.web.conftest import free_port

SLUG = "childrens-day"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
SECRET = "proxy-test-secret-key-0123456789"


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, _env_file=None, **kw)  # type: ignore[arg-type,call-arg]


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, {"proxy_headers": False, "forwarded_allow_ips": ""}),
        ({"forwarded_allow_ips": "10.0.0.1"}, {"proxy_headers": False, "forwarded_allow_ips": ""}),  # trust is off
        ({"trust_forwarded_for": True}, {"proxy_headers": True, "forwarded_allow_ips": "127.0.0.1,::1"}),
        ({"trust_forwarded_for": True, "forwarded_allow_ips": " 10.0.0.0/8 , 192.0.2.7"},
         {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.0/8,192.0.2.7"}),
        ({"trust_forwarded_for": True, "forwarded_allow_ips": "*"}, {"proxy_headers": True, "forwarded_allow_ips": "*"}),
    ],
)
def test_uvicorn_options_follow_our_settings(tmp_path: Path, kw: dict[str, object], expected: dict[str, object]) -> None:
    assert uvicorn_options(_settings(tmp_path, **kw)) == {**expected, "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS}


def test_a_bad_proxy_address_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(data_dir=tmp_path, forwarded_allow_ips="10.0.0.1,proxy.local", _env_file=None)
    assert str(err.value) == (
        "SOCIAL_CAMPAIGN_FORWARDED_ALLOW_IPS: 'proxy.local' is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/8, *)"
    )


@pytest.mark.parametrize(
    ("peer", "header", "trusted", "expected"),
    [
        ("127.0.0.1", "203.0.113.7", "", "127.0.0.1"),  # trust off: the header is nobody's word
        ("127.0.0.1", "203.0.113.7", "127.0.0.1,::1", "203.0.113.7"),
        ("::1", "203.0.113.7", "127.0.0.1,::1", "203.0.113.7"),
        ("198.51.100.9", "203.0.113.7", "127.0.0.1,::1", "198.51.100.9"),  # not our proxy: ignored
        ("127.0.0.1", "6.6.6.6, 203.0.113.7", "127.0.0.1", "203.0.113.7"),  # left of ours: what the client claimed
        ("10.0.0.1", "6.6.6.6, 203.0.113.7, 10.0.0.2", "10.0.0.0/8", "203.0.113.7"),  # a chain of our proxies
        ("10.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.0/8", "10.0.0.3"),  # all ours: the first
        ("127.0.0.1", "not-an-ip", "127.0.0.1", "127.0.0.1"),
        ("127.0.0.1", "", "127.0.0.1", "127.0.0.1"),
        ("192.0.2.1", "203.0.113.7", "*", "203.0.113.7"),
    ],
)
def test_client_ip_agrees_with_uvicorn(tmp_path: Path, peer: str, header: str, trusted: str, expected: str) -> None:
    if trusted:
        settings = _settings(tmp_path, trust_forwarded_for=True, forwarded_allow_ips=trusted)
        assert forwarded_client(peer, header, TrustedProxies(trusted)) == expected
    else:
        settings = _settings(tmp_path)
    headers = [(b"x-forwarded-for", header.encode())] if header else []
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 1234)})
    assert client_ip(request, settings) == expected


@contextmanager
def _serve(tmp_path: Path, workers: int, **env_extra: str) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
    env.update(
        SOCIAL_CAMPAIGN_DATA_DIR=str(tmp_path / "data"), SOCIAL_CAMPAIGN_PLEDGE_RATE_LIMITS="",
        SOCIAL_CAMPAIGN_PUBLIC_URL=f"http://127.0.0.1:{port}", SOCIAL_CAMPAIGN_SECRET_KEY=SECRET,
        SOCIAL_CAMPAIGN_LOG_LEVEL="WARNING", **env_extra,
    )
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "social_campaign", "serve", "--role", "web", "--port", str(port),
             "--workers", str(workers)],
            cwd=ROOT, env=env, stdout=log, stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code in (200, 503):
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-2000:]
                time.sleep(0.1)
            yield base
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert "Traceback" not in log_path.read_text()


def _ip_hashes_after_rotating_pledges(base: str, tmp_path: Path) -> list[str]:
    """Pledge three times from loopback, each with a different X-Forwarded-For; the ip hashes stored, in order."""
    with httpx.Client(base_url=base, timeout=10) as client:
        for i, forwarded in enumerate(("203.0.113.1", "203.0.113.2", "6.6.6.6, 203.0.113.3")):
            page = client.get(f"/c/{SLUG}")
            form = {**dict(HIDDEN.findall(page.text)), "name": "Amina", "email": f"p{i}@example.org", "consent": "yes",
                    "country": "", "postcode": "", "website": ""}
            r = client.post(f"/c/{SLUG}/pledge", data=form, headers={"x-forwarded-for": forwarded})
            assert r.status_code == 200, r.text
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'social-campaign.db'}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(Pledge.ip_hash).order_by(Pledge.id)).scalars())  # type: ignore[call-overload]
    finally:
        engine.dispose()


def _hash(ip: str) -> str:
    return keyed_hash(Settings(secret_key=SECRET, _env_file=None).key, ip, purpose="ip")  # type: ignore[call-arg]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("workers", "env", "expected"),
    [
        # trust off (the default), even though uvicorn's own FORWARDED_ALLOW_IPS says to trust everyone
        (1, {"FORWARDED_ALLOW_IPS": "*"}, ["127.0.0.1"] * 3),
        (2, {"FORWARDED_ALLOW_IPS": "*"}, ["127.0.0.1"] * 3),
        # trust on, proxies on the same host (the default list)
        (1, {"SOCIAL_CAMPAIGN_TRUST_FORWARDED_FOR": "true"}, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]),
        # trust on, but only for proxies elsewhere: a loopback peer's header does not count
        (1, {"SOCIAL_CAMPAIGN_TRUST_FORWARDED_FOR": "true", "SOCIAL_CAMPAIGN_FORWARDED_ALLOW_IPS": "10.0.0.0/8"},
         ["127.0.0.1"] * 3),
    ],
    ids=["off", "off-2-workers", "on-loopback-proxy", "on-other-proxy"],
)
def test_serve_honours_forwarded_for_only_when_configured(
    tmp_path: Path, workers: int, env: dict[str, str], expected: list[str]
) -> None:
    with _serve(tmp_path, workers, **env) as base:
        stored = _ip_hashes_after_rotating_pledges(base, tmp_path)
    assert stored == [_hash(ip) for ip in expected]
