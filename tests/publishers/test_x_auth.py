"""X OAuth 2.0: rotating refresh tokens stored encrypted, refreshed once under a lock, dead tokens → needs_reconnect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session

from social_campaign.crypto import decrypt
from social_campaign.errors import AuthFailed
from social_campaign.models import Account, AccountStatus, utcnow
from tests.conftest import ROOT
from tests.fakes import x_api

TEXT = "Wow! Infant mortality down 50% after #CRC. Time for US to join the world #USstandsAlone"


def account(h) -> Account:
    with Session(h.engine) as s:
        row = s.get(Account, "x")
        assert row is not None
        return row


def live_refresh_tokens(fake) -> list[str]:
    return [t for t, usable in fake.refresh_tokens.items() if usable]


def test_first_use_rotates_the_pair_and_stores_it_encrypted(build):
    h = build("x-oauth2")
    h.publisher.publish(h.post(1, TEXT))
    assert h.fake.refreshes == 1
    row = account(h)
    [live] = live_refresh_tokens(h.fake)
    assert live not in row.refresh_token_enc and x_api.REFRESH_TOKEN not in row.refresh_token_enc
    assert decrypt(h.settings.key, row.refresh_token_enc) == live
    access = decrypt(h.settings.key, row.access_token_enc)
    assert access in h.fake.access_tokens and access not in row.access_token_enc
    assert row.status == AccountStatus.ok and row.expires_at > utcnow()
    h.publisher.publish(h.post(2, TEXT + " 2"))
    assert h.fake.refreshes == 1  # the stored token is reused while it is valid


def test_a_new_publisher_uses_the_stored_pair_not_the_spent_seed(build):
    h = build("x-oauth2")
    h.publisher.publish(h.post(1, TEXT))
    again = build("x-oauth2")  # same data dir and database, fresh process-like publisher
    again.publisher.publish(again.post(2, TEXT + " again"))
    assert h.fake.refreshes == 1 and len(h.fake.posts) == 2


def test_an_expired_access_token_is_refreshed_before_use(build):
    h = build("x-oauth2")
    h.publisher.publish(h.post(1, TEXT))
    with Session(h.engine) as s:
        row = s.get(Account, "x")
        row.expires_at = utcnow() - timedelta(minutes=1)
        s.add(row)
        s.commit()
    fresh = build("x-oauth2")
    fresh.publisher.publish(fresh.post(2, TEXT + " 2"))
    assert h.fake.refreshes == 2 and len(live_refresh_tokens(h.fake)) == 1


def test_a_401_refreshes_once_and_retries_once(build):
    h = build("x-oauth2")
    h.publisher.publish(h.post(1, TEXT))
    h.fake.access_tokens.clear()  # X revoked the access token early; the stored expiry still says valid
    h.publisher.publish(h.post(2, TEXT + " 2"))
    assert h.fake.refreshes == 2
    assert [p["sent_text"] for p in h.fake.posts] == [TEXT, TEXT + " 2"]
    assert len(h.fake.requests_to(r"^/2/tweets$")) == 3  # one refused with 401, two created


def test_a_second_401_after_refresh_is_auth_failed(build):
    h = build("x-oauth2")
    h.fake.add_fault("status", path="^/2/tweets$", times=2, status=401, body=x_api.UNAUTHORIZED)
    with pytest.raises(AuthFailed):
        h.publisher.publish(h.post(1, TEXT))
    assert h.fake.posts == [] and h.fake.refreshes == 2


def test_a_spent_refresh_token_gives_auth_failed_and_needs_reconnect(build):
    h = build("x-oauth2")
    h.fake.refresh_tokens[x_api.REFRESH_TOKEN] = False  # spent elsewhere (or the chain was revoked)
    with pytest.raises(AuthFailed, match="reconnect") as info:
        h.publisher.publish(h.post(1, TEXT))
    assert info.value.http_status == 400 and info.value.code == "invalid_request"
    row = account(h)
    assert row.status == AccountStatus.needs_reconnect and "Value passed for the token was invalid" in row.reason
    assert row.refresh_token_enc is None and row.access_token_enc is None
    assert h.fake.posts == []


def test_token_endpoint_outage_is_transient_and_keeps_the_refresh_token(build):
    from social_campaign.errors import Transient

    h = build("x-oauth2")
    h.fake.add_fault("status", path="^/2/oauth2/token$", status=503, body="down")
    with pytest.raises(Transient):
        h.publisher.publish(h.post(1, TEXT))
    h.publisher.publish(h.post(1, TEXT))
    assert h.fake.refreshes == 1 and len(h.fake.posts) == 1


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_eight_threads_at_once_refresh_exactly_once(request, build, db):
    kw = {"database_url": request.getfixturevalue("pg_url")} if db == "postgres" else {}
    h = build("x-oauth2", **kw)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def send(n: int) -> None:
        barrier.wait()
        try:
            h.publisher.publish(h.post(n, f"{TEXT} #{n}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert h.fake.refreshes == 1 and len(h.fake.posts) == 8


CHILD = """
import json, sys, threading
from social_campaign.config import Settings
from social_campaign.db import make_engine
from social_campaign.publishers.http import BaseURLSession
from social_campaign.publishers.x_auth import XTokenStore
settings = Settings(_env_file=None, **json.loads(sys.argv[1]))
engine = make_engine(settings.resolved_database_url)
store = XTokenStore(settings=settings, engine=engine, session=BaseURLSession("https://api.twitter.com", settings.x_api_url, 10))
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
token = store.access_token()
sys.stdout.write("ok\\n" if token else "none\\n")
"""


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_three_processes_at_once_refresh_exactly_once(request, build, db):
    kw = {"database_url": request.getfixturevalue("pg_url")} if db == "postgres" else {}
    h = build("x-oauth2", **kw)  # creates the schema
    config = {
        "data_dir": str(h.settings.data_dir),
        "database_url": h.settings.resolved_database_url,
        "x_api_url": h.fake.url,
        "x_client_id": x_api.CLIENT_ID,
        "x_client_secret": x_api.CLIENT_SECRET,
        "x_oauth2_refresh_token": x_api.REFRESH_TOKEN,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(config)], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert outputs == ["ok", "ok", "ok"]
    assert h.fake.refreshes == 1
