"""``/healthz`` answers 503 naming a loop of this process that died or stopped beating on this app's database."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.db import make_engine
from social_campaign.supervise import Loop, close_all


@pytest.fixture
def loops() -> Iterator[list[Loop]]:
    made: list[Loop] = []
    yield made
    close_all(made)


def test_healthz_names_a_stalled_loop_and_a_dead_one(
    client_for: Callable[..., TestClient], any_engine: Engine, campaign: Campaign, web_settings: Settings,
    loops: list[Loop],
) -> None:  # fmt: skip
    client = client_for(any_engine, [campaign], web_settings.model_copy(update={"heartbeat_stale_seconds": 30.0}))
    mail = Loop("mail", role="worker", engine=any_engine, interval=1.0)
    loops.append(mail)
    assert (client.get("/healthz").status_code, client.get("/healthz").json()) == (200, {"status": "ok"})

    mail.state.last_beat -= 40  # silent for 40 s: more than 30 s + its 1 s interval
    mail.failed(RuntimeError("database is locked"), wait=False)
    r = client.get("/healthz")
    assert r.status_code == 503 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["error"] == "stalled: mail"
    assert body["stalled"]["mail"].startswith("no heartbeat for 4") and "database is locked" in body["stalled"]["mail"]

    mail.beat()
    assert client.get("/healthz").status_code == 200

    def crash() -> None:
        loops.append(Loop("delivery", role="worker", engine=any_engine))  # its thread ends without a clean stop

    thread = threading.Thread(target=crash)
    thread.start()
    thread.join()
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["error"] == "stalled: delivery"
    assert r.json()["stalled"]["delivery"].startswith("dead")


def test_loops_on_another_database_do_not_count(
    client_for: Callable[..., TestClient], engine: Engine, campaign: Campaign, tmp_path, loops: list[Loop]
) -> None:
    client = client_for(engine, [campaign])
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    elsewhere = Loop("mail", engine=other)
    loops.append(elsewhere)
    elsewhere.state.last_beat -= 1000
    assert client.get("/healthz").status_code == 200
    close_all(loops)
    loops.clear()
    other.dispose()
