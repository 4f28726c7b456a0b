"""The campaign page in headless Chromium (Playwright): local-time countdown, the form, live progress via progress.json."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.web.app import create_app
from tests.web.conftest import (
    BROWSER_MARKS,
    free_port,
    launch_chromium,
    links_in,
    live_server,
    make_campaign,
    with_settings,
)
from tests.web.test_pledge_flow import emails

pytestmark = BROWSER_MARKS


@pytest.fixture
def server(tmp_path: Path, engine: Engine, web_settings: Settings) -> Iterator[str]:
    port = free_port()
    settings = with_settings(web_settings, public_url=f"http://127.0.0.1:{port}", progress_interval=1.0)
    app = create_app(settings, engine, campaigns=[make_campaign(tmp_path)])
    with live_server(app, port) as url:
        yield url


def test_fill_the_form_and_watch_progress(server: str, engine: Engine) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser: Any = launch_chromium(p)
        try:
            page = browser.new_page(timezone_id="Europe/Berlin", locale="en-GB")
            page.goto(f"{server}/c/childrens-day")
            expect(page.locator(".countdown").first).to_contain_text("29 days left")  # days only, until the last day
            when = page.locator("time.when").first  # the visitor's local time with its zone; the campaign's in title
            expect(when).to_contain_text(re.compile(r"GMT\+[12]$"))
            expect(when).to_have_attribute("title", re.compile(r"\bE[SD]T$"))
            box = page.locator(".hp").bounding_box()  # the honeypot is off-screen for people
            assert box is not None and box["x"] + box["width"] < 0
            page.fill("#name", "Amina Yusuf")
            page.fill("#email", "amina@example.org")
            page.check("#consent")
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_have_text("Check your email")
            page.goto(f"{server}/c/childrens-day")
            bar = page.locator(".progress-bar[role=progressbar]")
            expect(bar).to_have_attribute("aria-valuenow", "0")
            confirm = links_in(emails(engine)[0].body_text.replace(server, "https://pledge.example.org"))["confirm"]
            other = browser.new_page()
            other.goto(f"{server}{confirm}")
            expect(other.locator("h1")).to_have_text("Confirm your pledge")  # opening the link changes nothing
            other.click("button[type=submit]")
            expect(other.locator("h1")).to_have_text("Your pledge is confirmed")
            expect(bar).to_have_attribute("aria-valuenow", "1", timeout=10_000)  # polled, no reload
            expect(page.locator("#percent")).to_have_text("33%")
        finally:
            browser.close()
