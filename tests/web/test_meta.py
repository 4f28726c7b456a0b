"""Link previews on every public page (og:, twitter:, description, canonical: absolute, the card answering 1200x630),
private pages pointing at the campaign page with ``noindex``, and the page language (``?lang=``, cookie,
``Accept-Language``, bad values falling back to the default) in ``Content-Language`` and ``<html lang dir>``."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import BadgeSpec, Campaign
from social_campaign.config import Settings
from social_campaign.models import EmailMessage, Pledge
from tests.pledges.release_support import add_pledges
from tests.web.conftest import links_in, make_campaign, pledge_form, with_settings

SLUG = "childrens-day"
BASE = "https://pledge.example.org"
SHIPPED = Path(__file__).resolve().parents[2] / "infographics"


class Head(HTMLParser):
    """The page's ``<meta>``/``<link rel>`` tags and ``<html>`` attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.links: dict[str, str] = {}
        self.html: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html = a
        elif tag == "meta" and (a.get("property") or a.get("name")):
            self.meta.setdefault(str(a.get("property") or a.get("name")), []).append(str(a.get("content")))
        elif tag == "link" and a.get("rel"):
            self.links[str(a["rel"])] = str(a.get("href"))


def head_of(page: str) -> Head:
    parser = Head()
    parser.feed(page)
    return parser


def one(head: Head, key: str) -> str:
    values = head.meta.get(key, [])
    assert len(values) == 1, (key, values)
    return values[0]


@pytest.fixture
def carded(tmp_path: Path) -> Campaign:
    """The test campaign with the shipped cards (English and French) and three languages."""
    folder = tmp_path / "infographics"
    folder.mkdir()
    shutil.copytree(SHIPPED / "fonts", folder / "fonts")
    for name in ("show-support.toml", "show-support.fr.toml", "show-support.ar.toml", "frame-childrights.png"):
        shutil.copy(SHIPPED / name, folder / name)
    return dataclasses.replace(
        make_campaign(tmp_path), languages=("en", "fr", "ar"), organisation="First Focus",
        badge=BadgeSpec(overlay=folder / "frame-childrights.png"),
        names={"fr": "Journée mondiale de l'enfance : ratifiez la CIDE"},
        descriptions={"fr": "Aidez-nous à atteindre notre objectif."},
    )


@pytest.fixture
def web(any_engine: Engine, carded: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]) -> TestClient:
    return client_for(any_engine, [carded], with_settings(web_settings, admin_token="t0ken"))


def _private_paths(engine: Engine, client: TestClient) -> dict[str, str]:
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    with Session(engine) as s:
        links = links_in(s.exec(select(EmailMessage)).one().body_text)
    add_pledges(engine, 1, start=50)
    with Session(engine) as s:
        share = s.exec(select(Pledge.share_token).where(Pledge.email == "p50@example.org")).one()
    return {"confirm": links["confirm"], "withdraw": links["withdraw"], "share": f"/c/{SLUG}/share/{share}"}


PUBLIC = [f"/c/{SLUG}", f"/c/{SLUG}/badge", f"/c/{SLUG}/cards"]


@pytest.mark.parametrize("path", PUBLIC)
def test_every_public_page_has_a_link_preview(web: TestClient, path: str) -> None:
    r = web.get(path)
    assert r.status_code == 200
    head = head_of(r.text)
    assert one(head, "og:title") == "Universal Children's Day: ratify the CRC"
    assert one(head, "og:description") == one(head, "description") == "Help us reach our goal of supporters."
    assert one(head, "og:url") == head.links["canonical"] == BASE + path
    assert one(head, "og:type") == "website" and one(head, "og:locale") == "en_US"
    assert sorted(head.meta["og:locale:alternate"]) == ["ar_AR", "fr_FR"]
    assert one(head, "twitter:card") == "summary_large_image"
    image = one(head, "og:image")
    assert image == f"{BASE}/c/{SLUG}/cards/show-support/facebook.png" == one(head, "twitter:image")
    assert (one(head, "og:image:width"), one(head, "og:image:height")) == ("1200", "630")
    assert one(head, "og:image:alt").startswith("Infographic: 20 November.")
    assert head.links["icon"] == f"/c/{SLUG}/favicon.svg"
    assert "robots" not in head.meta


def test_the_preview_image_is_a_1200x630_png(web: TestClient) -> None:
    image = one(head_of(web.get(f"/c/{SLUG}").text), "og:image")
    r = web.get(image.removeprefix(BASE))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == (1200, 630)


def test_the_preview_follows_the_page_language(web: TestClient) -> None:
    r = web.get(f"/c/{SLUG}?lang=fr")
    head = head_of(r.text)
    assert one(head, "og:title") == "Journée mondiale de l'enfance : ratifiez la CIDE"
    assert one(head, "og:description") == "Aidez-nous à atteindre notre objectif."
    assert one(head, "og:locale") == "fr_FR"
    assert one(head, "og:image") == f"{BASE}/c/{SLUG}/cards/show-support.fr/facebook.png"
    assert one(head, "og:image:alt").startswith("Infographie")
    assert web.get(f"/c/{SLUG}/cards/show-support.fr/facebook.png").status_code == 200
    page = r.text
    assert 'src="/c/childrens-day/cards/show-support.fr/facebook.png" width="1200" height="630" alt="Infographie' in page


def test_private_pages_say_noindex_and_point_at_the_campaign(any_engine: Engine, web: TestClient) -> None:
    for kind, path in _private_paths(any_engine, web).items():
        r = web.get(path)
        assert r.status_code == 200, (kind, r.status_code)
        head = head_of(r.text)
        assert "noindex" in " ".join(head.meta["robots"]), kind
        assert one(head, "og:url") == head.links["canonical"] == f"{BASE}/c/{SLUG}", kind
        token = path.rsplit("/", 1)[1]
        assert token not in one(head, "og:url") and token not in head.links["canonical"]


def test_a_pledge_answer_points_at_the_campaign_page(web: TestClient) -> None:
    r = web.post(f"/c/{SLUG}/pledge", data=pledge_form(web, name=""))
    assert r.status_code == 400
    assert head_of(r.text).links["canonical"] == f"{BASE}/c/{SLUG}"


def test_pages_outside_a_campaign_still_have_a_preview(web: TestClient) -> None:
    r = web.get("/no/such/page")  # the workspace (/admin) has its own noindex base and needs a login
    head = head_of(r.text)
    assert one(head, "og:url") == f"{BASE}/no/such/page" and one(head, "twitter:card") == "summary_large_image"
    assert one(head, "description")


def lang_of(r: object) -> tuple[str, str | None, str | None]:
    html = head_of(r.text).html  # type: ignore[attr-defined]
    return r.headers["content-language"], html.get("lang"), html.get("dir")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"params": {"lang": "fr"}}, ("fr", "fr", "ltr")),
        ({"params": {"lang": "ar"}}, ("ar", "ar", "rtl")),
        ({"params": {"lang": "FR-ca"}}, ("fr", "fr", "ltr")),
        ({"headers": {"accept-language": "ar-EG,ar;q=0.9,en;q=0.5"}}, ("ar", "ar", "rtl")),
        ({"headers": {"accept-language": "de-DE, fr;q=0.4"}}, ("fr", "fr", "ltr")),
        ({"headers": {"cookie": "lang=ar"}}, ("ar", "ar", "rtl")),
        ({"params": {"lang": "fr"}, "headers": {"cookie": "lang=ar"}}, ("fr", "fr", "ltr")),  # ?lang= wins
        ({"params": {"lang": "de"}}, ("en", "en", "ltr")),  # a language the campaign does not list
        ({"params": {"lang": "<script>"}}, ("en", "en", "ltr")),  # malformed
        ({"headers": {"accept-language": ";;;q=x,*;q=abc,\x7f"}}, ("en", "en", "ltr")),
        ({"headers": {"cookie": "lang=zz-ZZ-toolongsubtag"}}, ("en", "en", "ltr")),
        ({"headers": {"accept-language": "es"}}, ("en", "en", "ltr")),  # shipped, but not this campaign's
    ],
)
def test_the_page_language(web: TestClient, kwargs: dict[str, dict[str, str]], expected: tuple[str, str, str]) -> None:
    web.cookies.clear()
    r = web.get(f"/c/{SLUG}", **kwargs)
    assert r.status_code == 200
    assert lang_of(r) == expected


def test_the_switcher_lists_each_language_in_its_own_name_and_remembers_the_choice(web: TestClient) -> None:
    r = web.get(f"/c/{SLUG}?lang=fr")
    nav = re.search(r'<nav class="langs" aria-label="[^"]+">(.*?)</nav>', r.text, re.S)
    assert nav, "no language switcher"
    links = re.findall(r'<a href="([^"]+)" hreflang="(\w+)" lang="(\w+)"( aria-current="true")?>([^<]+)</a>', nav.group(1))
    assert [(href, code, name, bool(current)) for href, code, _, current, name in links] == [
        (f"/c/{SLUG}?lang=en", "en", "English", False),
        (f"/c/{SLUG}?lang=fr", "fr", "Français", True),
        (f"/c/{SLUG}?lang=ar", "ar", "العربية", False),
    ]
    assert "lang=fr" in r.headers["set-cookie"]
    assert lang_of(web.get(f"/c/{SLUG}")) == ("fr", "fr", "ltr")  # the cookie it set


def test_no_switcher_for_a_campaign_in_one_language(any_engine: Engine, campaign: Campaign,
                                                    client_for: Callable[..., TestClient]) -> None:
    page = client_for(any_engine, [campaign]).get(f"/c/{SLUG}").text
    assert 'class="langs"' not in page


def test_arabic_pages_are_right_to_left_and_the_stylesheet_uses_logical_properties(web: TestClient) -> None:
    assert lang_of(web.get(f"/c/{SLUG}/cards?lang=ar")) == ("ar", "ar", "rtl")
    css = web.get("/static/style.css").text
    for physical in re.findall(r"(?<![\w-])(?:margin|padding|border)-(?:left|right)\b|(?<![\w-])(?:left|right)\s*:|"
                               r"text-align:\s*(?:left|right)|float:\s*(?:left|right)", css):
        pytest.fail(f"style.css uses a physical property: {physical}")


def test_footer_links_to_the_setting_else_the_campaign(any_engine: Engine, carded: Campaign, web_settings: Settings,
                                                      client_for: Callable[..., TestClient]) -> None:
    page = client_for(any_engine, [carded]).get(f"/c/{SLUG}").text
    assert '<a href="https://example.org/crc">More about this campaign</a>' in page and "github.com/\"" not in page
    site = with_settings(web_settings, footer_url="https://firstfocus.example/privacy")
    page = client_for(any_engine, [carded], site).get(f"/c/{SLUG}").text
    assert '<a href="https://firstfocus.example/privacy">About us and privacy</a>' in page
