"""The campaign's infographic cards for supporters: ``GET /c/{slug}/cards`` (every card in every size, with alt text)
and ``GET /c/{slug}/cards/{name}/{target}.png`` (the image, rendered once into ``DATA_DIR/cards`` and cached by
content hash, so an edited spec is re-rendered and an unchanged one never is).

The cards are the campaign's ``infographics/*.toml`` specs (see docs/GRAPHICS.md); a spec that does not load is left
off the page rather than breaking it (``check`` reports it to the manager). The page shows each card once, in the page
language when a translated spec ``<name>.<lang>.toml`` exists (``campaign.languages.card_spec_for``); a translated
card's address names its file (``/c/{slug}/cards/<name>.<lang>/x.png``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from social_campaign.campaign.languages import card_spec_for, spec_translation_of
from social_campaign.campaign.model import Campaign
from social_campaign.errors import NotFound, SocialCampaignError
from social_campaign.graphics.cards import TARGETS, CardSpec, render_cached
from social_campaign.graphics.specs import load_spec
from social_campaign.i18n import N_, SHIPPED, _, current
from social_campaign.web import deps

router = APIRouter()
LABELS = {
    "x": N_("For a post on X"), "facebook": N_("For a post on Facebook"), "square": N_("Square, for Instagram"),
    "portrait": N_("Portrait, for Instagram"),
}


def campaign_cards(campaign: Campaign, name: str | None = None) -> list[CardSpec]:
    """The campaign's cards: every spec in its ``infographics/`` folder that loads (only ``name``'s, when given)."""
    specs = []
    for path in sorted((campaign.root / "infographics").glob("*.toml")):
        if name is not None and path.stem != name:
            continue
        try:
            specs.append(load_spec(path))
        except SocialCampaignError:
            continue
    return specs


def page_cards(campaign: Campaign, lang: str) -> list[tuple[str, CardSpec]]:
    """Each card once, as ``(address name, spec)``: its ``lang`` translation when there is one, else the original."""
    found: list[tuple[str, CardSpec]] = []
    languages = (*campaign.languages, *SHIPPED)
    for path in sorted((campaign.root / "infographics").glob("*.toml")):
        if spec_translation_of(path, languages) is not None:
            continue
        for candidate in dict.fromkeys((card_spec_for(path, lang), path)):
            try:
                found.append((candidate.stem, load_spec(candidate)))
            except SocialCampaignError:
                continue
            break
    return found


@router.get("/c/{slug}/cards")
def cards_page(request: Request, slug: str) -> object:
    campaign = deps.campaign(request, slug)
    cards = [
        {"name": name, "alt": spec.alt_text, "sizes": [(t, _(LABELS[t]), *TARGETS[t]) for t in TARGETS]}
        for name, spec in page_cards(campaign, current())
    ]
    return deps.render(request, "cards.html", {"campaign": campaign, "cards": cards})


@router.get("/c/{slug}/cards/{name}/{target}.png")
async def card_image(request: Request, slug: str, name: str, target: str, download: bool = False) -> FileResponse:
    campaign = deps.campaign(request, slug)
    if target not in TARGETS:
        raise NotFound(_("There is no card size %(size)s. The sizes are: %(sizes)s.")
                       % {"size": target[:40], "sizes": ", ".join(TARGETS)})
    found = campaign_cards(campaign, name)
    if not found:
        raise NotFound(_("There is no card named %(name)s in this campaign.") % {"name": name[:80]})
    spec = found[0]
    out_dir: Path = deps.services(request).settings.data_dir / "cards"
    path, _alt = await run_in_threadpool(render_cached, spec, target, out_dir)
    headers = {"Cache-Control": "public, max-age=3600"}
    filename = f"{campaign.slug}-{spec.name}-{target}.png"
    return FileResponse(
        path, media_type="image/png", headers=headers, filename=filename if download else None,
        content_disposition_type="attachment" if download else "inline",
    )
