"""The supporter's share page: one-tap buttons, the Copy script, Facebook sharing our page, the remembered Mastodon
server (and every safety rule of the Mastodon redirect), texts in the pledge's language."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.models import Pledge, PledgeData, ShareClick
from social_campaign.web.app import create_app
from tests.pledges.release_support import VARIANTS, add_pledges, make_campaign
from tests.web.conftest import CHROMIUM, free_port, launch_chromium, live_server, with_settings

SLUG = "childrens-day"
OUR_PAGE = "https://pledge.example.org/c/childrens-day"
FRENCH = (
    "Chaque enfant a des droits. Ratifiez la #CRC maintenant ! https://example.org/crc #ChildrensDay",
    "Les États-Unis sont seuls : 196 pays ont ratifié la #CRC. https://example.org/crc #USstandsAlone",
    "Les droits des enfants ne peuvent pas attendre : ratifiez la #CRC https://example.org/crc #childrights",
)


def bilingual(root: Path) -> Campaign:
    campaign = make_campaign(root)
    assert campaign.pledge is not None
    spec = dataclasses.replace(campaign.pledge, variants_by_lang={"en": VARIANTS, "fr": FRENCH})
    return dataclasses.replace(campaign, pledge=spec, languages=("en", "fr"))


@pytest.fixture
def web(client_for: Callable[..., TestClient], engine: Engine, tmp_path: Path) -> TestClient:
    return client_for(engine, [bilingual(tmp_path)], follow_redirects=False)


def pledges(engine: Engine, n: int = 1, langs: tuple[str | None, ...] = ()) -> list[Pledge]:
    """``n`` confirmed pledges (variants 0, 1, 2, …); ``langs[i]`` is pledge i's recorded language (None: no row)."""
    add_pledges(engine, n)
    with Session(engine) as s:
        found = list(s.exec(select(Pledge).order_by(col(Pledge.id))).all())
        for pledge, lang in zip(found, langs, strict=False):
            if lang is not None:
                s.add(PledgeData(pledge_id=pledge.id or 0, campaign=SLUG, lang=lang))
        s.commit()
        for p in found:
            s.refresh(p)
            s.expunge(p)
    return found


def textarea(html: str) -> str:
    found = re.search(r'<textarea id="share-text"[^>]*>([^<]*)</textarea>', html)
    assert found is not None
    return found.group(1).replace("&#39;", "'").replace("&amp;", "&")


def test_share_page_structure(web: TestClient, engine: Engine) -> None:
    [p] = pledges(engine)
    res = web.get(f"/c/{SLUG}/share/{p.share_token}")
    assert res.status_code == 200 and res.headers["cache-control"] == "no-store"
    html = res.text
    go = f"/c/{SLUG}/go/{p.share_token}"
    actions = html.split('<div class="share-actions">', 1)[1].split("</div>", 1)[0]
    buttons = re.findall(r'<a class="share-btn share-(\w+)"[^>]*href="([^"]+)"', actions)
    assert buttons == [("x", f"{go}/x"), ("bluesky", f"{go}/bluesky"), ("facebook", f"{go}/facebook"),
                       ("mastodon", "#mastodon")]  # no server known yet: the button leads to the server choice
    assert 'id="mastodon"' in html and f'action="{go}/mastodon"' in html and 'value=""' in html
    assert '<label for="share-text">' in html and 'readonly' in html and "data-copied=" in html
    assert 'id="copy-status" role="status"' in html  # the live region the Copy button announces into
    assert '<script src="/static/share.js" defer></script>' in html and 'href="/static/share.css"' in html
    assert "<script>" not in html and " style=" not in html and "onclick" not in html
    assert textarea(html) == VARIANTS[0]
    for static in ("/static/share.js", "/static/share.css"):
        assert web.get(static).status_code == 200
    js = web.get("/static/share.js").text
    assert 'button.id = "copy-text"' in js and 'button.type = "button"' in js
    css = web.get("/static/share.css").text
    assert "min-block-size: 3rem" in css and "repeat(2, minmax(0, 1fr))" in css  # 48 px and more; 2x2 on a phone
    assert not re.search(r"(?<![-\w])(left|right)\s*:|margin-(left|right)|padding-(left|right)|text-align:\s*(left|right)", css)


@pytest.mark.parametrize("app_id", [None, "1234567890"])
def test_facebook_always_shares_our_campaign_page(
    client_for: Callable[..., TestClient], engine: Engine, tmp_path: Path, web_settings: Settings, app_id: str | None
) -> None:
    settings = with_settings(web_settings, facebook_app_id=app_id)
    web = client_for(engine, [bilingual(tmp_path)], settings, follow_redirects=False)
    [p] = pledges(engine)
    res = web.get(f"/c/{SLUG}/go/{p.share_token}/facebook")
    assert res.status_code == 302
    target = urlsplit(res.headers["location"])
    assert target.scheme == "https" and target.netloc == "www.facebook.com"
    query = parse_qs(target.query)
    if app_id is None:
        assert target.path == "/sharer/sharer.php" and query == {"u": [OUR_PAGE]}
    else:
        assert target.path == "/dialog/share"
        assert query == {"app_id": [app_id], "display": ["page"], "href": [OUR_PAGE]}  # not the campaign's own link
    with Session(engine) as s:
        assert s.exec(select(ShareClick.channel)).all() == ["facebook"]


def test_mastodon_server_is_remembered_in_a_cookie(web: TestClient, engine: Engine) -> None:
    [p] = pledges(engine)
    go = f"/c/{SLUG}/go/{p.share_token}"
    page = web.get(f"/c/{SLUG}/share/{p.share_token}")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    res = web.post(f"{go}/mastodon", data={"server": "https://Social.Example.ORG/@me", "csrf": token.group(1)})
    assert res.status_code == 303
    assert res.headers["location"].startswith("https://social.example.org/share?text=")
    cookie = res.headers["set-cookie"]
    assert cookie.startswith("mastodon_server=social.example.org;")
    for part in ("HttpOnly", "Max-Age=31536000", f"Path=/c/{SLUG}/", "SameSite=lax"):
        assert part.lower() in cookie.lower(), part
    again = web.get(f"/c/{SLUG}/share/{p.share_token}")  # the client sends the cookie back
    actions = again.text.split('<div class="share-actions">', 1)[1].split("</div>", 1)[0]
    assert f'href="{go}/mastodon?server=social.example.org">Share on Mastodon (social.example.org)</a>' in actions
    assert 'value="social.example.org"' in again.text  # the input is prefilled
    assert again.text.count(">social.example.org</a>") == 0  # not repeated in the list of well-known servers
    straight = web.get(f"{go}/mastodon", params={"server": "social.example.org"})
    assert straight.status_code == 302 and straight.headers["location"].startswith("https://social.example.org/share")
    with Session(engine) as s:
        assert s.exec(select(ShareClick.channel)).all() == ["mastodon", "mastodon"]


def test_a_server_link_sets_the_cookie_too_but_head_does_not(web: TestClient, engine: Engine) -> None:
    [p] = pledges(engine)
    go = f"/c/{SLUG}/go/{p.share_token}"
    assert "set-cookie" not in web.head(f"{go}/mastodon", params={"server": "mas.to"}).headers
    res = web.get(f"{go}/mastodon", params={"server": "mas.to"})
    assert res.status_code == 302 and res.headers["set-cookie"].startswith("mastodon_server=mas.to;")


def test_safety_is_unchanged_without_the_suppporters_own_cookie(
    client_for: Callable[..., TestClient], engine: Engine, tmp_path: Path
) -> None:
    web = client_for(engine, [bilingual(tmp_path)], follow_redirects=False)
    [p] = pledges(engine)
    go = f"/c/{SLUG}/go/{p.share_token}"
    crafted = web.get(f"{go}/mastodon", params={"server": "evil.example.com"})  # someone else's link, no cookie
    assert crafted.status_code == 200 and "location" not in crafted.headers and "set-cookie" not in crafted.headers
    assert "evil.example.com. Check the name" in crafted.text
    web.cookies.set("mastodon_server", "mas.to", path=f"/c/{SLUG}/")
    other = web.get(f"{go}/mastodon", params={"server": "evil.example.com"})  # the cookie names another server
    assert other.status_code == 200 and "location" not in other.headers
    for bad in ("localhost", "127.0.0.1", "evil.com/path", "a..b"):
        web.cookies.clear()
        web.cookies.set("mastodon_server", bad, path=f"/c/{SLUG}/")
        page = web.get(f"/c/{SLUG}/share/{p.share_token}")
        assert 'href="#mastodon"' in page.text and f'value="{bad}"' not in page.text  # a bad cookie is ignored
        res = web.get(f"{go}/mastodon", params={"server": bad})
        assert res.status_code == 400 and "location" not in res.headers
    with Session(engine) as s:
        assert s.exec(select(ShareClick)).all() == []


def test_a_refused_server_is_shown_at_its_field(web: TestClient, engine: Engine) -> None:
    [p] = pledges(engine)
    res = web.get(f"/c/{SLUG}/go/{p.share_token}/mastodon", params={"server": "localhost"})
    assert res.status_code == 400
    field = re.search(r'<input id="server"[^>]*>', res.text)
    assert field is not None and 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="server-error"' in field.group(0)
    assert ('<p class="error field-error" id="server-error" role="alert">Please give your Mastodon server&#39;s name, '
            "for example mastodon.social.</p>") in res.text


def test_texts_follow_the_pledges_language(web: TestClient, engine: Engine) -> None:
    fr, en, es, unknown = pledges(engine, 4, langs=("fr", "en", "es", None))
    assert textarea(web.get(f"/c/{SLUG}/share/{fr.share_token}").text) == FRENCH[0]
    assert textarea(web.get(f"/c/{SLUG}/share/{en.share_token}").text) == VARIANTS[1]
    assert textarea(web.get(f"/c/{SLUG}/share/{es.share_token}").text) == VARIANTS[2]  # es is not a campaign language
    assert textarea(web.get(f"/c/{SLUG}/share/{unknown.share_token}").text) == VARIANTS[0]  # no language recorded
    for channel in ("x", "bluesky"):
        url = web.get(f"/c/{SLUG}/go/{fr.share_token}/{channel}").headers["location"]
        assert parse_qs(urlsplit(url).query)["text"] == [FRENCH[0]]
    masto = web.get(f"/c/{SLUG}/go/{fr.share_token}/mastodon", params={"server": "mastodon.social"})
    assert parse_qs(urlsplit(masto.headers["location"]).query)["text"] == [FRENCH[0]]


def test_french_pledge_on_a_campaign_without_french_texts_gets_the_default(
    client_for: Callable[..., TestClient], engine: Engine, tmp_path: Path
) -> None:
    campaign = dataclasses.replace(make_campaign(tmp_path), languages=("en", "fr"))
    web = client_for(engine, [campaign], follow_redirects=False)
    [fr] = pledges(engine, 1, langs=("fr",))
    assert textarea(web.get(f"/c/{SLUG}/share/{fr.share_token}").text) == VARIANTS[0]


def test_page_is_in_the_requested_language(web: TestClient, engine: Engine) -> None:
    [fr] = pledges(engine, 1, langs=("fr",))
    res = web.get(f"/c/{SLUG}/share/{fr.share_token}", params={"lang": "fr"})
    assert res.status_code == 200 and res.headers["content-language"] == "fr"
    assert '<html lang="fr"' in res.text and textarea(res.text) == FRENCH[0]
    english = web.get(f"/c/{SLUG}/share/{fr.share_token}", params={"lang": "en"})
    assert english.headers["content-language"] == "en" and textarea(english.text) == FRENCH[0]  # the text stays French


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium")
def test_copy_button_and_no_sideways_scroll_at_320_px(engine: Engine, tmp_path: Path, web_settings: Settings) -> None:
    from playwright.sync_api import expect, sync_playwright

    [fr] = pledges(engine, 1, langs=("fr",))
    app = create_app(web_settings, engine, campaigns=[bilingual(tmp_path)])
    errors: list[str] = []
    with live_server(app, free_port()) as url, sync_playwright() as p:
        browser: Any = launch_chromium(p)
        try:
            for lang in ("en", "fr"):
                context = browser.new_context(viewport={"width": 320, "height": 700})
                context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
                page = context.new_page()
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.goto(f"{url}/c/{SLUG}/share/{fr.share_token}?lang={lang}")
                assert page.evaluate("document.documentElement.scrollWidth") <= 320
                heights = page.eval_on_selector_all(".share-btn", "els => els.map(e => e.getBoundingClientRect().height)")
                assert len(heights) == 4 and min(heights) >= 48
                tops = page.eval_on_selector_all(".share-btn", "els => els.map(e => Math.round(e.getBoundingClientRect().top))")
                assert tops[0] == tops[1] and tops[2] == tops[3] and tops[2] > tops[0]  # a 2x2 grid
                area = page.locator("#share-text").bounding_box()
                main = page.locator("main").bounding_box()
                assert area is not None and main is not None and area["width"] <= main["width"]
                family = page.eval_on_selector("#share-text", "e => getComputedStyle(e).fontFamily")
                assert "monospace" not in family
                page.click("#copy-text")
                expect(page.locator("#copy-status")).not_to_be_empty()
                assert page.evaluate("navigator.clipboard.readText()") == FRENCH[0]
                context.close()
        finally:
            browser.close()
    assert [e for e in errors if "favicon" not in e] == []
