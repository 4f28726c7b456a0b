"""Card downloads for supporters: every card of the shipped campaign in every size, rendered once and cached."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine

from social_campaign.campaign.loader import load_campaign
from social_campaign.config import Settings
from social_campaign.graphics.cards import TARGETS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def web(client_for: Callable[..., TestClient], engine: Engine) -> TestClient:
    return client_for(engine, [load_campaign(ROOT / "schedule.toml")])


def test_cards_page_lists_every_card_in_every_size_with_alt_text(web: TestClient) -> None:
    page = web.get("/c/childrens-day/cards")
    assert page.status_code == 200
    for name in ("show-support", "us-stands-alone", "infant-mortality"):
        for target in TARGETS:
            assert f"/c/childrens-day/cards/{name}/{target}.png?download=1" in page.text
    body = page.text.split('<article class="cards">', 1)[1]
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', body)
    assert len(alts) == 3 and all(alts)
    assert 'href="/static/share.css"' in page.text  # images scale to the screen (no sideways scroll at 320 px)


@pytest.mark.parametrize("target", list(TARGETS))
def test_card_image_has_the_networks_size(web: TestClient, target: str) -> None:
    response = web.get(f"/c/childrens-day/cards/us-stands-alone/{target}.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == TARGETS[target]


def test_card_is_rendered_once_then_served_from_the_cache(web: TestClient, web_settings: Settings) -> None:
    first = web.get("/c/childrens-day/cards/show-support/square.png?download=1")
    assert first.status_code == 200
    assert first.headers["content-disposition"] == 'attachment; filename="childrens-day-show-support-square.png"'
    [cached] = (web_settings.data_dir / "cards").glob("show-support-square-*.png")
    stamp = cached.stat().st_mtime_ns
    again = web.get("/c/childrens-day/cards/show-support/square.png")
    assert again.content == first.content and cached.stat().st_mtime_ns == stamp


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/c/childrens-day/cards/show-support/huge.png", "There is no card size huge."),
        ("/c/childrens-day/cards/nope/x.png", "There is no card named nope in this campaign."),
        ("/c/other/cards", ""),
    ],
)
def test_unknown_cards_are_404(web: TestClient, path: str, message: str) -> None:
    response = web.get(path)
    assert response.status_code == 404 and message in html.unescape(response.text)
    assert "Traceback" not in response.text


def test_cards_page_shows_each_card_once_in_the_page_language(web: TestClient) -> None:
    page = web.get("/c/childrens-day/cards", params={"lang": "fr"})
    assert page.status_code == 200 and page.headers["content-language"] == "fr"
    for name in ("show-support", "us-stands-alone", "infant-mortality"):
        assert f"/c/childrens-day/cards/{name}.fr/square.png?download=1" in page.text
        assert f"/c/childrens-day/cards/{name}/square.png" not in page.text
    assert ".es/" not in page.text and ".ar/" not in page.text
    image = web.get("/c/childrens-day/cards/show-support.fr/x.png")
    assert image.status_code == 200 and Image.open(io.BytesIO(image.content)).size == TARGETS["x"]
