"""The post editor in Chromium: log in, edit a post's text and time, save, see schedule.toml change with its comments
kept; a conflicting edit on disk gives 409 with the difference; axe-core finds no violation on the list and edit
pages (English and Arabic, phone and desktop). Set ``EDITOR_SHOTS=<folder>`` to keep screenshots."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from social_campaign import db
from social_campaign.config import Settings
from social_campaign.web.app import create_app
from tests.web.browser_support import AXE, SIZES, Watch, axe_violations
from tests.web.conftest import BROWSER_MARKS, free_port, launch_chromium, live_server
from tests.web.workspace_support import PASSWORD, make_user
from tests.workspace.support import campaign_at, copy_shipped

pytestmark = [
    *BROWSER_MARKS,
    pytest.mark.skipif(not AXE.exists(), reason=f"axe-core is not installed ({AXE} missing): run `make node-deps`"),
]
EMAIL = "editor@example.org"
POSTS = "/admin/c/childrens-day/posts"
EDIT = f"{POSTS}/show-support"


@dataclass
class Editor:
    url: str
    root: Path
    engine: Engine


@pytest.fixture
def editor_site(tmp_path: Path) -> Iterator[Editor]:
    root = copy_shipped(tmp_path / "campaign")
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", pledge_rate_limits="",
                        public_url=f"http://127.0.0.1:{port}", _env_file=None)
    engine = db.engine_for(settings)
    make_user(engine, EMAIL, "editor")
    app = create_app(settings, engine, campaigns=[campaign_at(root)])
    try:
        with live_server(app, port) as url:
            yield Editor(url, root, engine)
    finally:
        engine.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        chromium: Any = launch_chromium(p)
        yield chromium
        chromium.close()


def _logged_in(browser: Any, site: Editor, size: str = "desktop") -> tuple[Any, Any, Watch]:
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watch = Watch()
    watch.attach(page)
    page.goto(f"{site.url}/login?next={POSTS}")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("form.login-form button[type=submit], main form button[type=submit]")
    page.wait_for_url(f"**{POSTS}")
    return context, page, watch


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("EDITOR_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_edit_text_and_time_save_and_see_the_file_change(browser: Any, editor_site: Editor) -> None:
    schedule = editor_site.root / "schedule.toml"
    before = schedule.read_text()
    context, page, watch = _logged_in(browser, editor_site)
    page.click(f'a[href="{EDIT}"] >> nth=0')
    page.wait_for_url(f"**{EDIT}")
    page.fill("#message", "Stand with children on #ChildrensDay {link}")
    page.fill("#at", "2027-11-16T11:45")
    page.click("form.post-form button[type=submit]")
    page.wait_for_url(f"**{EDIT}?saved=*")
    assert page.locator("p.notice").inner_text().startswith("Saved as revision")
    assert page.input_value("#message") == "Stand with children on #ChildrensDay {link}"
    assert page.input_value("#at") == "2027-11-16T11:45"
    after = schedule.read_text()
    changed = [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-at = 2027-11-16T10:00:00", "+at = 2027-11-16T11:45:00"]
    assert after.count("#") == before.count("#")  # every comment kept
    assert (editor_site.root / "messages/show-support.md").read_text() == "Stand with children on #ChildrensDay {link}\n"
    assert watch.drain() == []
    context.close()


def test_a_conflicting_edit_on_disk_gives_409_and_writes_nothing(browser: Any, editor_site: Editor) -> None:
    context, page, _watch = _logged_in(browser, editor_site)
    page.goto(f"{editor_site.url}{EDIT}")
    message = editor_site.root / "messages/show-support.md"
    message.write_text("Pushed to git meanwhile #childrights {link}\n")
    page.fill("#message", "My browser edit {link}")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("form.post-form button[type=submit]")
    assert answer.value.status == 409
    page.wait_for_load_state()
    assert "+Pushed to git meanwhile" in page.locator("pre.diff").inner_text()
    assert message.read_text() == "Pushed to git meanwhile #childrights {link}\n"
    assert axe_violations(page) == []
    _shot(page, "conflict-desktop-en")
    context.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_axe_finds_nothing_on_the_list_and_edit_pages(browser: Any, editor_site: Editor, lang: str, size: str) -> None:
    context, page, watch = _logged_in(browser, editor_site, size)
    for name, path in (("list", POSTS), ("edit", EDIT)):
        page.goto(f"{editor_site.url}{path}?lang={lang}")
        assert page.evaluate("document.documentElement.lang") == lang
        assert axe_violations(page) == [], (name, lang, size)
        assert _no_horizontal_scroll(page), (name, lang, size)
        _shot(page, f"{name}-{size}-{lang}")
    page.goto(f"{editor_site.url}{EDIT}?lang={lang}")
    page.fill("#message", "word " * 80)
    page.fill("#at", "2027-03-14T02:30")
    page.click("form.post-form button[type=submit]")
    page.wait_for_load_state()
    assert page.get_attribute("#at", "aria-invalid") == "true"
    assert page.get_attribute("#message", "aria-invalid") == "true"
    assert axe_violations(page) == []
    assert _no_horizontal_scroll(page)
    _shot(page, f"errors-{size}-{lang}")
    assert [w for w in watch.drain() if "admin-editor.js" not in w and "status of 400" not in w] == []  # the page is the 400
    context.close()
