"""The dashboard route /admin/c/{slug}: roles, the page's numbers and charts, retry and cancel, live.json, the API."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign import audit
from social_campaign.campaign.model import Post
from social_campaign.config import Settings
from social_campaign.models import AuditEntry, Delivery
from social_campaign.workspace import aggregates
from tests.web.conftest import make_campaign, with_settings
from tests.web.workspace_support import login
from tests.workspace.dashboard_seed import POSTS, delivery, pledge, seed

SLUG = "childrens-day"
TOKEN = "dashboard-test-admin-token"
PAGE = f"/admin/c/{SLUG}"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def dash(any_engine: Engine, tmp_path: Path, web_settings: Settings, client_for: Callable[..., TestClient]) -> TestClient:
    campaign = make_campaign(tmp_path, goal=100, deadline=datetime.now(UTC) + timedelta(days=30))
    posts = tuple(Post(id=post_id, channels=("outbox",), message="m", texts={"outbox": "hello"}) for post_id in POSTS)
    campaign = replace(campaign, posts=posts)
    return client_for(any_engine, [campaign], with_settings(web_settings, admin_token=TOKEN), follow_redirects=False)


def _state(engine: Engine, delivery_id: int) -> Delivery:
    with Session(engine) as s:
        row = s.get(Delivery, delivery_id)
        assert row is not None
        return row


def _csrf(client: TestClient) -> str:
    match = CSRF.search(client.get(PAGE).text)
    assert match
    return match.group(1)


def test_the_page_needs_a_login_and_shows_the_numbers(dash: TestClient, any_engine: Engine) -> None:
    seed(any_engine, now=datetime.now(UTC))
    anonymous = dash.get(PAGE)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=/admin/c/")
    login(dash, any_engine, "viewer")
    page = dash.get(PAGE)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert 'data-live-key="confirmed">9<' in html
    assert 'data-live-key="funnel.pledged">12<' in html and 'data-live-key="funnel.clicked">2<' in html
    assert "social-campaign reconnect x" in html
    assert "Reason: The network refused the text: duplicate post." in html
    for chart in ("chart-pledges", "chart-funnel", "chart-countries", "chart-deliveries"):
        svg = re.search(rf'<svg class="chart [a-z]+" id="{chart}".*?</svg>', html, re.S)
        assert svg, chart
        root = ET.fromstring(svg.group(0))  # well-formed, with a title and a description
        assert root.find("{http://www.w3.org/2000/svg}title") is not None
    assert "/retry" not in html and "Editors and owners can retry or cancel these posts." in html  # a viewer
    assert "<script>" not in html and "style=" not in html and " onclick" not in html  # the CSP's rules
    assert dash.get("/admin/c/nope").status_code == 404


def test_a_viewer_cannot_retry(dash: TestClient, any_engine: Engine) -> None:
    ids = seed(any_engine, now=datetime.now(UTC))
    login(dash, any_engine, "viewer")
    response = dash.post(f"{PAGE}/deliveries/{ids['failed']}/retry", data={"csrf": _csrf(dash), "state": "failed"})
    assert response.status_code == 403
    assert _state(any_engine, ids["failed"]).state == "failed"


def test_retry_and_cancel_are_audited(dash: TestClient, any_engine: Engine) -> None:
    ids = seed(any_engine, now=datetime.now(UTC))
    user = login(dash, any_engine, "editor")
    page = dash.get(PAGE).text
    assert f"/deliveries/{ids['failed']}/retry" in page and f"/deliveries/{ids['unconfirmed']}/retry" not in page
    before = datetime.now(UTC)
    done = dash.post(f"{PAGE}/deliveries/{ids['failed']}/retry", data={"csrf": _csrf(dash), "state": "failed"})
    assert done.status_code == 303 and done.headers["location"].startswith(f"{PAGE}?retried={ids['failed']}")
    row = _state(any_engine, ids["failed"])
    assert row.state == "scheduled" and row.due_at >= before - timedelta(seconds=1) and row.last_error is None
    cancelled = dash.post(f"{PAGE}/deliveries/{ids['scheduled']}/cancel", data={"csrf": _csrf(dash), "state": "scheduled"})
    assert cancelled.status_code == 303 and _state(any_engine, ids["scheduled"]).state == "cancelled"
    with Session(any_engine) as s:
        entries = audit.entries(s)
    retry_entry = next(e for e in entries if e.action == "delivery.retry")
    assert retry_entry.actor == user.email and retry_entry.campaign == SLUG
    assert retry_entry.target == f"delivery:{ids['failed']}"
    assert json.loads(retry_entry.details)["diff"]["state"] == ["failed", "scheduled"]
    assert any(e.action == "delivery.cancel" for e in entries)


@pytest.mark.parametrize(("state", "action", "words"), [
    ("unconfirmed", "retry", "reconciliation"), ("sent", "retry", "has been sent"), ("sent", "cancel", "has been sent"),
    ("scheduled", "retry", "Only failed, missed or cancelled"), ("cancelled", "cancel", "can be cancelled"),
])
def test_refused_transitions_change_nothing(
    dash: TestClient, any_engine: Engine, state: str, action: str, words: str
) -> None:
    ids = seed(any_engine, now=datetime.now(UTC))
    login(dash, any_engine, "editor")
    response = dash.post(f"{PAGE}/deliveries/{ids[state]}/{action}", data={"csrf": _csrf(dash), "state": state})
    assert response.status_code == 409
    assert words in response.text and 'role="alert"' in response.text
    assert _state(any_engine, ids[state]).state == state
    with Session(any_engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action.startswith("delivery."))).all() == []


def test_a_stale_form_or_a_foreign_delivery_changes_nothing(dash: TestClient, any_engine: Engine) -> None:
    ids = seed(any_engine, now=datetime.now(UTC))
    from social_campaign.db import session_scope

    with session_scope(any_engine) as s:
        other = delivery("other-campaign", "failed", datetime.now(UTC))
        s.add(other)
        s.flush()
        other_id = other.id
    login(dash, any_engine, "editor")
    stale = dash.post(f"{PAGE}/deliveries/{ids['missed']}/retry", data={"csrf": _csrf(dash), "state": "failed"})
    assert stale.status_code == 409 and "changed since the page was loaded" in stale.text
    assert _state(any_engine, ids["missed"]).state == "missed"
    assert dash.post(f"{PAGE}/deliveries/{other_id}/retry", data={"csrf": _csrf(dash)}).status_code == 404
    assert dash.post(f"{PAGE}/deliveries/{ids['missed']}/retry", data={"csrf": "forged"}).status_code == 400
    assert _state(any_engine, ids["missed"]).state == "missed"


def test_live_json_follows_a_confirmation(dash: TestClient, any_engine: Engine) -> None:
    from social_campaign.db import session_scope

    seed(any_engine, now=datetime.now(UTC))
    assert dash.get(f"{PAGE}/live.json").status_code == 401
    login(dash, any_engine, "viewer")
    first = dash.get(f"{PAGE}/live.json")
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    assert first.json()["confirmed"] == 9
    with session_scope(any_engine) as s:
        s.add(pledge(SLUG, "confirmed", datetime.now(UTC), "Peru"))
    confirmed_at = time.monotonic()
    while (second := dash.get(f"{PAGE}/live.json").json())["confirmed"] == 9:
        assert time.monotonic() - confirmed_at < aggregates.MAX_AGE + 1, "live.json stayed stale"
        time.sleep(0.1)
    assert second["confirmed"] == 10 and second["funnel"]["pledged"] == 13 and second["state"] == "open"


def test_the_api_needs_the_token(dash: TestClient, any_engine: Engine) -> None:
    seed(any_engine, now=datetime.now(UTC))
    url = f"/admin/api/c/{SLUG}/dashboard.json"
    assert dash.get(url).status_code == 401
    assert dash.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    login(dash, any_engine, "owner")
    assert dash.get(url).status_code == 401  # a session is not the token
    body = dash.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert body.status_code == 200 and body.headers["cache-control"] == "no-store"
    data = body.json()
    assert data["confirmed"] == 9 and data["funnel"]["notified"] == 2
    assert data["countries"][0] == {"country": "France", "confirmed": 4}


def test_the_page_in_arabic(dash: TestClient, any_engine: Engine) -> None:
    seed(any_engine, now=datetime.now(UTC))
    login(dash, any_engine, "viewer")
    page = dash.get(f"{PAGE}?lang=ar")
    assert page.status_code == 200 and 'dir="rtl"' in page.text


def test_a_post_deleted_from_the_schedule_is_not_sent_again(dash: TestClient, any_engine: Engine) -> None:
    from social_campaign.db import session_scope

    seed(any_engine, now=datetime.now(UTC))
    with session_scope(any_engine) as s:
        gone = delivery(SLUG, "failed", datetime.now(UTC), "refused", post_id="deleted-post")
        s.add(gone)
        s.flush()
        gone_id = gone.id
    assert gone_id is not None
    login(dash, any_engine, "editor")
    response = dash.post(f"{PAGE}/deliveries/{gone_id}/retry", data={"csrf": _csrf(dash), "state": "failed"})
    assert response.status_code == 409 and "no longer in the schedule" in response.text
    assert _state(any_engine, gone_id).state == "failed"
