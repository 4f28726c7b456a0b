"""What partner sites and newsletters embed, and the icons: ``GET /c/{slug}/embed`` (a small live counter any site may
frame: ``web.middleware.headers_for`` gives it ``frame-ancestors *`` and no ``X-Frame-Options``), ``GET /c/{slug}/progress.svg``
(a progress badge for newsletters and READMEs, readable by any site), ``GET /c/{slug}/favicon.svg`` (the campaign's
colours: its first card's background and accent) and ``GET /favicon.svg`` / ``GET /favicon.ico`` (the site's).

Copy-paste snippets: docs/EMBED.md.
"""

from __future__ import annotations

import io
from functools import lru_cache
from html import escape

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from social_campaign.campaign.model import Campaign
from social_campaign.i18n import _, current, is_rtl, ngettext
from social_campaign.i18n.formatting import number, percent
from social_campaign.pledges.progress import Progress
from social_campaign.web import deps, meta
from social_campaign.web.routes.campaign import current_progress, page_context

router = APIRouter()
SITE_BACKGROUND, SITE_ACCENT = "#0a6ebd", "#ffd23f"
ICON_CACHE = {"cache-control": "public, max-age=86400"}
SVG_WIDTH, SVG_HEIGHT, SVG_PAD = 420, 76, 12
NAME_MAX = 40


@router.get("/c/{slug}/embed")
async def embed_page(request: Request, slug: str) -> Response:
    """The counter in a frame: name, bar, figures and a link that opens the campaign page in a new tab."""
    campaign = deps.campaign(request, slug)
    progress = await run_in_threadpool(current_progress, request, campaign)
    context = await run_in_threadpool(page_context, request, campaign, progress)
    return deps.render(request, "embed.html", context)  # type: ignore[no-any-return]


def _short(text: str, limit: int = NAME_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def progress_svg(campaign: Campaign, progress: Progress, lang: str) -> str:
    """The badge: the campaign's name, "N of M supporters · P%" and a bar, in ``lang`` (right to left for Arabic)."""
    rtl = is_rtl(lang)
    name = _short(meta.name_of(campaign, lang))
    figures = ngettext(
        "%(num)s of %(goal)s supporter", "%(num)s of %(goal)s supporters", progress.goal,
    ) % {"num": number(progress.confirmed, lang), "goal": number(progress.goal, lang)}
    share = percent(progress.percent / 100, lang)
    label = _("%(name)s: %(figures)s, %(percent)s") % {"name": name, "figures": figures, "percent": share}
    inner = SVG_WIDTH - 2 * SVG_PAD
    fill = round(inner * min(progress.confirmed, progress.goal) / progress.goal) if progress.goal else 0
    start = SVG_WIDTH - SVG_PAD if rtl else SVG_PAD
    end = SVG_PAD if rtl else SVG_WIDTH - SVG_PAD
    bar_x = SVG_WIDTH - SVG_PAD - fill if rtl else SVG_PAD
    direction = ' direction="rtl"' if rtl else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{SVG_HEIGHT}" '
        f'viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>"
        f'<rect width="{SVG_WIDTH}" height="{SVG_HEIGHT}" rx="8" fill="#ffffff" stroke="#c5ccd6"/>'
        f'<g font-family="system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, Noto Sans Arabic, sans-serif" '
        f'fill="#1d2330"{direction}>'
        f'<text x="{start}" y="28" font-size="15" font-weight="700" text-anchor="start">{escape(name)}</text>'
        f'<text x="{start}" y="64" font-size="13">{escape(figures)}</text>'
        f'<text x="{end}" y="64" font-size="13" font-weight="700" text-anchor="end">{escape(share)}</text>'
        f"</g>"
        f'<rect x="{SVG_PAD}" y="38" width="{inner}" height="10" rx="5" fill="#dfe6ee"/>'
        f'<rect x="{bar_x}" y="38" width="{fill}" height="10" rx="5" fill="{SITE_BACKGROUND}"/>'
        f"</svg>"
    )


@router.get("/c/{slug}/progress.svg")
async def progress_badge(request: Request, slug: str) -> Response:
    campaign = deps.campaign(request, slug)
    progress = await run_in_threadpool(current_progress, request, campaign)
    body = progress_svg(campaign, progress, current())
    age = max(60, round(deps.services(request).settings.progress_interval))
    return Response(body, media_type="image/svg+xml", headers={
        "cache-control": f"public, max-age={age}, stale-while-revalidate={age * 5}",
        "access-control-allow-origin": "*",
    })


def icon_svg(background: str, accent: str) -> str:
    """A rounded square in the background colour with a ring and a dot in the accent colour: legible at 16 px."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="14" fill="{background}"/>'
        f'<circle cx="32" cy="32" r="17" fill="none" stroke="{accent}" stroke-width="7"/>'
        f'<circle cx="32" cy="32" r="6" fill="{accent}"/>'
        "</svg>"
    )


@router.get("/c/{slug}/favicon.svg")
async def campaign_icon(request: Request, slug: str) -> Response:
    campaign = deps.campaign(request, slug)
    card = await run_in_threadpool(meta.hero_card, campaign, campaign.languages[0] if campaign.languages else "en")
    colours = (card.background, card.accent) if card else (SITE_BACKGROUND, SITE_ACCENT)
    return Response(icon_svg(*colours), media_type="image/svg+xml", headers=ICON_CACHE)


@router.get("/favicon.svg")
async def site_icon() -> Response:
    return Response(icon_svg(SITE_BACKGROUND, SITE_ACCENT), media_type="image/svg+xml", headers=ICON_CACHE)


@lru_cache(maxsize=1)
def _ico() -> bytes:
    from PIL import Image, ImageDraw

    size = 64
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=14, fill=SITE_BACKGROUND)
    draw.ellipse((15, 15, 49, 49), outline=SITE_ACCENT, width=7)
    draw.ellipse((26, 26, 38, 38), fill=SITE_ACCENT)
    out = io.BytesIO()
    image.save(out, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return out.getvalue()


@router.get("/favicon.ico")
async def site_icon_ico() -> Response:
    """For browsers and crawlers that ask for ``/favicon.ico`` whatever the page links."""
    return Response(_ico(), media_type="image/x-icon", headers=ICON_CACHE)
