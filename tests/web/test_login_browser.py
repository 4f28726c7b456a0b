"""The workspace's login pages in Chromium: logging in with and without TOTP (the code computed with pyotp), and
axe-core finding no violation on the login, TOTP, account, users and audit pages in every shipped language; nothing
scrolls sideways at 320 px."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from social_campaign import audit
from social_campaign.db import session_scope
from social_campaign.i18n import SHIPPED
from tests.web.browser_support import AXE, Site, Watch, axe_violations, lang_problems, shipped_site
from tests.web.conftest import BROWSER_MARKS, launch_chromium
from tests.web.workspace_support import PASSWORD, make_user, totp_secret

pytestmark = [
    *BROWSER_MARKS,
    pytest.mark.skipif(not AXE.exists(), reason=f"axe-core is not installed ({AXE} missing): run `make node-deps`"),
]
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with shipped_site(tmp_path_factory.mktemp("workspace") / "data") as s:
        make_user(s.engine, "owner@example.org", "owner")
        with session_scope(s.engine) as x:
            audit.record(x, actor="owner@example.org", action="post.edit", campaign=s.slug, target="post:launch",
                         details={"diff": '--- a/schedule.toml\n+++ b/schedule.toml\n-at = "09:00"\n+at = "10:00"\n'})
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


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(10_000)
    p = ctx.new_page()
    yield p
    ctx.close()


def _log_in(page: Any, site: Site, email: str, lang: str = "en") -> None:
    page.goto(f"{site.url}/login?lang={lang}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click(".login-form button[type=submit]")


def _check(page: Any, lang: str, watch: Watch, label: str) -> list[str]:
    """What is wrong with the page. The console's echo of a document's 401 (the wrong-password answer, reported
    whenever it arrives) is expected; a sub-resource's 401 still shows as ``401 for <url>``."""
    seen = [w for w in watch.drain() if not (w.startswith("console error:") and "status of 401 " in w)]
    return [f"{label}: {p}" for p in lang_problems(page, lang) + axe_violations(page) + seen]


def test_log_in_without_totp(site: Site, page: Any) -> None:
    _log_in(page, site, "owner@example.org")
    page.wait_for_url(f"{site.url}/admin")
    assert page.locator("header .me").inner_text() == "owner@example.org"
    page.click("header form.logout button")
    page.wait_for_url(f"{site.url}/login")
    page.goto(f"{site.url}/admin/users")
    assert page.url.startswith(f"{site.url}/login?next=/admin/users")


def test_log_in_with_totp(site: Site, page: Any) -> None:
    user = make_user(site.engine, "second@example.org", "editor", totp=True, key=site.settings.key)
    _log_in(page, site, "second@example.org")
    page.wait_for_url(f"{site.url}/login/totp?next=/admin")
    page.fill("#code", pyotp.TOTP(totp_secret(user, site.settings.key)).now())
    page.click(".login-form button[type=submit]")
    page.wait_for_url(f"{site.url}/admin")
    assert page.locator("header .me").inner_text() == "second@example.org"


@pytest.mark.parametrize("lang", SHIPPED)
def test_the_pages_pass_axe_in_every_language(site: Site, page: Any, lang: str) -> None:
    watch = Watch()
    watch.attach(page)
    found: list[str] = []
    page.goto(f"{site.url}/login?lang={lang}")
    found += _check(page, lang, watch, "login")
    page.fill("#password", "wrong password")
    page.fill("#email", "nobody@example.org")
    page.click(".login-form button[type=submit]")
    found += _check(page, lang, watch, "login with an error")
    page.goto(f"{site.url}/login/forgot?lang={lang}")
    found += _check(page, lang, watch, "forgot")
    email = f"totp-{lang}@example.org"
    user = make_user(site.engine, email, "owner", totp=True, key=site.settings.key)
    _log_in(page, site, email, lang)
    page.wait_for_url(f"{site.url}/login/totp?next=/admin")
    found += _check(page, lang, watch, "totp")
    page.fill("#code", pyotp.TOTP(totp_secret(user, site.settings.key)).now())
    page.click(".login-form button[type=submit]")
    page.wait_for_url(f"{site.url}/admin")
    watch.drain()
    for path in ("/account", "/admin/users", "/admin/audit"):
        page.goto(f"{site.url}{path}")
        found += _check(page, lang, watch, path)
    assert not found, "\n".join(found)


def test_account_page_with_the_qr_code_passes_axe(site: Site, page: Any) -> None:
    make_user(site.engine, "fresh@example.org", "viewer")
    _log_in(page, site, "fresh@example.org", "ar")
    page.wait_for_url(f"{site.url}/admin")
    page.goto(f"{site.url}/account")
    assert page.locator("img.qr").evaluate("img => img.naturalWidth") > 0
    watch = Watch()
    watch.attach(page)
    page.reload()
    assert not _check(page, "ar", watch, "account")


def test_nothing_scrolls_sideways_at_320px(site: Site, browser: Any, tmp_path: Path) -> None:
    ctx = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    try:
        wide: list[str] = []
        page.goto(f"{site.url}/login?lang=fr")
        wide += [f"/login: {page.evaluate(SIDEWAYS)} px"] if page.evaluate(SIDEWAYS) > 0 else []
        _log_in(page, site, "owner@example.org", "fr")
        page.wait_for_url(f"{site.url}/admin")
        for path in ("/account", "/admin/users", "/admin/audit"):
            page.goto(f"{site.url}{path}")
            extra = page.evaluate(SIDEWAYS)
            wide += [f"{path}: {extra} px"] if extra > 0 else []
        assert not wide, wide
    finally:
        ctx.close()
