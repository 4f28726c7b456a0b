"""The fake servers as standalone processes (used by crash tests and benchmarks): port on stdout, admin endpoints,
programmable faults, and a state file that survives a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from social_campaign.errors import AuthFailed, RateLimited, Transient
from social_campaign.publishers.facebook import FacebookPublisher
from social_campaign.publishers.x import XPublisher
from tests.conftest import ROOT
from tests.fakes import x_api
from tests.fakes.graph_api import PAGE_ID, PAGE_TOKEN
from tests.publishers.conftest import make_settings


def start(module: str, state_file) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", "--state-file", str(state_file)], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


def admin(url: str, path: str, body: object | None = None) -> object:
    req = urllib.request.Request(url + path, data=None if body is None else json.dumps(body).encode(), method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.slow
def test_standalone_fake_x_programs_faults_over_http_and_remembers_posts_across_restarts(tmp_path, engine):
    state = tmp_path / "x-state.jsonl"
    proc, url = start("tests.fakes.x_api", state)
    try:
        settings = make_settings(tmp_path, x_api_url=url, x_consumer_key=x_api.CONSUMER_KEY, x_consumer_secret=x_api.CONSUMER_SECRET,
                                 x_access_token=x_api.ACCESS_TOKEN, x_access_token_secret=x_api.ACCESS_TOKEN_SECRET)  # fmt: skip
        with XPublisher(settings=settings, engine=engine) as pub:
            admin(url, "/_fake/faults", {"kind": "status", "path": "^/2/tweets$", "status": 503, "body": "busy"})
            with pytest.raises(Transient):
                pub.publish(pub_post("first"))
            before = int(time.time())  # the fake reads its clock (whole seconds) between these two readings
            admin(url, "/_fake/faults", {"kind": "rate_limit", "reset_in": 120})
            with pytest.raises(RateLimited) as info:
                pub.publish(pub_post("first"))
            after = time.time()
            assert before + 120 <= info.value.reset_at.timestamp() <= after + 120
            made = pub.publish(pub_post("first"))
        posts = admin(url, "/_fake/posts")
        assert [p["id"] for p in posts] == [made.remote_id]
        assert [r["fault"] for r in admin(url, "/_fake/requests") if r["path"] == "/2/tweets"] == ["status", "status", None]
    finally:
        stop(proc)
    proc, url = start("tests.fakes.x_api", state)
    try:
        assert [p["sent_text"] for p in admin(url, "/_fake/posts")] == ["first"]
        settings = make_settings(tmp_path, x_api_url=url, x_consumer_key=x_api.CONSUMER_KEY, x_consumer_secret=x_api.CONSUMER_SECRET,
                                 x_access_token=x_api.ACCESS_TOKEN, x_access_token_secret=x_api.ACCESS_TOKEN_SECRET)  # fmt: skip
        with XPublisher(settings=settings, engine=engine) as pub:
            assert pub.find_recent(pub_post("first"), datetime.now(UTC) - timedelta(minutes=1)) is not None
            second = pub.publish(pub_post("second"))
        assert int(second.remote_id) > int(made.remote_id)  # ids keep growing after a restart
    finally:
        stop(proc)


@pytest.mark.slow
def test_standalone_fake_graph_serves_and_reports(tmp_path, engine):
    proc, url = start("tests.fakes.graph_api", tmp_path / "graph.jsonl")
    try:
        settings = make_settings(tmp_path, facebook_graph_url=url, facebook_page_id=PAGE_ID, facebook_page_token=PAGE_TOKEN)
        admin(url, "/_fake/latency", {"ms": 50})
        admin(url, "/_fake/faults", {"kind": "graph_error", "code": 190, "subcode": 463})
        with FacebookPublisher(settings=settings, engine=engine) as pub:
            with pytest.raises(AuthFailed, match="token expired"):
                pub.publish(pub_post("hello page", channel="facebook"))
            made = pub.publish(pub_post("hello page", channel="facebook"))
        assert [p["id"] for p in admin(url, "/_fake/posts")] == [made.remote_id]
    finally:
        stop(proc)


def pub_post(text: str, channel: str = "x"):
    from social_campaign.publishers.base import OutgoingPost

    return OutgoingPost(delivery_id=1, channel=channel, text=text)
