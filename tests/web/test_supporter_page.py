"""The supporter's own page (``/c/{slug}/me/{token}``), linked from every email: what we hold, the JSON download,
withdraw, and erasure through the page (CSRF-checked, confirmed, counts kept), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.mail import render
from social_campaign.models import AuditEntry, ConsentRecord, EmailMessage, Pledge, PledgeData
from social_campaign.supporters import consent
from tests.web.conftest import CSRF, links_in, make_campaign, pledge_form, press_confirm

SLUG = "childrens-day"
ORG = "First Focus"
ME = re.compile(r"https://pledge\.example\.org(/c/childrens-day/me/[A-Za-z0-9_-]+)")


@pytest.fixture
def org_campaign(tmp_path: Path) -> Campaign:
    return dataclasses.replace(make_campaign(tmp_path), organisation=ORG)


@pytest.fixture
def me_client(any_engine: Engine, org_campaign: Campaign, client_for: Callable[..., TestClient]) -> TestClient:
    return client_for(any_engine, [org_campaign])


def last_email(engine: Engine) -> EmailMessage:
    with Session(engine) as s:
        row = s.exec(select(EmailMessage).order_by(EmailMessage.id.desc())).first()  # type: ignore[union-attr]
        assert row is not None
        return row


def pledge_and_links(client: TestClient, engine: Engine, **fields: str) -> dict[str, str]:
    r = client.post(f"/c/{SLUG}/pledge", data={**pledge_form(client, name="Amina Yusuf", email="amina@example.org"), **fields})
    assert r.status_code == 200, r.text
    email = last_email(engine)
    links = links_in(email.body_text)
    (me,) = set(ME.findall(email.body_text))
    assert me in (email.body_html or "")  # both parts link to the page
    links["me"] = me
    return links


def test_every_email_links_to_the_page(me_client: TestClient, any_engine: Engine, org_campaign: Campaign,
                                       web_settings: Settings) -> None:
    links = pledge_and_links(me_client, any_engine)  # the confirmation
    assert links["me"].rsplit("/", 1)[1] == links["withdraw"].rsplit("/", 1)[1]
    me_client.post(f"/c/{SLUG}/pledge", data=pledge_form(me_client, email="amina@example.org"))
    assert links["me"] in last_email(any_engine).body_text  # the repeat-pledge email
    withdraw = f"{web_settings.public_url}{links['withdraw']}"
    me = f"{web_settings.public_url}{links['me']}"
    for r in (
        render.render_release(web_settings, org_campaign, name="A", share_url="https://x", share_text="t", confirmed=3,
                              withdraw_url=withdraw),
        render.render_not_reached(web_settings, org_campaign, name="A", confirmed=1, withdraw_url=withdraw),
    ):
        assert me in r.text and me in r.html


def test_the_page_shows_what_we_hold(me_client: TestClient, any_engine: Engine, org_campaign: Campaign) -> None:
    links = pledge_and_links(me_client, any_engine, country="Switzerland", postcode="1201", updates="yes")
    r = me_client.get(links["me"])
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store" and "noindex" in r.headers["x-robots-tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in r.text
    page = unescape(r.text)
    for shown in ("Amina Yusuf", "amina@example.org", "Switzerland", "1201", f"News from {ORG}",
                  "Yes, you asked to be kept informed.", last_email(any_engine).subject, links["withdraw"]):
        assert shown in page, shown
    assert consent.pledge_consent_text(org_campaign) in page
    assert consent.updates_consent_text(org_campaign, ORG) in page
    assert "cannot be undone" in r.text
    assert me_client.head(links["me"]).status_code == 200


def test_the_json_download(me_client: TestClient, any_engine: Engine, org_campaign: Campaign) -> None:
    links = pledge_and_links(me_client, any_engine)
    r = me_client.get(links["me"] + "/data.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.headers["content-disposition"] == f'attachment; filename="{SLUG}-my-data.json"'
    assert r.headers["cache-control"] == "no-store"
    data = json.loads(r.text)
    assert data["pledge"]["name"] == "Amina Yusuf" and data["pledge"]["email"] == "amina@example.org"
    assert data["pledge"]["status"] == "pending" and data["pledge"]["campaign"] == SLUG
    assert data["data"] == {"language": "en", "updates": False, "erased_at": None}
    assert [(c["kind"], c["organisation"], c["given"]) for c in data["consents"]] == [
        ("pledge", "", True), ("updates", ORG, False)
    ]
    assert data["consents"][0]["text"] == consent.pledge_consent_text(org_campaign)
    assert data["consents"][0]["text_sha256"] == consent.text_hash(data["consents"][0]["text"])
    assert data["consents"][0]["page_url"] == "https://pledge.example.org/c/childrens-day"
    assert [(e["kind"], e["to"], e["state"]) for e in data["emails"]] == [("confirm", "amina@example.org", "queued")]
    assert data["emails"][0]["subject"] == last_email(any_engine).subject
    assert data["share_clicks"] == [] and data["emails_stopped_at"] is None
    assert "withdraw_token_hash" not in r.text and "confirm_token_hash" not in r.text


def test_a_wrong_token_is_404(me_client: TestClient, any_engine: Engine) -> None:
    links = pledge_and_links(me_client, any_engine)
    assert me_client.get(f"/c/{SLUG}/me/not-a-token").status_code == 404
    assert me_client.get(f"/c/{SLUG}/me/not-a-token/data.json").status_code == 404
    assert me_client.get(links["confirm"].replace("/confirm/", "/me/")).status_code == 404  # another token
    assert me_client.get(links["me"].replace(SLUG, "other")).status_code == 404
    r = me_client.post(f"/c/{SLUG}/me/not-a-token/erase", data={"csrf": csrf(me_client, links["me"]), "confirm": "yes"})
    assert r.status_code == 404


def csrf(client: TestClient, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match
    return match.group(1)


def held(engine: Engine) -> Pledge:
    with Session(engine) as s:
        return s.exec(select(Pledge)).one()


def test_erasure_is_csrf_checked_and_confirmed(me_client: TestClient, any_engine: Engine) -> None:
    links = pledge_and_links(me_client, any_engine)
    path = links["me"] + "/erase"
    assert me_client.post(path, data={"confirm": "yes"}).status_code == 400  # no token, no Origin
    r = me_client.post(path, data={"confirm": "yes", "csrf": "1.2.3"})
    assert r.status_code == 400 and "expired" in r.text.lower()  # the form check's message (web/csrf.py)
    r = me_client.post(path, data={"confirm": "yes", "csrf": csrf(me_client, links["me"])},
                       headers={"origin": "https://evil.example"})
    assert r.status_code == 400
    r = me_client.post(path, data={"csrf": csrf(me_client, links["me"])})  # the box not ticked
    assert r.status_code == 400 and "tick the box to confirm" in r.text and r.headers["cache-control"] == "no-store"
    assert held(any_engine).email == "amina@example.org"  # nothing erased
    with Session(any_engine) as s:
        assert s.exec(select(PledgeData)).one().erased_at is None


def test_erasure_through_the_page(me_client: TestClient, any_engine: Engine) -> None:
    links = pledge_and_links(me_client, any_engine, updates="yes")
    assert press_confirm(me_client, links["confirm"]).status_code == 200
    me_client.post(f"/c/{SLUG}/pledge", data=pledge_form(me_client, name="Bea", email="bea@example.org"))
    assert json.loads(me_client.get(f"/c/{SLUG}/progress.json").text)["confirmed"] == 1
    r = me_client.post(links["me"] + "/erase", data={"csrf": csrf(me_client, links["me"]), "confirm": "yes"})
    assert r.status_code == 200, r.text
    assert "Your data is erased" in r.text and "your name, email address and postcode" in r.text
    assert r.headers["cache-control"] == "no-store"
    assert json.loads(me_client.get(f"/c/{SLUG}/progress.json").text)["confirmed"] == 1  # the count stays right
    for gone in (links["me"], links["me"] + "/data.json", links["withdraw"]):
        assert me_client.get(gone).status_code == 404, gone  # every personal link is dead
    r = me_client.post(links["me"] + "/erase", data={"csrf": csrf(me_client, f"/c/{SLUG}"), "confirm": "yes"})
    assert r.status_code == 404  # erasing twice
    with Session(any_engine) as s:
        rows = s.exec(select(Pledge).order_by(Pledge.id)).all()  # type: ignore[arg-type]
        assert len(rows) == 2
        erased, other = rows
        assert (erased.status, erased.name, erased.email, erased.email_canonical, erased.postcode) == (
            "confirmed", "", "", "", None)
        assert erased.withdraw_token_hash is None and erased.share_token is None and erased.ip_hash == ""
        assert other.email == "bea@example.org"
        assert s.get(PledgeData, erased.id).erased_at is not None  # type: ignore[union-attr]
        assert all(e.to_canonical != "amina@example.org" for e in s.exec(select(EmailMessage)))
        assert len(s.exec(select(ConsentRecord).where(ConsentRecord.pledge_id == erased.id)).all()) == 2
        (audit,) = s.exec(select(AuditEntry)).all()
        assert audit.action == "erase" and "amina" not in audit.target + audit.details


def test_after_the_release_the_page_offers_to_stop_emails(
    tmp_path: Path, any_engine: Engine, client_for: Callable[..., TestClient]
) -> None:
    deadline = datetime.now(UTC) + timedelta(hours=1)
    client = client_for(any_engine, [make_campaign(tmp_path, deadline=deadline)])
    links = pledge_and_links(client, any_engine)
    later = client_for(any_engine, [make_campaign(tmp_path, deadline=deadline - timedelta(days=2))])
    r = later.get(links["me"])
    assert r.status_code == 200 and "Stop all emails about this campaign" in r.text


def test_the_page_changes_the_opt_in_and_records_it(
    tmp_path: Path, any_engine: Engine, client_for: Callable[..., TestClient]
) -> None:
    campaign = dataclasses.replace(make_campaign(tmp_path), organisation=ORG, co_sponsors=("Friends of the CRC",))
    client = client_for(any_engine, [campaign])
    links = pledge_and_links(client, any_engine, updates="yes")
    page = client.get(links["me"]).text
    assert 'id="updates" name="updates" type="checkbox" value="yes" checked>' in page
    assert 'id="updates_2" name="updates_2" type="checkbox" value="yes">' in page
    path = links["me"] + "/updates"
    assert client.post(path, data={"updates_2": "yes"}).status_code == 400  # no CSRF token
    r = client.post(path, data={"csrf": csrf(client, links["me"]), "updates_2": "yes"})
    assert r.status_code == 200 and "Saved" in r.text and r.headers["cache-control"] == "no-store"
    r = client.post(path, data={"csrf": csrf(client, links["me"]), "updates_2": "yes"})
    assert "Nothing changed" in r.text
    with Session(any_engine) as s:
        recs = s.exec(select(ConsentRecord).order_by(ConsentRecord.id)).all()  # type: ignore[arg-type]
        assert [(r.kind, r.organisation, r.given) for r in recs] == [
            ("pledge", "", True), ("updates", ORG, True), ("updates", "Friends of the CRC", False),
            ("updates", ORG, False), ("updates", "Friends of the CRC", True),
        ]
        assert recs[-1].page_url == "https://pledge.example.org/c/childrens-day/me"  # never the token
        assert recs[-1].text_hash == consent.text_hash(consent.updates_consent_text(campaign, "Friends of the CRC"))
        assert s.exec(select(PledgeData)).one().updates is False
