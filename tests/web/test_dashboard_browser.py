"""The dashboard in Chromium: a seeded campaign on a real uvicorn, a manager logged in through /login; the page at
1280 and 390 wide, nothing sideways at 320, axe without violations (English and Arabic), and the live numbers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from social_campaign import db
from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.web.app import create_app
from tests.web.browser_support import AXE, Watch, axe_violations, lang_problems
from tests.web.conftest import BROWSER_MARKS, free_port, launch_chromium, live_server, make_campaign
from tests.web.workspace_support import PASSWORD, make_user
from tests.workspace.dashboard_seed import delivery, pledge, seed

pytestmark = [
    *BROWSER_MARKS,
    pytest.mark.skipif(not AXE.exists(), reason=f"axe-core is not installed ({AXE} missing): run `make node-deps`"),
]
SLUG = "childrens-day"
COUNTRIES = ["Kenya", "France", "Brazil", "India", "Lebanon", "Mexico", "Nigeria", "Peru", None]


@dataclass
class Dash:
    url: str
    engine: Engine
    email: str


def rich_history(engine: Engine, now: datetime) -> None:
    """The known seed plus a few weeks of pledges and a timeline of posts (a realistic page to look at)."""
    seed(engine, now=now)
    rng = random.Random(9)
    with session_scope(engine) as s:
        for day in range(20):
            for _ in range(rng.randint(2, 12)):
                s.add(pledge(SLUG, "confirmed", now - timedelta(days=day, hours=rng.randint(0, 20)), rng.choice(COUNTRIES)))
        states = ["sent"] * 6 + ["scheduled"] * 3 + ["failed", "cancelled"]
        for i in range(40):
            due = now + timedelta(hours=12 * (i - 20))
            s.add(delivery(SLUG, "scheduled" if due > now else rng.choice(states[:6] + states[9:]), due,
                           channel=rng.choice(["x", "facebook", "mastodon"])))


@contextmanager
def dashboard_site(data_dir: Path) -> Iterator[Dash]:
    port = free_port()
    settings = Settings(data_dir=data_dir, pledge_rate_limits="", public_url=f"http://127.0.0.1:{port}",
                        _env_file=None)
    engine = db.engine_for(settings)
    now = datetime.now(UTC)
    campaign = make_campaign(data_dir, goal=500, deadline=now + timedelta(days=12))
    rich_history(engine, now)
    make_user(engine, "editor@example.org", "editor")
    try:
        with live_server(create_app(settings, engine, campaigns=[campaign]), port) as url:
            yield Dash(url, engine, "editor@example.org")
    finally:
        engine.dispose()


def logged_in_page(browser: Any, dash: Dash, width: int, height: int) -> Any:
    phone = width < 600
    ctx = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone,
                              timezone_id="Asia/Tokyo")
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    page.goto(f"{dash.url}/login?next=/admin/c/{SLUG}")
    page.fill("#email", dash.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/admin/c/{SLUG}")
    return page


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dash]:
    with dashboard_site(tmp_path_factory.mktemp("dash") / "data") as d:
        yield d


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        try:
            yield b
        finally:
            b.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("size", [(1280, 800), (390, 844), (320, 640)])
def test_the_dashboard_fits_and_passes_axe(dash: Dash, browser: Any, lang: str, size: tuple[int, int]) -> None:
    page = logged_in_page(browser, dash, *size)
    watch = Watch()
    watch.attach(page)
    try:
        page.goto(f"{dash.url}/admin/c/{SLUG}?lang={lang}")
        problems = lang_problems(page, lang) + watch.drain()
        page.wait_for_function("() => !document.querySelector('time.when + .utc + .local').hidden")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > size[0]:
            problems.append(f"scrollWidth {width} > {size[0]}")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        problems += axe_violations(page)
    finally:
        page.context.close()
    assert not problems, "\n".join(problems)


def test_the_numbers_update_while_the_page_is_open(dash: Dash, browser: Any) -> None:
    page = logged_in_page(browser, dash, 1280, 800)
    try:
        confirmed = page.locator('[data-live-key="confirmed"]')
        before = int(confirmed.inner_text().replace(",", ""))
        pledged = int(page.locator('[data-live-key="funnel.pledged"]').inner_text().replace(",", ""))
        with session_scope(dash.engine) as s:
            s.add(pledge(SLUG, "confirmed", datetime.now(UTC), "Chile"))
        page.wait_for_function(
            "n => document.querySelector('[data-live-key=\"confirmed\"]').textContent.replace(/,/g, '') === String(n)",
            arg=before + 1, timeout=15_000,
        )
        assert int(page.locator('[data-live-key="funnel.pledged"]').inner_text().replace(",", "")) == pledged + 1
        assert "Numbers updated at" in page.locator("#live-note").inner_text()
    finally:
        page.context.close()
