"""The workspace home ``/admin`` (the campaigns list) and ``/admin/campaigns/new`` (a campaign from the shipped one),
and the web store serving several campaigns by slug."""

from __future__ import annotations

import dataclasses
import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.errors import CampaignError, ConfigError
from social_campaign.models import AuditEntry, CampaignRevision, Delivery
from social_campaign.web.app import create_app
from social_campaign.web.store import CampaignStore
from social_campaign.workspace.campaigns import TEMPLATE, campaigns_dir
from tests.pledges.release_support import add_pledges
from tests.scheduling.test_multi_campaign import write_campaign
from tests.web.conftest import make_campaign, with_settings
from tests.web.workspace_support import CSRF, login

TOKEN = "campaigns-page-token"


def two_campaigns(tmp_path: Path) -> list[Campaign]:
    first = dataclasses.replace(make_campaign(tmp_path), languages=("en", "fr"),
                                names={"fr": "Journée mondiale de l'enfance"})
    second = dataclasses.replace(make_campaign(tmp_path, slug="girls-education"), name="Girls' education now",
                                 pledge=None)
    return [first, second]


def test_the_home_needs_a_login_from_anywhere_and_the_token_opens_nothing(
    any_engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    settings = with_settings(web_settings, admin_token=TOKEN)
    for peer in (("127.0.0.1", 5000), ("::1", 5000), ("203.0.113.9", 5000)):  # a same-host proxy makes all look local
        web = client_for(any_engine, [campaign], settings, client=peer, follow_redirects=False)
        for r in (web.get("/admin"), web.get("/admin", headers={"authorization": f"Bearer {TOKEN}"}),
                  web.get("/admin", params={"token": TOKEN}), web.get("/admin/campaigns/new")):
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/admin"), r.status_code


def test_the_home_lists_every_campaign(
    any_engine: Engine, tmp_path: Path, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    now = datetime.now(UTC)
    due = (now + timedelta(days=2)).replace(microsecond=0)
    add_pledges(any_engine, 2)  # confirmed pledges of childrens-day
    with Session(any_engine) as s:
        s.add(Delivery(campaign="girls-education", post_id="launch", channel="x", due_at=due, text="t"))
        s.add(Delivery(campaign="girls-education", post_id="later", channel="x", due_at=due + timedelta(days=1), text="t"))
        s.add(CampaignRevision(campaign="girls-education", content_hash="0" * 64, last_refused="schedule.toml:7: "
                               "unknown channel 'myspace'", refused_at=now))
        s.commit()
    web = client_for(any_engine, two_campaigns(tmp_path))
    login(web, any_engine, "viewer")
    page = web.get("/admin")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert html.count('class="campaign-card') == 2 and "<h1>Campaigns</h1>" in html
    for slug in ("childrens-day", "girls-education"):
        assert f'href="/admin/c/{slug}"' in html and f'href="/admin/c/{slug}/posts"' in html and f"/c/{slug}<" in html
    assert "Universal Children&#39;s Day: ratify the CRC" in html and "Girls&#39; education now" in html
    assert "2 of 3" in html and "Open for pledges" in html and "Scheduled posts, no pledge" in html
    assert "unknown channel &#39;myspace&#39;" in html and "the last good version keeps running" in html
    assert "None scheduled" in html  # childrens-day has no delivery
    when = re.search(r"Next delivery</dt><dd>([^<]+)</dd>\s*<dt>Refused", html)
    assert when and "2" in when.group(1)  # the one time format, in the campaign's zone
    assert 'href="/admin/campaigns/new"' not in html  # viewers cannot create campaigns
    french = web.get("/admin", params={"lang": "fr"}).text
    assert "Journée mondiale de l&#39;enfance" in french and 'lang="fr"' in french


def test_owners_see_the_new_campaign_link(
    any_engine: Engine, campaign: Campaign, client_for: Callable[..., TestClient]
) -> None:
    web = client_for(any_engine, [campaign])
    login(web, any_engine, "owner")
    assert 'href="/admin/campaigns/new"' in web.get("/admin").text


@pytest.fixture
def served(tmp_path: Path, web_settings: Settings) -> Settings:
    """Settings serving a copy of the shipped campaign (as ``SOCIAL_CAMPAIGN_CAMPAIGNS``) on a fresh data dir."""
    return with_settings(web_settings, campaigns=[TEMPLATE])


def _form(web: TestClient) -> str:
    page = web.get("/admin/campaigns/new")
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found
    return found.group(1)


def test_an_owner_creates_a_campaign_that_is_served_at_once(served: Settings, engine: Engine) -> None:
    web = TestClient(create_app(served, engine), raise_server_exceptions=False, follow_redirects=False)
    login(web, engine, "owner", email="owner@example.org")
    page = web.get("/admin/campaigns/new")
    assert 'name="slug"' in page.text and 'name="name"' in page.text and '<select id="timezone" name="timezone"' in page.text
    assert '<option value="America/New_York" selected>' in page.text  # the shipped campaign's zone to start from
    assert web.get("/c/girls-education").status_code == 404
    r = web.post("/admin/campaigns/new", data={"slug": "girls-education", "name": "Girls' education now",
                                               "timezone": "Africa/Nairobi", "csrf": _form(web)})
    assert r.status_code == 303 and r.headers["location"] == "/admin?created=girls-education"
    home = web.get(r.headers["location"]).text
    assert "The campaign girls-education was created" in home and 'href="/admin/c/girls-education"' in home
    public = web.get("/c/girls-education")
    assert public.status_code == 200 and "Girls&#39; education now" in public.text
    toml = (campaigns_dir(served) / "girls-education" / "schedule.toml").read_text()
    assert "# Check it with `social-campaign check`" in toml and 'timezone = "Africa/Nairobi"' in toml
    with Session(engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "campaign.create")).one()
    assert entry.actor == "owner@example.org" and entry.campaign == "girls-education"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"slug": "Bad Slug!"}, "slug", "lower-case letters"),
        ({"slug": "childrens-day"}, "slug", "already exists"),
        ({"name": ""}, "name", "enter the campaign"),
        ({"timezone": "Mars/Base"}, "timezone", "time zone"),
    ],
)
def test_bad_input_is_shown_at_its_field_and_nothing_is_written(
    served: Settings, engine: Engine, fields: dict[str, str], field: str, message: str
) -> None:
    web = TestClient(create_app(served, engine), raise_server_exceptions=False, follow_redirects=False)
    login(web, engine, "owner")
    data = {"slug": "new-one", "name": "New one", "timezone": "Europe/Paris", **fields, "csrf": _form(web)}
    r = web.post("/admin/campaigns/new", data=data)
    assert r.status_code == 400
    assert f'id="{field}-error"' in r.text and message in r.text and 'aria-invalid="true"' in r.text
    assert re.search(rf'<(input|select) id="{field}"[^>]*aria-invalid="true"', r.text)
    assert not campaigns_dir(served).exists() or list(campaigns_dir(served).iterdir()) == []
    with Session(engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "campaign.create")).all() == []


def test_only_owners_create_campaigns_and_the_form_is_checked(served: Settings, engine: Engine) -> None:
    web = TestClient(create_app(served, engine), raise_server_exceptions=False, follow_redirects=False)
    login(web, engine, "editor")
    assert web.get("/admin/campaigns/new").status_code == 403
    data = {"slug": "new-one", "name": "New one", "timezone": "Europe/Paris"}
    assert web.post("/admin/campaigns/new", data=data).status_code == 403
    owner = TestClient(create_app(served, engine), raise_server_exceptions=False, follow_redirects=False)
    login(owner, engine, "owner")
    assert owner.post("/admin/campaigns/new", data=data).status_code == 400  # no CSRF token, no Origin
    assert owner.post("/admin/campaigns/new", data={**data, "csrf": _form(owner)},
                      headers={"origin": "https://evil.example"}).status_code == 400
    assert not campaigns_dir(served).exists() or list(campaigns_dir(served).iterdir()) == []


def test_the_web_app_serves_every_campaign_and_refuses_one_slug_twice(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    a, b = write_campaign(tmp_path / "a", "alpha", pledge=True), write_campaign(tmp_path / "b", "beta", pledge=True)
    web = TestClient(create_app(with_settings(settings, campaigns=[a, b]), engine), raise_server_exceptions=False)
    assert web.get("/c/alpha").status_code == 200 and web.get("/c/beta").status_code == 200
    twin = write_campaign(tmp_path / "twin", "alpha")
    with pytest.raises(ConfigError) as caught:
        create_app(with_settings(settings, campaigns=[a, b, twin]), engine)
    assert str(a) in str(caught.value) and str(twin) in str(caught.value)


def test_the_store_picks_up_new_folders_and_keeps_the_last_good_campaign(settings: Settings, tmp_path: Path) -> None:
    a = write_campaign(tmp_path / "a", "alpha")
    s = with_settings(settings, campaigns=[a])
    store = CampaignStore(settings=s, check_every=0.0)
    assert [c.slug for c in store.all()] == ["alpha"]
    shutil.copytree(tmp_path / "a", campaigns_dir(s) / "gamma")
    made = campaigns_dir(s) / "gamma" / "schedule.toml"
    made.write_text(made.read_text().replace('"alpha"', '"gamma"'))
    assert [c.slug for c in store.all()] == ["alpha", "gamma"]
    time.sleep(0.01)
    a.write_text(a.read_text().replace('channels = ["x", "facebook"]', 'channels = ["myspace"]', 1))
    assert store.get("alpha").posts[0].channels == ("x", "facebook")  # refused edit: the last good version stays
    twin = campaigns_dir(s) / "twin"
    shutil.copytree(tmp_path / "a", twin)
    (twin / "schedule.toml").write_text(made.read_text())  # gamma again: skipped, the first stays served
    assert store.get("gamma").source == made
    shutil.rmtree(campaigns_dir(s) / "gamma")
    assert [c.slug for c in store.all()] == ["alpha", "gamma"] and store.get("gamma").source == twin / "schedule.toml"
    with pytest.raises(CampaignError):
        CampaignStore(settings=s)  # at start, a configured campaign that does not load stops the app


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not (Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js").exists(),
                    reason="axe-core is not installed: run `make node-deps`")
def test_the_campaign_pages_in_a_browser(tmp_path: Path) -> None:
    """Log in as an owner, look at the list and the form in English and Arabic on a phone and a desktop (axe finds
    nothing, no sideways scrolling, right to left in Arabic), then create a campaign and find it listed."""
    from playwright.sync_api import sync_playwright

    from social_campaign import db
    from tests.web.browser_support import SIZES, Watch, axe_violations, lang_problems
    from tests.web.conftest import free_port, launch_chromium, live_server
    from tests.web.workspace_support import PASSWORD, make_user

    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", pledge_rate_limits="", public_url=f"http://127.0.0.1:{port}",
                        campaigns=[TEMPLATE], _env_file=None)
    engine = db.engine_for(settings)
    make_user(engine, "owner@example.org", "owner")
    problems: list[str] = []
    with live_server(create_app(settings, engine), port) as url, sync_playwright() as p:
        browser: Any = launch_chromium(p)
        for size, (width, height) in SIZES.items():
            ctx = browser.new_context(viewport={"width": width, "height": height})
            page = ctx.new_page()
            watch = Watch()
            watch.attach(page)
            page.goto(f"{url}/login")
            page.fill("#email", "owner@example.org")
            page.fill("#password", PASSWORD)
            page.click("form.login-form button[type=submit]")
            page.wait_for_url(f"{url}/admin")
            for lang in ("en", "ar"):
                for path in ("/admin", "/admin/campaigns/new"):
                    page.goto(f"{url}{path}?lang={lang}")
                    where = f"{path} {lang} {size}"
                    problems += [f"{where}: {x}" for x in axe_violations(page) + lang_problems(page, lang) + watch.drain()]
                    if page.evaluate("document.documentElement.scrollWidth") > width:
                        problems.append(f"{where}: scrolls sideways")
            if size == "desktop":
                page.goto(f"{url}/admin/campaigns/new?lang=en")
                page.fill("#name", "Girls' education now")
                page.fill("#slug", "Girls Education")
                page.click("form.new-campaign button[type=submit]")
                assert page.locator("#slug[aria-invalid=true]").count() == 1
                problems += [f"form error: {x}" for x in axe_violations(page)]
                page.fill("#slug", "girls-education")
                page.select_option("#timezone", "Africa/Nairobi")
                page.click("form.new-campaign button[type=submit]")
                page.wait_for_url(f"{url}/admin?created=girls-education")
                assert page.locator(".campaign-card").count() == 2
                assert page.locator("a[href='/admin/c/girls-education/posts']").count() == 1
            ctx.close()
        browser.close()
    engine.dispose()
    assert not problems, "\n".join(problems)
