"""What other sites embed: the framable counter page, CORS on progress.json (fast path and route) and progress.svg,
the favicons, and the framing rule of every other page (DENY)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.models import EmailMessage, Pledge
from tests.pledges.release_support import add_pledges
from tests.web import test_meta
from tests.web.conftest import links_in, pledge_form, with_settings

carded, web = test_meta.carded, test_meta.web  # the fixtures: a campaign with cards (three languages), its client

SLUG = "childrens-day"
SVG = "{http://www.w3.org/2000/svg}"


def _framing(r: object) -> tuple[str | None, str]:
    headers = r.headers  # type: ignore[attr-defined]
    csp = headers["content-security-policy"]
    ancestors = next(part.strip() for part in csp.split(";") if part.strip().startswith("frame-ancestors"))
    return headers.get("x-frame-options"), ancestors


def test_the_embed_page_may_be_framed_by_any_site(web: TestClient) -> None:
    r = web.get(f"/c/{SLUG}/embed")
    assert r.status_code == 200
    assert _framing(r) == (None, "frame-ancestors *")
    assert "script-src 'self'" in r.headers["content-security-policy"]  # the rest of the policy stays
    page = r.text
    assert 'class="progress-bar" role="progressbar"' in page and 'aria-valuemax="3"' in page
    assert "Be the first to pledge." in page
    assert f'href="/c/{SLUG}?lang=en#pledge-form" target="_blank" rel="noopener"' in page
    assert "/static/campaign.js" in page and 'data-progress="/c/childrens-day/progress.json"' in page
    assert page.count("<h1") == 1 and "<main" in page


def test_the_embed_page_speaks_the_language_asked(web: TestClient) -> None:
    r = web.get(f"/c/{SLUG}/embed?lang=ar")
    assert r.headers["content-language"] == "ar" and '<html lang="ar" dir="rtl">' in r.text


def test_every_other_page_refuses_frames(any_engine: Engine, web: TestClient) -> None:
    web.post(f"/c/{SLUG}/pledge", data=pledge_form(web))
    with Session(any_engine) as s:
        links = links_in(s.exec(select(EmailMessage)).one().body_text)
    add_pledges(any_engine, 1, start=50)
    with Session(any_engine) as s:
        share = s.exec(select(Pledge.share_token).where(Pledge.email == "p50@example.org")).one()
    paths = [
        f"/c/{SLUG}", f"/c/{SLUG}/cards", f"/c/{SLUG}/badge", f"/c/{SLUG}/progress.json", f"/c/{SLUG}/progress.svg",
        links["confirm"], links["withdraw"], f"/c/{SLUG}/share/{share}", f"/c/{SLUG}/favicon.svg", "/favicon.ico",
        "/healthz", "/admin", "/nothing/here", f"/c/{SLUG}/embed/more", "/static/style.css",
        f"/c/{SLUG}/embed.json",
    ]
    for path in paths:
        r = web.get(path)
        assert _framing(r) == ("DENY", "frame-ancestors 'none'"), path


def test_progress_json_is_readable_by_any_site_from_the_route_and_the_fast_path(web: TestClient) -> None:
    first = web.get(f"/c/{SLUG}/progress.json")  # computed by the route
    assert first.status_code == 200 and first.headers["access-control-allow-origin"] == "*"
    assert first.headers["x-frame-options"] == "DENY"
    assert first.headers.get_list("access-control-allow-origin") == ["*"]  # once, not once per layer
    services = web.app.state.services  # type: ignore[attr-defined]
    services.progress.get("ghost.json", lambda: b'{"slug":"ghost"}')  # a fresh entry only the fast path serves
    fast = web.get("/c/ghost/progress.json")  # no such campaign: only ProgressFastPath can answer 200
    assert fast.status_code == 200 and fast.content == b'{"slug":"ghost"}'
    assert fast.headers["access-control-allow-origin"] == "*" and fast.headers["x-frame-options"] == "DENY"
    assert web.get("/c/ghost/progress.json", headers={"cache-control": "x"}).status_code == 200


def test_progress_svg_is_a_badge_in_the_page_language(any_engine: Engine, web: TestClient) -> None:
    add_pledges(any_engine, 1, start=70)
    r = web.get(f"/c/{SLUG}/progress.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["cache-control"].startswith("public, max-age=")
    root = ET.fromstring(r.content)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["Universal Children's Day: ratify the CRC", "1 of 3 supporters", "33%"]
    assert root.find(f"{SVG}title").text == "Universal Children's Day: ratify the CRC: 1 of 3 supporters, 33%"  # type: ignore[union-attr]
    bars = list(root.iter(f"{SVG}rect"))[1:]
    assert [int(b.get("width", 0)) for b in bars] == [396, 132]  # a third of the track
    fr = ET.fromstring(web.get(f"/c/{SLUG}/progress.svg?lang=fr").content)
    assert str(next(t.text for t in fr.iter(f"{SVG}text"))).startswith("Journée mondiale de l'enfance : ")
    ar = ET.fromstring(web.get(f"/c/{SLUG}/progress.svg?lang=ar").content)
    assert ar.find(f"{SVG}g").get("direction") == "rtl"  # type: ignore[union-attr]
    bar = list(ar.iter(f"{SVG}rect"))[-1]
    assert int(bar.get("x", 0)) + int(bar.get("width", 0)) == 420 - 12  # fills from the right


def test_favicons_use_the_campaign_colours(web: TestClient) -> None:
    r = web.get(f"/c/{SLUG}/favicon.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert 'fill="#0b3d91"' in r.text and 'stroke="#ffd23f"' in r.text  # show-support.toml's background and accent
    ET.fromstring(r.content)
    site = web.get("/favicon.svg")
    assert site.status_code == 200 and 'fill="#0a6ebd"' in site.text
    ico = web.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
    assert Image.open(io.BytesIO(ico.content)).format == "ICO"


def test_a_campaign_without_cards_gets_the_site_colours(any_engine: Engine, campaign: Campaign,
                                                       client_for: Callable[..., TestClient]) -> None:
    client = client_for(any_engine, [campaign])
    assert 'fill="#0a6ebd"' in client.get(f"/c/{SLUG}/favicon.svg").text
    assert 'property="og:image"' not in client.get(f"/c/{SLUG}").text  # no card, no image: never a broken one


@pytest.mark.parametrize("path", ["/c/nope/embed", "/c/nope/progress.svg", "/c/nope/favicon.svg"])
def test_unknown_campaigns_are_404(web: TestClient, path: str) -> None:
    assert web.get(path).status_code == 404


def test_settings_do_not_change_the_framing_rule(any_engine: Engine, carded: Campaign, web_settings: Settings,
                                                 client_for: Callable[..., TestClient]) -> None:
    client = client_for(any_engine, [carded], with_settings(web_settings, footer_url="https://example.org/"))
    assert _framing(client.get(f"/c/{SLUG}/embed")) == (None, "frame-ancestors *")
    assert _framing(client.get(f"/c/{SLUG}")) == ("DENY", "frame-ancestors 'none'")
