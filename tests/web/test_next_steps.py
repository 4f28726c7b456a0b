"""Next steps after pledging and confirming (issue 10 part 3): the thanks page, the confirm page's supporter number,
the release time as an ``.ics`` file, the share-the-campaign buttons, a confirm link that keeps working, links that do
not work, form errors at their field, and the pledge's language, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import BadgeSpec, Campaign
from social_campaign.config import Settings
from social_campaign.i18n.formatting import when
from social_campaign.models import ConsentRecord, EmailMessage, Pledge, PledgeData, PledgeStatus
from social_campaign.web.share_links import campaign_share_links
from tests.web.conftest import csrf_of, links_in, make_campaign, pledge_form, press_confirm, with_settings

SLUG = "childrens-day"
PAGE = "https://pledge.example.org/c/childrens-day"
FIRE = datetime(2031, 11, 20, 17, 0, tzinfo=UTC)
DEADLINE = FIRE - timedelta(hours=1)


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    """Fixed times (so the pages' times are known), English and French, a badge and one card spec."""
    (tmp_path / "infographics").mkdir()
    (tmp_path / "infographics" / "goal.toml").write_text("# a card spec\n")
    base = make_campaign(tmp_path, deadline=DEADLINE, fire_at=FIRE)
    return dataclasses.replace(base, languages=("en", "fr"), badge=BadgeSpec(overlay=tmp_path / "frame.png"))


def _confirm_links(engine: Engine) -> dict[str, str]:
    """The confirm link of each address, from the queued confirmation emails."""
    with Session(engine) as s:
        mails = s.exec(select(EmailMessage).where(EmailMessage.kind == "confirm")).all()
    return {m.to_canonical: links_in(m.body_text)["confirm"] for m in mails}


def _main(page: str) -> str:
    return unescape(page.split("<main", 1)[1].split("</main>", 1)[0])


def _progress(client: TestClient) -> int:
    return int(client.get(f"/c/{SLUG}/progress.json").json()["confirmed"])


def test_the_thanks_page_says_what_happens_now_and_offers_the_share_buttons(
    client: TestClient, campaign: Campaign
) -> None:
    r = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    assert r.status_code == 200
    main = _main(r.text)
    assert "<h1>Check your email</h1>" in main and "What happens now" in main
    assert "Only confirmed pledges count toward the goal." in main and "spam folder" in main
    assert when(FIRE, campaign.timezone, "en") in main and when(DEADLINE, campaign.timezone, "en") in main
    assert f'<time datetime="{FIRE.isoformat()}">' in r.text
    assert "If 3 people confirm by" in main
    assert f'href="/c/{SLUG}/release.ics"' in r.text
    buttons = re.findall(r'<a class="share-btn share-(\w+)" href="([^"]+)"', r.text)
    assert [n for n, _ in buttons] == ["x", "facebook", "bluesky", "mastodon", "badge", "cards"]
    hrefs = {n: unescape(h) for n, h in buttons}
    assert hrefs["badge"] == f"{PAGE}/badge" and hrefs["cards"] == f"{PAGE}/cards"
    assert '<div class="share-actions">' in r.text and 'href="/static/pages.css"' in r.text
    assert f'<a href="{PAGE}">{PAGE}</a>' in r.text  # the link to copy


def test_share_links_share_our_campaign_page(campaign: Campaign, web_settings: Settings) -> None:
    links = {link.network: link for link in campaign_share_links(campaign, web_settings, "en")}
    x = urlsplit(links["x"].url)
    assert (x.netloc, x.path) == ("x.com", "/intent/tweet")
    query = parse_qs(x.query)
    assert query["url"] == [PAGE] and query["hashtags"] == ["ChildrensDay,childrights,CRC,USstandsAlone"]
    assert query["text"] == [f"I support {campaign.name}. Add your name too:"]
    assert links["facebook"].url == f"https://www.facebook.com/sharer/sharer.php?u={PAGE.replace(':', '%3A').replace('/', '%2F')}"
    bluesky = parse_qs(urlsplit(links["bluesky"].url).query)["text"][0]
    assert bluesky.endswith(f"#USstandsAlone {PAGE}") and bluesky.startswith("I support")
    mastodon = urlsplit(links["mastodon"].url)
    assert (mastodon.netloc, mastodon.path) == ("mastodon.social", "/share") and PAGE in parse_qs(mastodon.query)["text"][0]
    assert links["x"].label == "Post on X" and links["badge"].label == "Make your profile badge"
    with_app = with_settings(web_settings, facebook_app_id="1234567890")
    facebook = urlsplit({link.network: link for link in campaign_share_links(campaign, with_app)}["facebook"].url)
    assert (facebook.netloc, facebook.path) == ("www.facebook.com", "/dialog/share")
    assert parse_qs(facebook.query) == {"app_id": ["1234567890"], "display": ["page"], "href": [PAGE]}
    bare = dataclasses.replace(campaign, badge=None, root=campaign.root / "nothing-here")  # no badge, no cards
    assert [link.network for link in campaign_share_links(bare, web_settings)] == ["x", "facebook", "bluesky", "mastodon"]


def test_the_supporter_number_follows_the_order_of_confirmation(any_engine: Engine, client: TestClient) -> None:
    for who in ("ada", "bea", "cai", "dev"):
        assert client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email=f"{who}@example.org")).status_code == 200
    confirm = _confirm_links(any_engine)
    shown = {}
    for who in ("cai", "ada", "dev", "bea"):  # confirmed in this order, not the pledging order
        r = press_confirm(client, confirm[f"{who}@example.org"])
        assert r.status_code == 200 and "<h1>Your pledge is confirmed</h1>" in r.text
        shown[who] = re.search(r"You are supporter #(\d+)", r.text).group(1)  # type: ignore[union-attr]
    assert shown == {"cai": "1", "ada": "2", "dev": "3", "bea": "4"}
    assert "You are supporter #2 of 3." in client.get(confirm["ada@example.org"]).text
    assert "The goal of 3 is already reached" in client.get(confirm["bea@example.org"]).text  # #4 of a goal of 3
    with Session(any_engine) as s:  # Cai withdraws: the numbers stay honest
        cai = s.exec(select(Pledge).where(Pledge.email == "cai@example.org")).one()
        cai.status = PledgeStatus.withdrawn
        s.add(cai)
        s.commit()
    assert "You are supporter #1 of 3." in client.get(confirm["ada@example.org"]).text


def test_a_confirm_link_used_before_says_so_on_get_and_post(any_engine: Engine, client: TestClient) -> None:
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    (confirm,) = _confirm_links(any_engine).values()
    assert press_confirm(client, confirm).status_code == 200 and _progress(client) == 1
    for again in (client.get(confirm), client.post(confirm, data={"csrf": csrf_of(client)})):
        assert again.status_code == 200, again.text
        main = _main(again.text)
        assert "<h1>Your pledge is already confirmed</h1>" in main and "You are supporter #1 of 3." in main
        assert "<form" not in main and "What happens next" in main and 'class="share-btn' in main
        assert again.headers["cache-control"] == "no-store"
    assert _progress(client) == 1  # counted once
    with Session(any_engine) as s:
        assert s.exec(select(Pledge.status)).one() == PledgeStatus.confirmed


def test_a_link_that_does_not_work_is_404_with_the_way_back(any_engine: Engine, client: TestClient) -> None:
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    withdraw = links_in(_emails_body(any_engine))["withdraw"]
    for path in (f"/c/{SLUG}/confirm/not-a-token", f"/c/{SLUG}/withdraw/not-a-token", f"/c/{SLUG}/me/not-a-token"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "This link does not work" in r.text
        assert re.search(rf'<a( class="button")? href="/c/{SLUG}">Back to the campaign</a>', r.text)
        assert r.headers["cache-control"] == "no-store"
    r = client.post(f"/c/{SLUG}/confirm/not-a-token", data={"csrf": csrf_of(client)})
    assert r.status_code == 404 and "Back to the campaign" in r.text
    assert client.post(withdraw, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    (confirm,) = _confirm_links(any_engine).values()
    assert client.get(confirm).status_code == 404  # a withdrawn pledge's confirm link no longer works


def _emails_body(engine: Engine) -> str:
    with Session(engine) as s:
        return str(s.exec(select(EmailMessage.body_text)).first())


def test_the_release_calendar_file(client: TestClient, campaign: Campaign) -> None:
    r = client.get(f"/c/{SLUG}/release.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert r.headers["content-disposition"] == f'attachment; filename="{SLUG}-release.ics"'
    (event,) = Calendar.from_ical(r.content).walk("VEVENT")
    assert event.decoded("dtstart") == FIRE and event.decoded("dtstart").utcoffset() == timedelta(0)
    assert "DTSTART:20311120T170000Z" in r.text
    assert str(event["url"]) == PAGE and str(event["summary"]) == f"Post together: {campaign.name}"
    assert PAGE in str(event["description"])
    (alarm,) = event.walk("VALARM")
    assert str(alarm["action"]) == "DISPLAY" and alarm.decoded("trigger") == -timedelta(minutes=15)
    again = Calendar.from_ical(client.get(f"/c/{SLUG}/release.ics?lang=fr").content).walk("VEVENT")[0]
    assert str(again["uid"]) == str(event["uid"]) == "release-childrens-day@pledge.example.org"  # stable
    assert client.head(f"/c/{SLUG}/release.ics").status_code == 200
    assert client.get("/c/nope/release.ics").status_code == 404


@pytest.mark.parametrize(("field", "value", "message"), [
    ("email", "not-an-address", "Please enter a valid email address"),
    ("name", "", "Please enter your name."),
    ("name", "=HYPERLINK(1)", "Your name cannot start with"),
    ("consent", "", "Please tick the box"),
    ("postcode", "x" * 30, "Please keep the postcode to 20 characters."),
])
def test_form_errors_show_at_their_field(
    any_engine: Engine, client: TestClient, field: str, value: str, message: str
) -> None:
    r = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, **{field: value}))
    assert r.status_code == 400
    page = unescape(r.text)
    assert message in page and f"{field}:" not in page.split("<main", 1)[1]  # a sentence, no "field:" prefix
    tag = re.search(rf'<input[^>]*name="{field}"[^>]*>', r.text)
    assert tag is not None and 'aria-invalid="true"' in tag.group(0), tag
    assert f'aria-describedby="{field}-error"' in tag.group(0) and f'id="{field}-error"' in r.text
    with Session(any_engine) as s:
        assert s.exec(select(Pledge)).all() == []


def test_an_expired_form_comes_back_filled_in(any_engine: Engine, client: TestClient) -> None:
    r = client.post(f"/c/{SLUG}/pledge", data={**pledge_form(client, name="Amina Yusuf"), "csrf": "1.x.y"})
    assert r.status_code == 400 and "open for too long" in r.text and 'value="Amina Yusuf"' in r.text
    assert 'id="pledge-form"' in r.text


@pytest.mark.parametrize(("how", "expected"), [
    ({"params": {"lang": "fr"}}, "fr"),
    ({"headers": {"accept-language": "fr-CH, fr;q=0.9, en;q=0.5"}}, "fr"),
    ({"headers": {"accept-language": "de"}}, "en"),  # a language the campaign does not list: the default
])
def test_a_pledge_records_its_page_language(
    any_engine: Engine, client: TestClient, how: dict[str, dict[str, str]], expected: str
) -> None:
    r = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client), **how)
    assert r.status_code == 200 and r.headers["content-language"] == expected
    with Session(any_engine) as s:
        assert s.exec(select(PledgeData.lang)).one() == expected
        assert {c.lang for c in s.exec(select(ConsentRecord)).all()} == {expected}


def test_pages_follow_the_request_language(
    any_engine: Engine, client: TestClient, client_for: Callable[..., TestClient], campaign: Campaign
) -> None:
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    (confirm,) = _confirm_links(any_engine).values()
    for path in (f"{confirm}?lang=fr", f"/c/{SLUG}/release.ics?lang=fr"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-language"] == "fr", path
    assert '<html lang="fr"' in client.get(f"{confirm}?lang=fr").text
