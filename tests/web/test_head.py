"""Every GET route answers HEAD with GET's status and headers and no body; a 405 says what is allowed.

Table-driven over every route the app serves (``web.app.app_routes``), so a new GET route is covered on its own; a
new path parameter needs a value in ``_value`` below.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.models import EmailMessage, Pledge
from social_campaign.web.app import app_routes
from tests.pledges.release_support import add_pledges
from tests.web.conftest import links_in, pledge_form, with_settings

SLUG = "childrens-day"
TOKEN = "head-test-admin-token"
GET_ROUTES = sorted({route.path for route in app_routes() if route.methods and "GET" in route.methods})


@pytest.fixture
def head_client(
    any_engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]
) -> TestClient:
    return client_for(any_engine, [campaign], with_settings(web_settings, admin_token=TOKEN), follow_redirects=False)


def _tokens(engine: Engine, client: TestClient) -> dict[str, str]:
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    with Session(engine) as s:
        links = links_in(s.exec(select(EmailMessage)).one().body_text)
    add_pledges(engine, 1, start=50)  # a confirmed pledge with a share page
    with Session(engine) as s:
        share = s.exec(select(Pledge.share_token).where(Pledge.email == "p50@example.org")).one()
    assert share is not None
    return {"confirm": links["confirm"].rsplit("/", 1)[1], "withdraw": links["withdraw"].rsplit("/", 1)[1], "share": share}


def _value(path: str, name: str, tokens: dict[str, str]) -> str:
    if name == "token":
        return tokens["confirm"] if "/confirm/" in path else tokens["withdraw"] if "/withdraw/" in path or "/me/" in path else tokens["share"]
    values = {"slug": SLUG, "channel": "x", "name": "poster", "target": "x", "post_id": "kickoff", "number": "1"}
    assert name in values, f"{path}: give the HEAD test a value for {{{name}}}"
    return values[name]


def _headers(response: object) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in ("date",)}  # type: ignore[attr-defined]


@pytest.mark.parametrize("route", GET_ROUTES)
def test_every_get_route_answers_head(any_engine: Engine, head_client: TestClient, route: str) -> None:
    tokens = _tokens(any_engine, head_client)
    url = re.sub(r"\{(\w+)\}", lambda m: _value(route, m.group(1), tokens), route)
    params = {"token": TOKEN} if route == "/admin" else {}
    head = head_client.head(url, params=params)
    get = head_client.get(url, params=params)
    assert head.status_code == get.status_code != 405, (url, head.status_code, get.status_code)
    assert get.status_code < 500
    assert head.content == b""
    assert _headers(head) == _headers(get)  # content-length too: the length GET's body has


def test_the_routes_cover_the_pages() -> None:
    assert {"/c/{slug}", "/c/{slug}/confirm/{token}", "/c/{slug}/withdraw/{token}", "/c/{slug}/share/{token}",
            "/admin", "/healthz", "/c/{slug}/progress.json"} <= set(GET_ROUTES)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/healthz", "GET, HEAD"),
        ("POST", f"/c/{SLUG}", "GET, HEAD"),
        ("GET", f"/c/{SLUG}/pledge", "POST"),
        ("HEAD", f"/c/{SLUG}/pledge", "POST"),
        ("DELETE", f"/c/{SLUG}/confirm/abc", "GET, HEAD, POST"),
        ("PUT", f"/c/{SLUG}/withdraw/abc", "GET, HEAD, POST"),
        ("PATCH", f"/c/{SLUG}/badge", "GET, HEAD, POST"),
    ],
)
def test_405_carries_allow(head_client: TestClient, method: str, path: str, allow: str) -> None:
    r = head_client.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow
    if method != "HEAD":
        assert "does not take" in r.text and "Traceback" not in r.text


def test_static_files_answer_head(head_client: TestClient) -> None:
    head, get = head_client.head("/static/style.css"), head_client.get("/static/style.css")
    assert head.status_code == get.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))


def test_head_through_real_uvicorn(any_engine: Engine, campaign: Campaign, web_settings: Settings) -> None:
    import httpx

    from social_campaign.web.app import create_app
    from tests.web.conftest import free_port, live_server

    with live_server(create_app(web_settings, any_engine, campaigns=[campaign]), free_port()) as base:
        get = httpx.get(f"{base}/c/{SLUG}")
        head = httpx.head(f"{base}/c/{SLUG}")
        assert head.status_code == get.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))
        refused = httpx.head(f"{base}/c/{SLUG}/pledge")
        assert refused.status_code == 405 and refused.headers["allow"] == "POST"


def test_head_on_a_share_link_is_not_counted(any_engine: Engine, head_client: TestClient) -> None:
    from social_campaign.models import ShareClick

    tokens = _tokens(any_engine, head_client)
    url = f"/c/{SLUG}/go/{tokens['share']}/x"
    head = head_client.head(url)
    assert head.status_code == 302 and head.headers["location"].startswith("https://")
    with Session(any_engine) as s:
        assert s.exec(select(ShareClick)).all() == []  # a link checker's HEAD is answered, not counted
    assert head_client.get(url).status_code == 302
    with Session(any_engine) as s:
        assert [c.channel for c in s.exec(select(ShareClick)).all()] == ["x"]
