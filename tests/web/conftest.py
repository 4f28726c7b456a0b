"""Fixtures for the web tests: a campaign built in code, the app on a real SQLite file, a TestClient, form helpers."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from social_campaign.campaign.model import Campaign, PledgeSpec
from social_campaign.config import Settings
from social_campaign.web.app import create_app

MESSAGE = (
    "On Universal Children's Day, 20 November, every country but one has ratified the UN Convention on the Rights "
    "of the Child. #ChildrensDay #childrights #CRC #USstandsAlone"
)


def make_campaign(
    tmp_path: Path, *, slug: str = "childrens-day", goal: int = 3, deadline: datetime | None = None,
    fire_at: datetime | None = None,
) -> Campaign:
    deadline = deadline or datetime.now(UTC) + timedelta(days=30)
    fire_at = fire_at or deadline + timedelta(hours=1)
    return Campaign(
        slug=slug,
        name="Universal Children's Day: ratify the CRC",
        timezone=ZoneInfo("America/New_York"),
        hashtags=("#ChildrensDay", "#childrights", "#CRC", "#USstandsAlone"),
        link="https://example.org/crc",
        posts=(),
        root=tmp_path,
        source=tmp_path / "schedule.toml",
        content_hash="0" * 64,
        pledge=PledgeSpec(goal=goal, deadline=deadline, fire_at=fire_at, message="pledge", variants=(MESSAGE, MESSAGE + " v2")),
        description="Help us reach our goal of supporters.",
    )


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    return make_campaign(tmp_path)


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        data_dir=tmp_path / "data", pledge_rate_limits="", public_url="https://pledge.example.org", _env_file=None
    )


@pytest.fixture
def client_for(web_settings: Settings) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def build(engine: Engine, campaigns: list[Campaign], settings: Settings | None = None, **kw: object) -> TestClient:
        app = create_app(settings or web_settings, engine, campaigns=campaigns)
        c = TestClient(app, raise_server_exceptions=False, **kw)  # type: ignore[arg-type]
        clients.append(c)
        return c

    yield build
    for c in clients:
        c.close()


@pytest.fixture
def client(client_for: Callable[..., TestClient], any_engine: Engine, campaign: Campaign) -> TestClient:
    return client_for(any_engine, [campaign])


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(client: TestClient, slug: str = "childrens-day") -> str:
    page = client.get(f"/c/{slug}")
    assert page.status_code == 200, page.text
    match = CSRF.search(page.text)
    assert match, "the campaign page has no CSRF input"
    return match.group(1)


def pledge_form(client: TestClient, slug: str = "childrens-day", **fields: str) -> dict[str, str]:
    form = {"name": "Amina", "email": "amina@example.org", "consent": "yes", "country": "", "postcode": "", "website": ""}
    form.update(fields)
    form["csrf"] = fields.get("csrf", csrf_of(client, slug))
    return form


LINK = re.compile(r"https://pledge\.example\.org(/c/[a-z0-9-]+/(?:confirm|withdraw)/[A-Za-z0-9_-]+)")


def links_in(text: str) -> dict[str, str]:
    """{"confirm": path, "withdraw": path} found in an email body."""
    out: dict[str, str] = {}
    for path in LINK.findall(text):
        out[path.split("/")[3]] = path
    return out


def press_confirm(client: TestClient, path: str) -> Any:
    """Open an emailed confirm link and press the page's one button (the GET changes nothing; the POST confirms)."""
    page = client.get(path)
    if page.status_code != 200:
        return page
    match = CSRF.search(page.text)
    assert match, "the confirm page has no CSRF input"
    return client.post(path, data={"csrf": match.group(1)})


def with_settings(settings: Settings, **changes: object) -> Settings:
    """A validated copy of ``settings`` with ``changes`` (``model_copy`` would skip validation)."""
    return Settings(**{**settings.model_dump(), **changes}, _env_file=None)  # type: ignore[call-arg]


CHROMIUM = Path("/usr/bin/chromium")
#: Debian's Chromium as root on a machine with no network: no sandbox, no GPU, no background connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: object, port: int) -> Iterator[str]:
    """``app`` served by a real uvicorn on 127.0.0.1:``port`` in a background thread; yields its base URL."""
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


def launch_chromium(playwright: object) -> object:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)  # type: ignore[attr-defined]
