from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from social_campaign.config import Settings
from social_campaign.errors import BadRequest
from social_campaign.models import Pledge, PledgeStatus, ShareClick
from social_campaign.pledges import share
from social_campaign.web.app import create_app
from tests.pledges.release_support import VARIANTS, add_pledges, make_campaign


@pytest.fixture
def client(any_engine: Engine, settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings, any_engine, campaigns=[make_campaign(tmp_path)])
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as c:
        yield c


def _pledges(engine: Engine) -> list[Pledge]:
    with Session(engine) as s:
        return list(s.exec(select(Pledge).order_by(col(Pledge.id))).all())


def test_share_page_links(client: TestClient, any_engine: Engine) -> None:
    add_pledges(any_engine, 1)
    p = _pledges(any_engine)[0]
    r = client.get(f"/c/childrens-day/share/{p.share_token}")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    html = r.text
    go = f"/c/childrens-day/go/{p.share_token}"
    for channel in ("x", "bluesky", "facebook", "badge"):
        assert f'href="{go}/{channel}"' in html
    assert f'action="{go}/mastodon"' in html and 'name="server"' in html
    assert "<textarea" in html and "readonly" in html
    assert "Children&#39;s rights can&#39;t wait &amp; neither can we" not in html  # variant 0 for this pledge
    assert VARIANTS[0].replace("!", "!") in html.replace("&#39;", "'")
    assert "Facebook does not let anyone fill in your text" in html
    assert 'class="share-actions"' in html and html.count('class="share-btn') == 4
    assert "https://x.com" not in html  # every outbound link goes through the counting redirect


def test_redirects_count_clicks_and_encode_text(client: TestClient, any_engine: Engine) -> None:
    add_pledges(any_engine, 3)
    p = _pledges(any_engine)[2]  # variant 2: has an apostrophe, an ampersand and a hashtag
    go = f"/c/childrens-day/go/{p.share_token}"
    x = client.get(f"{go}/x")
    assert x.status_code == 302
    loc = x.headers["location"]
    assert loc.startswith("https://x.com/intent/tweet?text=")
    assert " " not in loc and "&neither" not in loc and "#" not in loc  # url-encoded
    assert parse_qs(urlsplit(loc).query)["text"] == [VARIANTS[2]]
    bsky = client.get(f"{go}/bluesky").headers["location"]
    assert bsky.startswith("https://bsky.app/intent/compose?text=") and unquote(bsky.split("text=")[1]) == VARIANTS[2]
    fb = client.get(f"{go}/facebook").headers["location"]
    assert urlsplit(fb).netloc == "www.facebook.com"
    assert parse_qs(urlsplit(fb).query) == {"u": ["http://127.0.0.1:8000/c/childrens-day"]}  # our page, no text
    masto = client.get(f"{go}/mastodon", params={"server": "@ada@Mastodon.Social"}).headers["location"]
    assert masto.startswith("https://mastodon.social/share?text=") and parse_qs(urlsplit(masto).query)["text"] == [VARIANTS[2]]
    assert client.get(f"{go}/badge").headers["location"] == "/c/childrens-day/badge"
    client.get(f"{go}/x")
    with Session(any_engine) as s:
        funnel = share.funnel(s, "childrens-day")
        clicks = s.exec(select(ShareClick.channel)).all()
    assert sorted(clicks) == ["badge", "bluesky", "facebook", "mastodon", "x", "x"]
    assert funnel["clicked"] == {"badge": 1, "bluesky": 1, "facebook": 1, "mastodon": 1, "x": 1}
    assert funnel["clicks"]["x"] == 2
    assert (funnel["pledged"], funnel["confirmed"], funnel["notified"]) == (3, 3, 0)


def test_bad_server_and_bad_tokens(client: TestClient, any_engine: Engine) -> None:
    add_pledges(any_engine, 1)
    add_pledges(any_engine, 1, start=5, status=PledgeStatus.withdrawn)
    ok, withdrawn = _pledges(any_engine)
    r = client.get(f"/c/childrens-day/go/{ok.share_token}/mastodon", params={"server": "javascript:alert(1)"})
    assert r.status_code == 400 and "Mastodon server" in r.text
    for url in (
        "/c/childrens-day/share/not-a-real-token-at-all",
        f"/c/childrens-day/share/{withdrawn.share_token}",
        f"/c/childrens-day/go/{withdrawn.share_token}/x",
        "/c/childrens-day/share/%3Cscript%3E",
        f"/c/other-campaign/share/{ok.share_token}",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert "Traceback" not in r.text
    assert client.get(f"/c/childrens-day/go/{ok.share_token}/myspace").status_code == 404
    with Session(any_engine) as s:
        assert s.exec(select(ShareClick)).all() == []  # nothing counted for refused links


@pytest.mark.parametrize(("raw", "host"), [
    ("mastodon.social", "mastodon.social"), ("https://mas.to/@me", "mas.to"), ("@me@fosstodon.org", "fosstodon.org"),
    ("Social.Example.ORG.", "social.example.org"), ("bücher.example", "xn--bcher-kva.example"),
])
def test_mastodon_server_accepts(raw: str, host: str) -> None:
    assert share.mastodon_server(raw) == host


@pytest.mark.parametrize("raw", ["", "localhost", "127.0.0.1", "evil.com/path?x", "a..b", "-a.com", "x" * 300 + ".com", "a b.com"])
def test_mastodon_server_refuses(raw: str) -> None:
    with pytest.raises(BadRequest, match="server"):
        share.mastodon_server(raw)


def test_variants_rotate_over_supporters(any_engine: Engine, tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path)
    add_pledges(any_engine, 9)
    texts = [share.share_text(campaign, p) for p in _pledges(any_engine)]
    assert {texts.count(v) for v in VARIANTS} == {3}
