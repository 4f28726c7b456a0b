"""Every public page in headless Chromium, in every shipped language, at 390x844 and 1280x800, on the shipped campaign
served by a real uvicorn: axe-core finds no violation, the page is in the language asked for, no console or CSP
error; the pledge call to action is on the first screen; nothing scrolls sideways at 320 px; pledging works with the
keyboard alone; Arabic is right to left; the badge maker works with the keyboard and says when a file is no image.

One browser for the module, one context per size; each page state is checked where a supporter meets it: the
campaign page, the thanks page (after a pledge through the form), the confirm page (GET, after the POST, and a second
visit), the share page, the Mastodon server question, the supporter's page (me), the withdraw page, the badge maker
(empty and with a photo), the cards, the embeddable counter and an error page (404).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from social_campaign.i18n import SHIPPED
from tests.web.browser_support import (
    AXE,
    FIRST_SCREEN_CTA,
    HEADER_TEXT_GAPS,
    SIZES,
    Site,
    Watch,
    axe_violations,
    lang_problems,
    shipped_site,
)
from tests.web.conftest import BROWSER_MARKS, launch_chromium

pytestmark = [
    *BROWSER_MARKS,
    pytest.mark.skipif(not AXE.exists(), reason=f"axe-core is not installed ({AXE} missing): run `make node-deps`"),
]
LANGS = SHIPPED
_serial = itertools.count(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with shipped_site(tmp_path_factory.mktemp("public") / "data") as s:
        yield s


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "me.png"
    Image.radial_gradient("L").resize((900, 600)).convert("RGB").save(path)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        try:
            yield b
        finally:
            b.close()  # type: ignore[attr-defined]


def _context(browser: Any, width: int, height: int) -> Any:
    phone = width < 600
    ctx = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone,
        timezone_id="Europe/Berlin", accept_downloads=True,
    )
    ctx.set_default_timeout(10_000)
    return ctx


@pytest.fixture(scope="module")
def contexts(browser: Any) -> Iterator[dict[str, Any]]:
    made = {name: _context(browser, w, h) for name, (w, h) in {**SIZES, "narrow": (320, 640)}.items()}
    yield made
    for ctx in made.values():
        ctx.close()


@pytest.fixture
def page(contexts: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[Any]:
    size = getattr(request, "param", "desktop")
    p = contexts[size].new_page()
    yield p
    p.close()


def _email(tag: str) -> str:
    return f"supporter-{tag}-{next(_serial)}@example.org"


def _goto(page: Any, url: str, want: int = 200) -> list[str]:
    response = page.goto(url)
    status = response.status if response else 0
    return [] if status == want else [f"GET {url} answered {status}, expected {want}"]


def _pledge_through_form(page: Any, email: str) -> list[str]:
    form = page.locator("form#pledge-form")
    form.locator("#name").fill("Amina Yusuf")
    form.locator("#email").fill(email)
    form.locator("#consent").check()
    with page.expect_navigation() as nav:
        form.locator("[type=submit]").first.click()
    status = nav.value.status if nav.value else 0
    return [] if status == 200 else [f"the pledge POST answered {status}"]


def _attempt(what: str, action: Callable[[], list[str] | None]) -> list[str]:
    """Runs one step of a walk; a step that cannot be done (an element missing, no navigation) becomes a problem
    instead of ending the walk, so one run reports every page."""
    from playwright.sync_api import Error

    try:
        return action() or []
    except (Error, AssertionError) as exc:
        return [f"{what}: {str(exc).splitlines()[0]}"]


def walk(site: Site, page: Any, lang: str, photo: Path, visit: Callable[[str], None]) -> list[str]:
    """Every public page state once, in ``lang``, calling ``visit(label)`` on each; returns the steps that failed
    (a wrong status code, an element that is not there)."""
    q = f"?lang={lang}"
    base, slug = site.url, site.slug
    email = _email(lang)
    bad = _goto(page, f"{base}/c/{slug}{q}")
    visit("campaign")
    bad += _attempt(f"pledging through form#pledge-form [{lang}]", lambda: _pledge_through_form(page, email))
    visit("thanks")
    if site.pledge(email) is None:
        return [*bad, f"no pledge was stored [{lang}]: the confirm, share, me and withdraw pages were not checked"]
    links = site.links(email)
    bad += _goto(page, f"{base}{links['confirm']}{q}")
    visit("confirm")

    def press_confirm() -> None:
        with page.expect_navigation():
            page.locator(f"form[action^='/c/{slug}/confirm/'] [type=submit]").first.click()

    bad += _attempt(f"pressing the confirm button [{lang}]", press_confirm)
    visit("confirm, after the POST")
    bad += _goto(page, f"{base}{links['confirm']}{q}")
    visit("confirm, second visit")
    for name in ("share", "me", "withdraw"):
        bad += _goto(page, f"{base}{links[name]}{q}")
        visit(name)
    go = links["share"].replace("/share/", "/go/")
    bad += _goto(page, f"{base}{go}/mastodon{q}&server=social.example.org")  # a server the page does not list
    visit("Mastodon server to confirm")
    bad += _goto(page, f"{base}/c/{slug}/badge{q}")
    visit("badge")

    def choose_photo() -> None:
        page.set_input_files("input#photo", str(photo))
        page.locator("#badge-download").wait_for(state="visible")

    bad += _attempt(f"choosing a photo in the badge maker [{lang}]", choose_photo)
    visit("badge, photo chosen")
    bad += _goto(page, f"{base}/c/{slug}/cards{q}")
    visit("cards")
    bad += _goto(page, f"{base}/c/{slug}/embed{q}")
    visit("embed")
    bad += _goto(page, f"{base}/c/{slug}/no-such-page{q}", want=404)
    visit("error (404)")
    return bad


@pytest.mark.parametrize("page", list(SIZES), indirect=True)
@pytest.mark.parametrize("lang", LANGS)
def test_every_page_passes_axe(site: Site, page: Any, lang: str, photo: Path, request: pytest.FixtureRequest) -> None:
    size = request.node.callspec.params["page"]
    watch = Watch()
    watch.attach(page)
    problems: list[str] = []

    def visit(label: str) -> None:
        found = lang_problems(page, lang) + axe_violations(page) + watch.drain()
        if label == "campaign":
            if not page.evaluate(FIRST_SCREEN_CTA):
                found.append("no pledge call to action (.cta, .pin-cta or #pledge-form) on the first screen")
            if len(site.campaign.languages) > 1 and page.locator("nav.langs a").count() < len(site.campaign.languages) - 1:
                found.append("nav.langs does not link to every other language of the campaign")
        problems.extend(f"{label} [{lang}, {size}]: {p}" for p in found)

    problems[:0] = walk(site, page, lang, photo, visit)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_nothing_scrolls_sideways_at_320px(site: Site, contexts: dict[str, Any], lang: str, photo: Path) -> None:
    page = contexts["narrow"].new_page()
    wide: list[str] = []

    def visit(label: str) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            wide.append(f"{label} [{lang}]: scrollWidth {width} > 320")

    try:
        bad = walk(site, page, lang, photo, visit)
    finally:
        page.close()
    assert not wide + bad, "\n".join(wide + bad)


@pytest.mark.parametrize("page", list(SIZES), indirect=True)
def test_keyboard_only_pledging(site: Site, page: Any) -> None:
    """Tab through the page from the top; type into name and email, Space on the consent box, Enter on the submit
    button of the pledge form. No mouse."""
    email = _email("keyboard")
    page.goto(f"{site.url}/c/{site.slug}?lang=en")
    steps = []
    for _ in range(80):
        page.keyboard.press("Tab")
        el = page.evaluate(
            "(() => { const e = document.activeElement;"
            " return {id: e.id, tag: e.tagName, type: e.type || '', form: e.form ? e.form.id : ''}; })()"
        )
        steps.append(el["id"] or el["tag"])
        if el["form"] != "pledge-form":
            continue
        if el["id"] == "name":
            page.keyboard.type("Keyboard Supporter")
        elif el["id"] == "email":
            page.keyboard.type(email)
        elif el["id"] == "consent":
            page.keyboard.press("Space")
        elif el["type"] == "submit":
            with page.expect_navigation() as nav:
                page.keyboard.press("Enter")
            assert nav.value is not None and nav.value.status == 200, nav.value and nav.value.text()
            break
    else:
        pytest.fail(f"Tab never reached the pledge form's submit button; focus went through {steps}")
    assert urlsplit(page.url).path == f"/c/{site.slug}/pledge", page.url
    stored = site.pledge(email)
    assert stored is not None and stored.name == "Keyboard Supporter"


@pytest.mark.parametrize("page", list(SIZES), indirect=True)
def test_arabic_is_right_to_left(site: Site, page: Any) -> None:
    page.goto(f"{site.url}/c/{site.slug}?lang=ar")
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    ar = page.evaluate(HEADER_TEXT_GAPS)
    page.goto(f"{site.url}/c/{site.slug}?lang=en")
    assert page.evaluate("getComputedStyle(document.body).direction") == "ltr"
    en = page.evaluate(HEADER_TEXT_GAPS)
    assert ar and en
    assert ar["right"] < ar["left"], f"Arabic header text does not start at the right: {ar}"
    assert en["left"] < en["right"], f"English header text does not start at the left: {en}"
    assert abs(ar["right"] - en["left"]) <= 2, f"the header's start padding is not mirrored: {ar} vs {en}"


@pytest.mark.parametrize("page", list(SIZES), indirect=True)
def test_badge_maker_with_the_keyboard(site: Site, page: Any, photo: Path) -> None:
    page.goto(f"{site.url}/c/{site.slug}/badge?lang=en")
    assert page.locator("#badge-download").is_hidden(), "the Download button shows before any photo"
    for _ in range(40):  # the photo chooser is reachable with Tab
        page.keyboard.press("Tab")
        if page.evaluate("['photo', 'badge-drop'].includes(document.activeElement.id)"):
            break
    else:
        pytest.fail("Tab never reached the photo chooser (#photo or #badge-drop)")

    page.set_input_files("input#photo", {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture"})
    error = page.locator("#photo-error")
    error.wait_for(state="visible")
    assert error.inner_text().strip(), "#photo-error is empty"
    assert page.locator("#badge-download").is_hidden()

    page.set_input_files("input#photo", str(photo))
    page.locator("#badge-download").wait_for(state="visible")
    assert error.is_hidden(), "the error stays after a good photo"
    page.locator("#zoom").fill("2")  # zoomed in, the crop has room to move
    x0 = page.input_value("input[name=x]")
    page.evaluate("document.activeElement.blur()")
    moved = False
    for _ in range(40):  # Tab from the top to what moves the photo, then the arrow keys
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type === 'range'"):
            continue  # the zoom slider takes arrows for itself
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")
        if page.input_value("input[name=x]") != x0:
            moved = True
            break
    assert moved, "no element reached with Tab moves the photo with the arrow keys (the hidden x never changed)"


def test_axe_is_live(page: Any) -> None:
    """The checker itself: axe runs inside a page and reports what it finds."""
    page.set_content('<!doctype html><html><head><title>t</title></head><body><main><img src="x.png"></main></body></html>')
    assert any(v.startswith("axe image-alt ") for v in axe_violations(page)), axe_violations(page)
