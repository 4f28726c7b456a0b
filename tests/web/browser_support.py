"""Helpers for the public-page browser tests: the shipped campaign on a live server, axe-core inside the page, a
pledge made and confirmed through the pages, and the checks every page gets (language, no console/CSP errors).

axe-core comes from npm (``make node-deps``: ``node_modules/axe-core``). The pages' CSP allows only same-origin
scripts, so axe is evaluated through the DevTools protocol (``page.evaluate``), which a CSP does not govern: the
pages are tested under their real CSP, and any CSP violation they cause is reported too.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign import db
from social_campaign.campaign.loader import load_campaign
from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.models import Pledge
from social_campaign.pledges import tokens
from social_campaign.web.app import create_app
from tests.conftest import ROOT
from tests.web.conftest import free_port, live_server

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
#: Rules: axe's defaults (WCAG 2.0/2.1 A and AA plus best practices); every violation fails.
AXE_RUN = "async () => await axe.run(document, {resultTypes: ['violations']})"


@dataclass
class Site:
    """The shipped campaign served by a real uvicorn; ``url`` is its base."""

    url: str
    settings: Settings
    engine: Engine
    campaign: Campaign

    @property
    def slug(self) -> str:
        return self.campaign.slug

    def pledge(self, email: str) -> Pledge | None:
        with Session(self.engine) as s:
            return s.exec(select(Pledge).where(Pledge.campaign == self.slug, Pledge.email == email)).first()

    def links(self, email: str) -> dict[str, str]:
        """The supporter's personal paths (as their emails give them), from the pledge stored for ``email``."""
        pledge = self.pledge(email)
        assert pledge is not None and pledge.share_token, f"no pledge stored for {email}"
        key, share = self.settings.key, pledge.share_token
        c = f"/c/{self.slug}"
        withdraw = tokens.withdraw_token(key, share)
        return {
            "confirm": f"{c}/confirm/{tokens.confirm_token(key, share)}", "share": f"{c}/share/{share}",
            "me": f"{c}/me/{withdraw}", "withdraw": f"{c}/withdraw/{withdraw}",
        }


@contextmanager
def shipped_site(data_dir: Path) -> Iterator[Site]:
    port = free_port()
    settings = Settings(
        data_dir=data_dir, pledge_rate_limits="", public_url=f"http://127.0.0.1:{port}", _env_file=None
    )
    engine = db.engine_for(settings)
    campaign = load_campaign(ROOT / "schedule.toml")
    app = create_app(settings, engine, campaigns=[campaign])
    try:
        with live_server(app, port) as url:
            yield Site(url, settings, engine, campaign)
    finally:
        engine.dispose()


@dataclass
class Watch:
    """What went wrong in a page besides its markup: console errors (CSP violations among them), uncaught script
    errors, failed subresources. :meth:`drain` hands them over and starts afresh."""

    items: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.add(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.add(f"script error: {e}"))
        page.on(
            "response",
            lambda r: self.add(f"{r.status} for {r.url}")
            if r.status >= 400 and r.request.resource_type != "document" else None,
        )

    def add(self, text: str) -> None:
        if "404 (Not Found)" in text:  # the console echo of a document 404 (the error page itself) is expected
            return
        with self.lock:
            self.items.append(text)

    def drain(self) -> list[str]:
        with self.lock:
            out, self.items = self.items, []
        return out


def axe_violations(page: Any) -> list[str]:
    """axe-core's violations on the page as it is now, one readable line per violation (with up to 3 elements)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(AXE_RUN)
    lines = []
    for v in result["violations"]:
        nodes = "; ".join(
            f"{' '.join(map(str, n['target']))} ({(n.get('failureSummary') or '').splitlines()[-1].strip()})"
            for n in v["nodes"][:3]
        )
        more = f" and {len(v['nodes']) - 3} more" if len(v["nodes"]) > 3 else ""
        lines.append(f"axe {v['id']} [{v['impact']}] {v['help']}: {nodes}{more}")
    return lines


def lang_problems(page: Any, lang: str) -> list[str]:
    got = page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
    want = [lang, "rtl" if lang == "ar" else "ltr"]
    return [] if got == want else [f'<html lang dir> is {json.dumps(got)}, expected {json.dumps(want)}']


#: The first pledge call to action on screen: a visible `.cta`, `.pin-cta` or the form, its top (first 48 px) inside
#: the viewport before any scrolling.
FIRST_SCREEN_CTA = """() => {
  window.scrollTo(0, 0);
  const h = window.innerHeight, w = window.innerWidth;
  const found = [...document.querySelectorAll('.cta, .pin-cta, #pledge-form')].filter(e => {
    const r = e.getBoundingClientRect();
    const seen = e.checkVisibility({opacityProperty: true, visibilityProperty: true});
    return seen && r.width > 0 && r.top >= 0 && r.top + Math.min(r.height, 48) <= h && r.left < w && r.right > 0;
  });
  return found.map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.'));
}"""

#: Where the header's first line of text sits: its gap to the header's left and right content edges, in px.
HEADER_TEXT_GAPS = """() => {
  const header = document.querySelector('body header') || document.body;
  const walker = document.createTreeWalker(header, NodeFilter.SHOW_TEXT,
    {acceptNode: n => n.textContent.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT});
  const text = walker.nextNode();
  if (!text) return null;
  const range = document.createRange();
  range.selectNodeContents(text);
  const line = range.getClientRects()[0];
  const box = header.getBoundingClientRect();
  return {left: line.left - box.left, right: box.right - line.right, text: text.textContent.trim().slice(0, 40)};
}"""
