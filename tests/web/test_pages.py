"""The campaign page, validation answers, errors, progress.json, health, security headers and the dashboard."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.models import Pledge
from tests.web.conftest import csrf_of, make_campaign, pledge_form, press_confirm, with_settings

SLUG = "childrens-day"


def test_page_shows_message_goal_count_times_state_and_form(client: TestClient, campaign: Campaign) -> None:
    r = client.get(f"/c/{SLUG}")
    assert r.status_code == 200
    page = r.text
    assert "every country but one has ratified" in page
    assert '<strong id="goal">3</strong>' in page and '<strong id="confirmed">0</strong>' in page
    assert "<progress" in page and 'id="state">Open<' in page
    assert campaign.pledge is not None
    deadline = campaign.pledge.deadline.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'datetime="{deadline}"' in page and f'data-until="{deadline}"' in page
    assert "EST" in page or "EDT" in page  # the campaign's zone, converted to the visitor's by JS
    for name in ("name", "email", "country", "postcode", "consent", "website", "csrf"):
        assert f'name="{name}"' in page
    assert "Please leave this field empty" in page
    assert 'class="hp" aria-hidden="true"' in page and 'tabindex="-1" autocomplete="off"' in page
    assert "one email at" in page  # consent says what we send and when
    assert "/static/campaign.js" in page and "https://cdn" not in page


def test_static_assets_are_served_locally(client: TestClient) -> None:
    assert "countdown" in client.get("/static/campaign.js").text
    assert ".hp" in client.get("/static/style.css").text


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": ""}, "name: please enter your name"),
        ({"name": "x" * 101}, "name: at most 100 characters"),
        ({"name": "=HYPERLINK(\"http://evil\")"}, "name: may not start with"),
        ({"name": "+44 tricky"}, "name: may not start with"),
        ({"name": "-1"}, "name: may not start with"),
        ({"name": "@SUM(A1)"}, "name: may not start with"),
        ({"email": "not-an-email"}, "email: please enter a valid email address"),
        ({"email": "a@b"}, "email: please enter a valid email address"),
        ({"consent": ""}, "consent: please tick the box"),
        ({"postcode": "x" * 21}, "postcode: at most 20 characters"),
    ],
)
def test_bad_fields_get_400_naming_the_field(any_engine: Engine, client: TestClient, fields: dict[str, str], expected: str) -> None:
    r = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, **fields))
    assert r.status_code == 400
    assert expected in r.text and "Traceback" not in r.text
    with Session(any_engine) as s:
        assert s.exec(select(Pledge)).all() == []


def test_csrf_origin_and_content_type_are_checked(client: TestClient) -> None:
    form = pledge_form(client)
    bad = dict(form, csrf="1.x.y")
    r = client.post(f"/c/{SLUG}/pledge", data=bad)
    assert r.status_code == 400 and "csrf: the form has expired" in r.text
    r = client.post(f"/c/{SLUG}/pledge", data=form, headers={"origin": "https://evil.example"})
    assert r.status_code == 400 and "another site" in r.text
    r = client.post(f"/c/{SLUG}/pledge", content=json.dumps(form), headers={"content-type": "application/json"})
    assert r.status_code == 415
    r = client.post(f"/c/{SLUG}/pledge", data={**form, "name": "x" * 20000})
    assert r.status_code == 413


def test_unknown_slug_is_404_html_and_json(client: TestClient) -> None:
    r = client.get("/c/nope")
    assert r.status_code == 404 and "no campaign called &#39;nope&#39;" in r.text
    r = client.get("/c/nope/progress.json")
    assert r.status_code == 404 and r.json() == {"error": "no campaign called 'nope'"}
    assert client.get("/nothing/here").status_code == 404
    assert client.post("/c/nope/pledge", data={}).status_code == 404


def test_progress_json_shape_and_cache_headers(client: TestClient, campaign: Campaign) -> None:
    r = client.get(f"/c/{SLUG}/progress.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "public, max-age=2, stale-while-revalidate=10"
    body = r.json()
    assert set(body) == {"slug", "goal", "confirmed", "state", "deadline", "fire_at"}
    assert campaign.pledge is not None
    assert body["deadline"] == campaign.pledge.deadline.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (body["slug"], body["goal"], body["confirmed"], body["state"]) == (SLUG, 3, 0, "open")


def test_after_the_deadline_the_form_is_gone_and_pledges_are_refused(
    tmp_path: Path, any_engine: Engine, client_for: Callable[..., TestClient]
) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    open_client = client_for(any_engine, [make_campaign(tmp_path)])
    form = pledge_form(open_client)
    closed = client_for(any_engine, [make_campaign(tmp_path, deadline=past, fire_at=past + timedelta(days=1))])
    page = closed.get(f"/c/{SLUG}")
    assert page.status_code == 200 and 'id="pledge-form"' not in page.text and "Pledging is closed" in page.text
    assert closed.get(f"/c/{SLUG}/progress.json").json()["state"] == "closed"  # deadline passed, not yet evaluated
    r = closed.post(f"/c/{SLUG}/pledge", data=form)
    assert r.status_code == 400 and "pledging closed" in r.text


def test_state_follows_the_release_row(tmp_path: Path, any_engine: Engine, client_for: Callable[..., TestClient]) -> None:
    from social_campaign.models import PledgeRelease

    past = datetime.now(UTC) - timedelta(hours=2)
    with Session(any_engine) as s:
        s.add(PledgeRelease(campaign=SLUG, state="failed", goal=3))
        s.add(PledgeRelease(campaign="won", state="succeeded", goal=3))
        s.commit()
    lost = make_campaign(tmp_path, deadline=past, fire_at=past + timedelta(hours=1))
    won = make_campaign(tmp_path, slug="won", deadline=past, fire_at=past + timedelta(hours=1))
    client = client_for(any_engine, [lost, won])
    assert client.get(f"/c/{SLUG}/progress.json").json()["state"] == "not reached"
    assert client.get("/c/won/progress.json").json()["state"] == "released"
    assert "Released" in client.get("/c/won").text


def test_stays_open_after_goal_reached(any_engine: Engine, client: TestClient) -> None:
    from tests.web.test_pledge_flow import emails, links_in

    for i in range(4):
        client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email=f"s{i}@example.org"))
    for e in emails(any_engine):
        press_confirm(client, links_in(e.body_text)["confirm"])
    body = client.get(f"/c/{SLUG}/progress.json").json()
    assert (body["confirmed"], body["state"]) == (4, "goal reached")
    assert 'id="pledge-form"' in client.get(f"/c/{SLUG}").text


def test_security_headers_and_health(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    page = client.get(f"/c/{SLUG}")
    for header in ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"):
        assert header in page.headers
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_csrf_tokens_are_fresh_per_page(client: TestClient) -> None:
    assert csrf_of(client) != csrf_of(client)


TOKEN = "s3cret-dashboard-token"


def test_dashboard_needs_the_token_even_from_loopback(
    any_engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    for peer in (("127.0.0.1", 5000), ("::1", 5000), ("203.0.113.9", 5000)):  # a same-host proxy makes all look local
        r = client_for(any_engine, [campaign], client=peer).get("/admin")  # no token set: the dashboard is off
        assert r.status_code == 403 and "SOCIAL_CAMPAIGN_ADMIN_TOKEN" in r.text and "Dashboard" not in r.text
    settings = with_settings(web_settings, admin_token=TOKEN)
    for peer in (("127.0.0.1", 5000), ("203.0.113.9", 5000)):
        guarded = client_for(any_engine, [campaign], settings, client=peer)
        assert guarded.get("/admin").status_code == 403
        assert guarded.get("/admin", headers={"authorization": "Bearer wrong"}).status_code == 403
        r = guarded.get("/admin", headers={"authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200 and "Dashboard" in r.text and "Accounts needing reconnect" in r.text
        assert guarded.get(f"/admin?token={TOKEN}").status_code == 200


def test_dashboard_lists_pledges_failures_and_accounts(
    any_engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    from social_campaign.models import Account, Delivery

    now = datetime.now(UTC)
    with Session(any_engine) as s:
        s.add(Delivery(campaign=SLUG, post_id="launch", channel="x", due_at=now, state="failed", text="t",
                       last_error="X refused the post: duplicate content"))
        s.add(Delivery(campaign=SLUG, post_id="later", channel="facebook", due_at=now + timedelta(days=1), text="t"))
        s.add(Account(channel="facebook", status="needs_reconnect", reason="Page token expired"))
        s.commit()
    local = client_for(any_engine, [campaign], with_settings(web_settings, admin_token=TOKEN))
    local.post(f"/c/{SLUG}/pledge", data=pledge_form(local))
    page = local.get("/admin", headers={"authorization": f"Bearer {TOKEN}"}).text
    assert "X refused the post: duplicate content" in page and "Page token expired" in page and "later" in page
    assert f"<td>{SLUG}</td><td>3</td><td>0</td><td>1</td>" in page
