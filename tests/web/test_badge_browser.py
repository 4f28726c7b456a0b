"""The badge maker in headless Chromium: pick a photo, drag and zoom the preview, download the server's PNG."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.engine import Engine

from social_campaign.campaign.model import BadgeSpec
from social_campaign.config import Settings
from social_campaign.graphics.badge import make_badge
from social_campaign.web.app import create_app
from tests.graphics.imaging import encode, frame, scene
from tests.graphics.test_badge import mean_abs_diff
from tests.web.conftest import BROWSER_MARKS, free_port, launch_chromium, live_server, make_campaign

pytestmark = BROWSER_MARKS


@pytest.fixture
def server(tmp_path: Path, engine: Engine, web_settings: Settings) -> Iterator[str]:
    (tmp_path / "infographics").mkdir()
    frame(1080).save(tmp_path / "infographics" / "frame.png")
    spec = BadgeSpec(overlay=tmp_path / "infographics" / "frame.png", size=400, download_size=1080, shape="circle")
    campaign = dataclasses.replace(make_campaign(tmp_path), badge=spec)
    port = free_port()
    app = create_app(web_settings, engine, campaigns=[campaign])
    with live_server(app, port) as url:
        yield url


def test_drag_zoom_and_download(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    photo = tmp_path / "me.png"
    photo.write_bytes(encode(scene((1200, 800)), "PNG"))
    errors: list[str] = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(accept_downloads=True)
            page.on(
                "console",
                lambda m: (
                    errors.append(m.text) if m.type == "error" and "favicon" not in m.location.get("url", "") else None
                ),
            )  # CSP violations too
            page.on(
                "response",
                lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None,
            )
            page.goto(f"{server}/c/childrens-day/badge")
            page.set_input_files("#photo", str(photo))
            expect(page.locator("#preview")).to_be_visible()
            page.locator("#zoom").fill("2")
            canvas = page.locator("#badge-canvas").bounding_box()
            assert canvas is not None
            cx, cy = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
            page.mouse.move(cx, cy)
            page.mouse.down()
            page.mouse.move(cx + 60, cy + 30, steps=5)  # drag right and down: the crop moves left and up
            page.mouse.up()
            x, y, scale = (float(page.input_value(f"#{n}")) for n in ("x", "y", "scale"))
            assert x < 0.5 and y < 0.5 and scale == 2.0
            with page.expect_download() as info:
                page.click("button[type=submit]")
            saved = tmp_path / "badge.png"
            info.value.save_as(saved)
        finally:
            browser.close()
    assert errors == []
    with Image.open(saved) as got:
        assert got.size == (400, 400) and got.mode == "RGBA"
        want = make_badge(Image.open(photo).convert("RGB"), frame(1080), 400, "circle", (x, y, scale))
        assert mean_abs_diff(got, want) < 1.5
