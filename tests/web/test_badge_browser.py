"""The badge maker in headless Chromium: choose a photo through the frame, move it with the keys and the mouse, zoom,
download the server's PNG, see what to do next; a non-image gets an inline error, with and without JavaScript."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def watch(page: object, errors: list[str]) -> None:
    """Collect console errors (CSP violations too) and failed responses."""
    page.on(  # type: ignore[attr-defined]
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "favicon" not in m.location.get("url", "") else None,
    )
    page.on(  # type: ignore[attr-defined]
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None,
    )


def test_choose_move_with_keys_zoom_drag_and_download(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    photo = tmp_path / "me.png"
    photo.write_bytes(encode(scene((1200, 800)), "PNG"))
    errors: list[str] = []
    with sync_playwright() as p:
        browser: Any = launch_chromium(p)
        try:
            page = browser.new_page(accept_downloads=True, viewport={"width": 390, "height": 844})
            watch(page, errors)
            page.goto(f"{server}/c/childrens-day/badge")
            expect(page.locator("#badge-download")).to_be_hidden()  # nothing to download before a photo
            expect(page.locator("#badge-next")).to_be_hidden()
            drop = page.locator("#badge-drop").bounding_box()
            assert drop is not None and drop["width"] >= 300  # the frame is large and first
            assert drop["y"] < page.locator("#badge-download").evaluate("e => e.parentElement.getBoundingClientRect().top")
            with page.expect_file_chooser() as chooser:
                page.click("#badge-drop")  # the frame is the "Choose photo" button
            chooser.value.set_files(str(photo))
            expect(page.locator("#badge-canvas")).to_be_visible()
            expect(page.locator("#preview")).to_be_visible()
            expect(page.locator("#badge-download")).to_be_visible()
            page.locator("#zoom").fill("2")
            page.focus("#badge-canvas")
            x0, y0 = (float(page.input_value(f"#{n}")) for n in ("x", "y"))
            page.keyboard.press("ArrowLeft")  # the photo moves left: the crop moves right
            page.keyboard.press("ArrowUp")
            x1, y1 = (float(page.input_value(f"#{n}")) for n in ("x", "y"))
            assert x1 > x0 and y1 > y0
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            assert float(page.input_value("#x")) < x1
            page.keyboard.press("+")
            assert float(page.input_value("#scale")) == pytest.approx(2.2, abs=0.001)
            page.keyboard.press("-")
            assert float(page.input_value("#scale")) == pytest.approx(2.0, abs=0.001)
            expect(page.locator("#badge-status")).to_contain_text("Photo moved:")  # announced politely
            page.locator("#badge-canvas").scroll_into_view_if_needed()
            canvas = page.locator("#badge-canvas").bounding_box()
            assert canvas is not None
            cx, cy = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
            before = float(page.input_value("#x"))
            page.mouse.move(cx, cy)
            page.mouse.down()
            page.mouse.move(cx + 40, cy, steps=5)  # drag right: the crop moves left
            page.mouse.up()
            x, y, scale = (float(page.input_value(f"#{n}")) for n in ("x", "y", "scale"))
            assert x < before and scale == 2.0
            with page.expect_download() as info:
                page.click("#badge-download")
            assert info.value.suggested_filename == "childrens-day-badge-400.png"
            saved = tmp_path / "badge.png"
            info.value.save_as(saved)
            expect(page.locator("#badge-next")).to_be_visible()  # what next: profile picture steps, pledge link
            expect(page.locator("#badge-next a[href='/c/childrens-day#pledge-form']")).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        finally:
            browser.close()
    assert errors == []
    with Image.open(saved) as got:
        assert got.size == (400, 400) and got.mode == "RGBA"
        want = make_badge(Image.open(photo).convert("RGB"), frame(1080), 400, "circle", (x, y, scale))
        assert mean_abs_diff(got, want) < 1.5


def test_a_non_image_gets_an_inline_error(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)
    errors: list[str] = []
    with sync_playwright() as p:
        browser: Any = launch_chromium(p)
        try:
            page = browser.new_page()
            watch(page, errors)
            page.goto(f"{server}/c/childrens-day/badge")
            page.set_input_files("#photo", str(notes))
            expect(page.locator("#photo-error")).to_have_text(re.compile("This file is not an image we can use"))
            expect(page.locator("#photo")).to_have_attribute("aria-invalid", "true")
            expect(page.locator("#photo")).to_have_attribute("aria-describedby", "photo-help photo-error")
            expect(page.locator("#badge-download")).to_be_hidden()
            page.set_input_files("#photo", str(broken))  # claims to be a PNG, does not decode
            expect(page.locator("#photo-error")).to_have_text(re.compile("could not be read"))
            expect(page.locator("#badge-download")).to_be_hidden()

            plain = browser.new_page(java_script_enabled=False)  # without JavaScript: the server answers at the field
            plain.goto(f"{server}/c/childrens-day/badge")
            expect(plain.locator("#badge-download")).to_be_visible()
            plain.set_input_files("#photo", str(notes))
            with plain.expect_navigation():
                plain.click("#badge-download")
            expect(plain.locator("#photo-error")).to_have_text(re.compile("This file is not an image we can use"))
            expect(plain.locator("#photo")).to_have_attribute("aria-invalid", "true")
        finally:
            browser.close()
    assert [e for e in errors if "415" not in e] == []
