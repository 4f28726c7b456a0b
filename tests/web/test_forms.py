"""Every POST form passes one rule (``web.csrf.check_form_origin``), and the Mastodon share redirect is no open
redirect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.models import EmailMessage, Pledge, PledgeStatus, ShareClick
from social_campaign.pledges import share
from tests.pledges.release_support import add_pledges
from tests.web.conftest import CSRF, csrf_of, links_in, pledge_form

SLUG = "childrens-day"
OURS = "https://pledge.example.org"  # web_settings' public URL
VALID, NO_TOKEN = "valid", "none"


def _links(engine: Engine, client: TestClient, email: str) -> dict[str, str]:
    assert client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email=email)).status_code == 200
    with Session(engine) as s:
        mail = s.exec(select(EmailMessage).where(EmailMessage.to_canonical == email)).one()
    return links_in(mail.body_text)


def _confirmed_share_token(engine: Engine) -> str:
    add_pledges(engine, 1, start=90)
    with Session(engine) as s:
        token = s.exec(select(Pledge.share_token).where(Pledge.email == "p90@example.org")).one()
    assert token is not None
    return token


# origin header (None: not sent), token, accepted?
CASES = [
    (None, VALID, True),  # an old browser without Origin, with our form's token
    ("null", VALID, True),  # a privacy setting or sandboxed frame, with our form's token
    (OURS, NO_TOKEN, True),  # our own page (the token is what the pledge form also requires)
    (OURS, VALID, True),
    (None, NO_TOKEN, False),
    ("null", NO_TOKEN, False),
    ("https://evil.example", VALID, False),  # another site: never, whatever it sends
    ("https://pledge.example.org.evil.example", VALID, False),
    ("https://evil.example", NO_TOKEN, False),
]


@pytest.mark.parametrize(("origin", "token", "accepted"), CASES)
@pytest.mark.parametrize("form", ["pledge", "confirm", "withdraw", "mastodon"])
def test_every_post_form_follows_one_origin_rule(
    any_engine: Engine, client: TestClient, form: str, origin: str | None, token: str, accepted: bool
) -> None:
    data: dict[str, str] = {}
    if form == "pledge":
        url, ok = f"/c/{SLUG}/pledge", 200
        data = pledge_form(client, email="new@example.org")
        if token == NO_TOKEN:
            accepted = False  # the pledge form always needs its token
    elif form == "mastodon":
        url, ok = f"/c/{SLUG}/go/{_confirmed_share_token(any_engine)}/mastodon", 303
        data = {"server": "social.example.net"}
    else:
        url, ok = _links(any_engine, client, "ada@example.org")[form], 200
    if token == VALID:
        data["csrf"] = csrf_of(client)
    else:
        data.pop("csrf", None)
    headers = {"origin": origin} if origin is not None else {}
    r = client.post(url, data=data, headers=headers, follow_redirects=False)
    if accepted:
        assert r.status_code == ok, r.text
    else:
        assert r.status_code == 400 and refusal(r.text), r.text
    if form == "pledge":  # a refused pledge stores nothing; an accepted one is stored
        with Session(any_engine) as s:
            assert len(s.exec(select(Pledge)).all()) == (1 if accepted else 0)


def refusal(page: str) -> bool:
    """The page says why a form was refused: posted from another site, or expired / not from our page (the pledge
    form comes back filled in, with the message at the top of the form)."""
    text = page.lower()
    return "another site" in text or "expired" in text or "open for too long" in text


def test_one_click_unsubscribe_needs_no_origin_nor_token_but_no_foreign_origin(any_engine: Engine, client: TestClient) -> None:
    withdraw = _links(any_engine, client, "ada@example.org")["withdraw"]
    one_click = {"List-Unsubscribe": "One-Click"}
    r = client.post(withdraw, data=one_click, headers={"origin": "https://evil.example"})
    assert r.status_code == 400 and refusal(r.text)
    assert client.post(withdraw, files={"List-Unsubscribe": (None, "One-Click")}).status_code == 200  # multipart too
    with Session(any_engine) as s:
        assert s.exec(select(Pledge.status)).one() == PledgeStatus.withdrawn


def test_a_crafted_mastodon_link_does_not_leave_the_site(any_engine: Engine, client: TestClient) -> None:
    token = _confirmed_share_token(any_engine)
    go = f"/c/{SLUG}/go/{token}/mastodon"
    r = client.get(go, params={"server": "evil.example"}, follow_redirects=False)
    assert r.status_code == 200 and "location" not in r.headers  # a page asking to confirm the name, no redirect
    assert "evil.example" in r.text and f'method="post" action="{go}"' in r.text
    assert 'value="evil.example"' in r.text and CSRF.search(r.text)
    for bad in ("javascript:alert(1)", "https://user@evil.example", "10.0.0.1", "evil.example:8443", "intranet.local",
                "https://mastodon.social@evil.example", "evil.example/@x?y"):
        r = client.get(go, params={"server": bad}, follow_redirects=False)
        assert r.status_code == 400 and "location" not in r.headers and "Mastodon server" in r.text, bad
    assert client.get(go, follow_redirects=False).status_code == 200  # no server yet: the form
    with Session(any_engine) as s:
        assert s.exec(select(ShareClick)).all() == []


def test_mastodon_goes_to_servers_our_page_links_to_or_the_supporter_typed(
    any_engine: Engine, client: TestClient
) -> None:
    token = _confirmed_share_token(any_engine)
    page = client.get(f"/c/{SLUG}/share/{token}").text
    go = f"/c/{SLUG}/go/{token}/mastodon"
    for server in share.MASTODON_SERVERS:  # the page links to them, and they redirect straight away
        assert f'href="{go}?server={server}"' in page
        r = client.get(go, params={"server": server}, follow_redirects=False)
        assert r.status_code == 302 and urlsplit(r.headers["location"]).netloc == server
    token_field = CSRF.search(page)
    assert token_field is not None and f'method="post" action="{go}"' in page
    r = client.post(go, data={"server": "@me@Social.Example.NET", "csrf": token_field.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    target = urlsplit(r.headers["location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "social.example.net", "/share")
    assert parse_qs(target.query)["text"]
    r = client.post(go, data={"server": "127.0.0.1", "csrf": token_field.group(1)}, follow_redirects=False)
    assert r.status_code == 400 and "location" not in r.headers
    with Session(any_engine) as s:
        assert len(s.exec(select(ShareClick)).all()) == len(share.MASTODON_SERVERS) + 1


@pytest.mark.parametrize("raw", ["printer.lan", "router.home", "x.internal", "a.localhost", "http://mas.to:80",
                                 "ftp://mas.to", "a@b@mas.to", "1.2.3.4", "[::1]", "0x7f.1"])
def test_mastodon_server_refuses_private_and_tricky_names(raw: str) -> None:
    from social_campaign.errors import BadRequest

    with pytest.raises(BadRequest, match="server"):
        share.mastodon_server(raw)


def test_forms_on_pages_carry_a_token(
    tmp_path: Path, any_engine: Engine, campaign: Campaign, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(any_engine, [campaign])
    links = _links(any_engine, client, "ada@example.org")
    for path in (links["confirm"], links["withdraw"]):
        page = client.get(path).text
        assert page.count("<form") == 1 and CSRF.search(page), path
