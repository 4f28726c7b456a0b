"""The campaign page, validation answers, errors, progress.json, health, security headers and the dashboard."""

from __future__ import annotations

import json
import re
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
    assert "Help us reach our goal of supporters." in page  # the story
    assert 'class="progress-bar" role="progressbar"' in page and 'aria-valuenow="0"' in page and 'aria-valuemax="3"' in page
    assert 'id="state">Open<' in page and 'id="percent">0%<' in page
    assert "Be the first to pledge." in page and "0 of 3" not in page  # the empty state
    assert '<a class="cta button" href="#pledge-form">' in page and 'class="pin-cta button" href="#pledge-form"' in page
    assert campaign.pledge is not None
    deadline = campaign.pledge.deadline.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'datetime="{deadline}"' in page and f'data-until="{deadline}"' in page
    assert "EST" in page or "EDT" in page  # the campaign's zone, converted to the visitor's by JS
    assert "29 days left" in page or "30 days left" in page  # days only, more than a day ahead
    assert "3 more supporters needed by" in page
    for name in ("name", "email", "country", "postcode", "consent", "website", "csrf"):
        assert f'name="{name}"' in page
    assert "Please leave this field empty" in page
    assert 'class="hp" aria-hidden="true"' in page and 'tabindex="-1" autocomplete="off"' in page
    assert "one email at" in page  # consent says what we send and when
    assert "/static/campaign.js" in page and "https://cdn" not in page


def test_static_assets_are_served_locally(client: TestClient) -> None:
    assert "countdown" in client.get("/static/campaign.js").text
    assert ".hp" in client.get("/static/style.css").text


ERROR_AT = re.compile(r'<p class="field-error" id="(\w+)-error">([^<]+)</p>')


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "=HYPERLINK(\"http://evil\")"}, "name"),
        ({"name": "+44 tricky"}, "name"),
        ({"name": "-1"}, "name"),
        ({"name": "@SUM(A1)"}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"consent": ""}, "consent"),
        ({"postcode": "x" * 21}, "postcode"),
    ],
)
def test_a_bad_field_gets_400_and_its_error_at_the_field(
    any_engine: Engine, client: TestClient, fields: dict[str, str], field: str
) -> None:
    r = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, **fields))
    assert r.status_code == 400 and "Traceback" not in r.text
    found = ERROR_AT.findall(r.text)
    assert [f for f, _ in found] == [field]  # one message, right under its field
    message = found[0][1]
    assert message[:1].isupper() and not message.lower().startswith(f"{field}:")  # a sentence, no "field:" prefix
    tag = re.search(rf'<input id="{field}"[^>]*>', r.text)
    assert tag and f'aria-invalid="true" aria-describedby="{field}-error"' in tag.group(0)
    assert r.text.count('aria-invalid="true"') == 1
    assert re.search(r'<form method="post" action="/c/childrens-day/pledge\?lang=en#pledge-form" id="pledge-form"', r.text)
    with Session(any_engine) as s:
        assert s.exec(select(Pledge)).all() == []


def test_csrf_origin_and_content_type_are_checked(client: TestClient) -> None:
    form = pledge_form(client)
    bad = dict(form, csrf="1.x.y")
    r = client.post(f"/c/{SLUG}/pledge", data=bad)
    assert r.status_code == 400 and 'class="error" role="alert" id="form-error"' in r.text and 'field-error' not in r.text  # not about a field: at the top of the form
    r = client.post(f"/c/{SLUG}/pledge", data=form, headers={"origin": "https://evil.example"})
    assert r.status_code == 400 and "another site" in r.text
    r = client.post(f"/c/{SLUG}/pledge", content=json.dumps(form), headers={"content-type": "application/json"})
    assert r.status_code == 415
    r = client.post(f"/c/{SLUG}/pledge", data={**form, "name": "x" * 20000})
    assert r.status_code == 413


def test_unknown_slug_is_404_html_and_json(client: TestClient) -> None:
    r = client.get("/c/nope")
    assert r.status_code == 404 and "No campaign called &#39;nope&#39;" in r.text
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
    assert page.status_code == 200 and 'id="pledge-form"' not in page.text and "Pledging has closed" in page.text
    assert "pin-cta" not in page.text and "days left" not in page.text  # no countdown to a time that has passed
    assert closed.get(f"/c/{SLUG}/progress.json").json()["state"] == "closed"  # deadline passed, not yet evaluated
    r = closed.post(f"/c/{SLUG}/pledge", data=form)
    assert r.status_code == 400 and "has closed" in r.text


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
    from tests.web.conftest import links_in
    from tests.web.test_pledge_flow import emails

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


def test_the_workspace_needs_a_login_even_from_loopback(
    any_engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    settings = with_settings(web_settings, admin_token=TOKEN)
    for peer in (("127.0.0.1", 5000), ("::1", 5000), ("203.0.113.9", 5000)):  # a same-host proxy makes all look local
        guarded = client_for(any_engine, [campaign], settings, client=peer, follow_redirects=False)
        for r in (guarded.get("/admin"), guarded.get("/admin", headers={"authorization": f"Bearer {TOKEN}"}),
                  guarded.get(f"/admin?token={TOKEN}")):  # the token opens only the JSON under /admin/api/
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/admin")


def test_the_workspace_home_shows_pledges_and_the_next_delivery(
    any_engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    from social_campaign.models import Delivery
    from tests.web.workspace_support import login

    now = datetime.now(UTC)
    with Session(any_engine) as s:
        s.add(Delivery(campaign=SLUG, post_id="launch", channel="x", due_at=now - timedelta(hours=1), state="failed",
                       text="t", last_error="X refused the post: duplicate content"))
        s.add(Delivery(campaign=SLUG, post_id="later", channel="facebook", due_at=now + timedelta(days=1), text="t"))
        s.commit()
    local = client_for(any_engine, [campaign])
    local.post(f"/c/{SLUG}/pledge", data=pledge_form(local))  # pending: not counted until confirmed
    login(local, any_engine, "viewer")
    page = local.get("/admin").text
    assert "0 of 3" in page and "Open for pledges" in page and f'href="/admin/c/{SLUG}"' in page
    assert "None scheduled" not in page  # the scheduled delivery is next; failures are on the campaign's dashboard


def _state_client(tmp_path: Path, engine: Engine, client_for: Callable[..., TestClient], *, deadline: timedelta,
                  fire: timedelta, release: str | None = None, confirmed: int = 0) -> TestClient:
    """A client for the test campaign with its deadline and release ``deadline``/``fire`` from now, a release row in
    state ``release`` and ``confirmed`` confirmed pledges; cards and a badge, so the released page can offer them."""
    import dataclasses
    import shutil

    from social_campaign.campaign.model import BadgeSpec
    from social_campaign.models import PledgeRelease
    from tests.pledges.release_support import add_pledges

    shipped = Path(__file__).resolve().parents[2] / "infographics"
    (tmp_path / "infographics").mkdir(exist_ok=True)
    shutil.copy(shipped / "frame-childrights.png", tmp_path / "infographics" / "frame.png")
    now = datetime.now(UTC)
    c = make_campaign(tmp_path, deadline=now + deadline, fire_at=now + fire)
    c = dataclasses.replace(c, badge=BadgeSpec(overlay=tmp_path / "infographics" / "frame.png"))
    if release:
        with Session(engine) as s:
            s.add(PledgeRelease(campaign=SLUG, state=release, goal=3))
            s.commit()
    if confirmed:
        add_pledges(engine, confirmed)
    return client_for(engine, [c])


STATES = {
    "open": ({"deadline": timedelta(days=3), "fire": timedelta(days=4)}, "Open",
             ["Be the first to pledge.", "3 more supporters needed by", "Pledge your support"],
             ["We did it", "We did not reach"]),
    "goal reached, open": ({"deadline": timedelta(days=3), "fire": timedelta(days=4), "confirmed": 3}, "Goal reached",
                           ["3 supporters have confirmed, of 3 needed.", "every new supporter makes the release louder",
                            'id="pledge-form"'], ["Be the first to pledge.", "We did it"]),
    "goal reached, closed": ({"deadline": -timedelta(hours=1), "fire": timedelta(hours=2), "release": "succeeded",
                              "confirmed": 3}, "Goal reached",
                             ["We reached the goal, and pledging has closed.", "2 hours left"],
                             ['id="pledge-form"', "pin-cta", "Pledges close:"]),
    "released": ({"deadline": -timedelta(hours=2), "fire": -timedelta(hours=1), "release": "succeeded", "confirmed": 3},
                 "Released", ["We did it", "3 supporters shared the message together.", "/c/childrens-day/badge",
                              '<div class="share-actions">', "https%3A%2F%2Fpledge.example.org%2Fc%2Fchildrens-day",
                              '<link rel="stylesheet" href="/static/pages.css">'],
                 ['id="pledge-form"', "pin-cta", "left</span>", "We did not reach"]),
    "not reached": ({"deadline": -timedelta(hours=2), "fire": timedelta(hours=1), "release": "failed", "confirmed": 1},
                    "Goal not reached",
                    ["We did not reach the goal this time", "1 supporter confirmed, short of the 3 we needed",
                     "What comes next", 'href="https://example.org/crc">Follow the campaign'],
                    ['id="pledge-form"', "pin-cta", "left</span>", "acts together", "We did it"]),
    "closed": ({"deadline": -timedelta(minutes=1), "fire": timedelta(hours=1)}, "Closed",
               ["Pledging has closed. We are counting the confirmed pledges"],
               ['id="pledge-form"', "pin-cta", "We did it", "We did not reach"]),
}


@pytest.mark.parametrize("name", list(STATES))
def test_the_copy_follows_the_state(tmp_path: Path, any_engine: Engine, client_for: Callable[..., TestClient],
                                    name: str) -> None:
    setup, label, present, absent = STATES[name]
    page = _state_client(tmp_path, any_engine, client_for, **setup).get(f"/c/{SLUG}").text  # type: ignore[arg-type]
    assert f'id="state">{label}<' in page
    for text in present:
        assert text in page, (name, text)
    for text in absent:
        assert text not in page, (name, text)


def test_the_countdown_shows_hours_and_minutes_only_in_the_last_day() -> None:
    from social_campaign.web.routes.campaign import countdown

    now = datetime(2027, 11, 1, 12, 0, tzinfo=UTC)
    assert countdown(now + timedelta(days=29, hours=23), now, "en") == "29 days left"
    assert countdown(now + timedelta(days=1), now, "en") == "1 day left"
    assert countdown(now + timedelta(hours=5, minutes=12), now, "en") == "5 hours and 12 minutes left"
    assert countdown(now + timedelta(hours=2), now, "en") == "2 hours left"
    assert countdown(now + timedelta(seconds=30), now, "en") == "1 minute left"
    assert countdown(now, now, "en") is None and countdown(now - timedelta(days=1), now, "en") is None
    assert "5\u00a0heures et 12 minutes" in str(countdown(now + timedelta(hours=5, minutes=12), now, "fr"))
    assert "29 días" in str(countdown(now + timedelta(days=29, hours=1), now, "es"))


def test_in_the_last_day_the_page_counts_hours_and_minutes(tmp_path: Path, any_engine: Engine,
                                                           client_for: Callable[..., TestClient]) -> None:
    client = _state_client(tmp_path, any_engine, client_for, deadline=timedelta(hours=3, minutes=30),
                           fire=timedelta(days=2, hours=1))
    page = client.get(f"/c/{SLUG}").text
    assert re.search(r'class="countdown" data-until="[^"]+">3 hours and (29|30) minutes left<', page)
    assert "2 days left" in page  # the release, further away: days only


def test_an_error_under_a_campaign_keeps_its_header_and_a_way_back(client: TestClient) -> None:
    r = client.get(f"/c/{SLUG}/no-such-page")
    assert r.status_code == 404
    page = r.text
    assert '<a class="home" href="/c/childrens-day">Universal Children&#39;s Day: ratify the CRC</a>' in page
    assert "<h1>Page not found</h1>" in page and "We could not find this page." in page
    assert '<a class="button" href="/c/childrens-day">Back to Universal Children&#39;s Day: ratify the CRC</a>' in page
    assert "<title>Page not found · Universal Children&#39;s Day: ratify the CRC</title>" in page


def test_an_error_elsewhere_links_to_the_campaign(client: TestClient) -> None:
    page = client.get("/nothing/here").text
    assert '<a class="button" href="/c/childrens-day">Go to the campaign page</a>' in page
    assert '<a class="home" href="/c/childrens-day">' in page
    r = client.post(f"/c/{SLUG}")
    assert r.status_code == 405 and "This address does not take POST requests; it takes GET, HEAD." in r.text
    assert "Back to Universal Children" in r.text
    unknown = client.get("/c/nope")
    assert "No campaign called" in unknown.text and "<h1>Page not found</h1>" in unknown.text


def test_an_error_page_speaks_the_page_language(client: TestClient) -> None:
    r = client.get("/nothing/here?lang=fr")
    assert r.headers["content-language"] == "fr" and '<html lang="fr" dir="ltr">' in r.text
