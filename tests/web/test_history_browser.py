"""History, the pledge form, media and the live lengths in Chromium: a copy of the shipped campaign on a real uvicorn,
an editor logged in through /login. Type in the post editor and see the live length change (and the polite
"over the limit"); upload an image with alt text and save; revert a revision and see the file restored; axe finds no
violations on the history, revision and pledge pages (English and Arabic, phone and desktop), nothing sideways."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from social_campaign import db
from social_campaign.config import Settings
from social_campaign.web.app import create_app
from tests.web.browser_support import AXE, Watch, axe_violations, lang_problems
from tests.web.conftest import BROWSER_MARKS, free_port, launch_chromium, live_server
from tests.web.workspace_support import PASSWORD, make_user
from tests.workspace.support import campaign_at, copy_shipped

pytestmark = [
    *BROWSER_MARKS,
    pytest.mark.skipif(not AXE.exists(), reason=f"axe-core is not installed ({AXE} missing): run `make node-deps`"),
]
SLUG = "childrens-day"
EMAIL = "editor@example.org"
SHOTS = os.environ.get("SOCIAL_CAMPAIGN_TEST_SCREENSHOTS", "")  # a folder: save a PNG of each page looked at


@dataclass
class Site:
    url: str
    root: Path


@contextmanager
def editor_site(base: Path) -> Iterator[Site]:
    port = free_port()
    root = copy_shipped(base / "campaign")
    settings = Settings(data_dir=base / "data", pledge_rate_limits="", public_url=f"http://127.0.0.1:{port}",
                        _env_file=None)
    engine = db.engine_for(settings)
    make_user(engine, EMAIL, "editor")
    try:
        with live_server(create_app(settings, engine, campaigns=[campaign_at(root)]), port) as url:
            yield Site(url, root)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with editor_site(tmp_path_factory.mktemp("history")) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        try:
            yield b
        finally:
            b.close()  # type: ignore[attr-defined]


def logged_in(browser: Any, site: Site, width: int = 1280, height: int = 800) -> Any:
    phone = width < 600
    ctx = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{site.url}/login?next=/admin/c/{SLUG}/history")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/admin/c/{SLUG}/history")
    return page


def shot(page: Any, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_type_and_see_the_live_length_then_upload_an_image_and_save(site: Site, browser: Any) -> None:
    page = logged_in(browser, site)
    watch = Watch()
    watch.attach(page)
    try:
        page.goto(f"{site.url}/admin/c/{SLUG}/posts/only-country")
        output = page.locator('output.length[data-for="message"]')
        page.fill("#message", "Short text")
        page.wait_for_function("() => /: 10 of 280/.test(document.querySelector('output.length[data-for=message]')"
                               ".textContent)")
        page.fill("#message", "x" * 300)
        page.wait_for_function("() => document.querySelector('output.length[data-for=message]')"
                               ".classList.contains('over')")
        assert "20 over the limit" in output.inner_text()
        assert "over the limit" in page.locator("#live-message").inner_text()  # the polite live region
        assert page.locator("#preview-message .net-preview").count() >= 1
        shot(page, "post-edit-live")
        page.fill("#message", "Only one country has not ratified the CRC. {link} {hashtags}")
        image = io.BytesIO()
        Image.new("RGB", (600, 400), (30, 90, 160)).save(image, format="PNG")
        page.set_input_files("#media_file", files=[{"name": "map.png", "mimeType": "image/png",
                                                    "buffer": image.getvalue()}])
        page.fill("#media_alt", "A map with the United States highlighted")
        page.click("form button[type=submit]:not(.secondary)")
        page.wait_for_load_state()
        assert "Saved" in page.content()
        schedule = (site.root / "schedule.toml").read_text()
        assert "infographics/uploads/map-" in schedule and "A map with the United States highlighted" in schedule
        assert not watch.drain()
    finally:
        page.context.close()


def test_revert_restores_the_file(site: Site, browser: Any) -> None:
    page = logged_in(browser, site)
    try:
        page.goto(f"{site.url}/admin/c/{SLUG}/pledge")
        page.fill("#goal", "777")
        page.click("button[value=save]")
        page.wait_for_url("**/pledge?saved=*")
        assert "goal = 777" in (site.root / "schedule.toml").read_text()
        page.goto(f"{site.url}/admin/c/{SLUG}/history")
        latest = page.locator("table.revisions tbody tr").first.locator("a")
        number = int(latest.inner_text().split()[-1])
        page.goto(f"{site.url}/admin/c/{SLUG}/history/{number - 1}")
        page.click("form.revert button")
        page.wait_for_url("**/history?reverted=*")
        assert "goal = 777" not in (site.root / "schedule.toml").read_text()
        assert f"Revert to revision {number - 1}" in page.content()
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_history_revision_and_pledge_pages_pass_axe(site: Site, browser: Any, lang: str,
                                                    size: tuple[int, int]) -> None:
    page = logged_in(browser, site, *size)
    watch = Watch()
    watch.attach(page)
    problems: list[str] = []
    try:
        for path in ("history", "history/1", "history/2", "pledge", "posts/show-support"):
            response = page.goto(f"{site.url}/admin/c/{SLUG}/{path}?lang={lang}")
            if path == "history/2" and response.status == 404:
                continue  # run alone, before any save: no second revision (its diff) to look at
            page.wait_for_load_state("networkidle")
            problems += [f"{path}: {p}" for p in lang_problems(page, lang) + watch.drain()]
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > size[0]:
                problems.append(f"{path}: scrollWidth {width} > {size[0]}")
            problems += [f"{path}: {p}" for p in axe_violations(page)]
            shot(page, f"{path.replace('/', '-')}-{lang}-{size[0]}")
    finally:
        page.context.close()
    assert not problems, "\n".join(problems)
