"""Roles on every ``/admin`` route, table-driven over the app's routes (``web.app.app_routes``).

Every path under ``/admin`` must declare ``web.auth.require(role)`` or ``web.auth.require_api_token`` (a new route
without one fails here), and must have a line in :data:`ROLE_OF`. For each line: no session gets 303 to ``/login``
(HTML GET) or 401 (POST, JSON); the role just below gets 403; the role itself gets neither 401 nor 403. The admin
token opens only ``/admin/api/…`` and never an HTML page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from starlette.routing import Route

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.web.app import app_routes
from social_campaign.workspace.accounts import ROLES
from tests.web.conftest import with_settings
from tests.web.workspace_support import login

TOKEN = "roles-test-admin-token-0123456789"
API = "api token"
#: (path, method) -> the lowest role that may use it, or API for the JSON opened by the admin token.
ROLE_OF: dict[tuple[str, str], str] = {
    ("/admin", "GET"): "viewer",
    ("/admin/users", "GET"): "owner",
    ("/admin/users", "POST"): "owner",
    ("/admin/users/role", "POST"): "owner",
    ("/admin/users/link", "POST"): "owner",
    ("/admin/users/remove", "POST"): "owner",
    ("/admin/audit", "GET"): "owner",
    ("/admin/campaigns/new", "GET"): "owner",
    ("/admin/campaigns/new", "POST"): "owner",
    ("/admin/c/{slug}", "GET"): "viewer",
    ("/admin/c/{slug}/live.json", "GET"): "viewer",
    ("/admin/api/c/{slug}/dashboard.json", "GET"): API,
    ("/admin/c/{slug}/deliveries/{delivery_id}/retry", "POST"): "editor",
    ("/admin/c/{slug}/deliveries/{delivery_id}/cancel", "POST"): "editor",
    ("/admin/c/{slug}/history", "GET"): "viewer",
    ("/admin/c/{slug}/history/{number}", "GET"): "viewer",
    ("/admin/c/{slug}/history/{number}/revert", "POST"): "editor",
    ("/admin/c/{slug}/pledge", "GET"): "viewer",
    ("/admin/c/{slug}/pledge", "POST"): "editor",
    ("/admin/c/{slug}/posts", "GET"): "viewer",
    ("/admin/c/{slug}/posts/{post_id}", "GET"): "viewer",
    ("/admin/c/{slug}/posts/{post_id}", "POST"): "editor",
    ("/admin/c/{slug}/posts/new", "POST"): "editor",
    ("/admin/c/{slug}/posts/{post_id}/delete", "POST"): "editor",
    ("/admin/c/{slug}/posts/{post_id}/duplicate", "POST"): "editor",
    ("/admin/c/{slug}/preview.json", "POST"): "editor",
}
VALUES = {"slug": "childrens-day", "post_id": "1", "delivery_id": "1", "number": "1"}


def _admin_routes() -> list[tuple[str, str, Route]]:
    return sorted((route.path, method, route) for route in app_routes() if route.path.startswith("/admin")
                  for method in sorted(route.methods or ()) if method != "HEAD")


def _guard(route: Route) -> str | None:
    """The role ``route`` requires (API for the token), from its dependencies; None when it declares none."""
    pending = list(route.dependant.dependencies)  # type: ignore[attr-defined]
    while pending:
        dep = pending.pop()
        if getattr(dep.call, "api_token", False):
            return API
        role = getattr(dep.call, "required_role", None)
        if role is not None:
            return str(role)
        pending.extend(dep.dependencies)
    return None


def test_every_admin_route_declares_a_role() -> None:
    missing = [f"{method} {path}" for path, method, route in _admin_routes() if _guard(route) is None]
    assert not missing, f"/admin routes without web.auth.require(role) or require_api_token: {missing}"


def test_every_admin_route_is_in_the_table() -> None:
    found = {(path, method): _guard(route) for path, method, route in _admin_routes()}
    missing = sorted(f"{m} {p} (requires {found[(p, m)]})" for p, m in found if (p, m) not in ROLE_OF)
    assert not missing, f"add these routes to ROLE_OF in tests/web/test_admin_roles.py: {missing}"
    stale = sorted(f"{m} {p}" for p, m in ROLE_OF if (p, m) not in found)
    assert not stale, f"ROLE_OF names routes the app does not have: {stale}"
    wrong = {f"{m} {p}": (ROLE_OF[(p, m)], role) for (p, m), role in found.items() if ROLE_OF[(p, m)] != role}
    assert not wrong, f"the table and the routes disagree (table, route): {wrong}"


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: VALUES[m.group(1)], path)


@pytest.fixture
def clients(
    engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]
) -> Iterator[dict[str, TestClient]]:
    settings = with_settings(web_settings, admin_token=TOKEN)
    out: dict[str, TestClient] = {"anonymous": client_for(engine, [campaign], settings, follow_redirects=False)}
    for role in ROLES:
        out[role] = client_for(engine, [campaign], settings, follow_redirects=False)
        login(out[role], engine, role)
    yield out


def _call(client: TestClient, method: str, path: str, **kw: Any) -> Any:
    return client.request(method, _url(path), **kw)


@pytest.mark.parametrize(("path", "method"), sorted(ROLE_OF))
def test_each_route_answers_by_role(clients: dict[str, TestClient], path: str, method: str) -> None:
    role = ROLE_OF[(path, method)]
    anonymous = _call(clients["anonymous"], method, path)
    if role == API:
        assert anonymous.status_code == 401
        assert _call(clients["owner"], method, path).status_code == 401, "a session does not open the JSON API"
        allowed = _call(clients["anonymous"], method, path, headers={"authorization": f"Bearer {TOKEN}"})
        assert allowed.status_code not in (401, 403), allowed.text
        return
    if method == "GET" and not path.endswith(".json"):
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/login?next=")
    else:
        assert anonymous.status_code == 401
    below = ROLES.index(role) - 1
    if below >= 0:
        lower = _call(clients[ROLES[below]], method, path)
        assert lower.status_code == 403, f"{ROLES[below]} on {method} {path}: {lower.status_code}"
    allowed = _call(clients[role], method, path)
    assert allowed.status_code not in (401, 403), f"{role} on {method} {path}: {allowed.status_code}"
    if allowed.status_code == 303:
        assert not allowed.headers["location"].startswith("/login")


def test_the_admin_token_opens_no_html_page(clients: dict[str, TestClient]) -> None:
    anonymous = clients["anonymous"]
    for page in ("/admin", "/admin/users", "/admin/audit"):
        by_header = anonymous.get(page, headers={"authorization": f"Bearer {TOKEN}"})
        by_query = anonymous.get(f"{page}?token={TOKEN}")
        assert by_header.status_code == by_query.status_code == 303
        assert by_header.headers["location"].startswith("/login")


def test_without_an_admin_token_the_api_is_off_and_says_how(
    engine: Engine, campaign: Campaign, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(engine, [campaign])
    answer = client.get(_url("/admin/api/c/{slug}/dashboard.json"), headers={"authorization": "Bearer anything"})
    assert answer.status_code == 403
    assert "SOCIAL_CAMPAIGN_ADMIN_TOKEN" in answer.json()["error"]


def test_a_wrong_token_is_refused(clients: dict[str, TestClient]) -> None:
    answer = _call(clients["anonymous"], "GET", "/admin/api/c/{slug}/dashboard.json",
                   headers={"authorization": f"Bearer {TOKEN[:-1]}x"})
    assert answer.status_code == 401
