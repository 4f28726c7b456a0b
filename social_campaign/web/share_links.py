"""Links that share THE CAMPAIGN PAGE (``settings.public_url`` + ``/c/{slug}``), for everyone: the thanks and confirm
pages, and the campaign page once it is released (``templates/_share_campaign.html`` renders them as buttons).

They differ from a supporter's own share page (``pledges/share.py``, ``/c/{slug}/share/{token}``): no token, no click
counting, and the text is a short invitation in the page's language rather than the supporter's pledge message.

* X: the web intent (``text``, ``url`` and ``hashtags`` without their ``#``).
* Facebook: with ``settings.facebook_app_id`` the documented Share dialog
  (``https://www.facebook.com/dialog/share?app_id=…&display=page&href=…``), else the ``sharer.php`` link; either way
  the shared page is ours, whose link-preview tags make the card.
* Bluesky: the compose intent with the text, the hashtags and the link.
* Mastodon: there is no one server, so the link opens mastodon.social's share form (people on another server copy
  the link shown under the buttons; a supporter's own share page lets them name any server).
* The badge maker (when the campaign has a ``[badge]``) and the cards (when it has ``infographics/*.toml`` specs).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.i18n import _, current
from social_campaign.pledges.share import campaign_link, facebook_url

MASTODON_SERVER = "mastodon.social"


@dataclass(frozen=True)
class ShareLink:
    """One share button: ``network`` (x, facebook, bluesky, mastodon, badge, cards; also its CSS class), the
    button's ``label`` (translated) and the absolute ``url`` it opens."""

    network: str
    label: str
    url: str


def invitation(campaign: Campaign, lang: str | None = None) -> str:
    """The short text that goes with the link, in the active language."""
    return _("I support %(campaign)s. Add your name too:") % {"campaign": campaign.name_in(lang or current())}


def _tags(campaign: Campaign) -> list[str]:
    return [tag.lstrip("#") for tag in campaign.hashtags if tag.lstrip("#")]


def has_cards(campaign: Campaign) -> bool:
    folder = campaign.root / "infographics"
    return folder.is_dir() and any(folder.glob("*.toml"))


def campaign_share_links(campaign: Campaign, settings: Settings, lang: str | None = None) -> list[ShareLink]:
    """Every way to share the campaign page, in button order, labelled in the active language (``lang`` picks the
    campaign's name in that language; the labels follow the request's language)."""
    page = campaign_link(settings, campaign)
    text = invitation(campaign, lang)
    tags = _tags(campaign)
    hashtags = " ".join(f"#{t}" for t in tags)
    with_tags = f"{text} {hashtags}".strip() if hashtags else text
    x_query = {"text": text, "url": page, **({"hashtags": ",".join(tags)} if tags else {})}
    links = [
        ShareLink("x", _("Post on X"), f"https://x.com/intent/tweet?{urlencode(x_query, quote_via=quote)}"),
        ShareLink("facebook", _("Share on Facebook"), facebook_url(settings, campaign)),
        ShareLink("bluesky", _("Post on Bluesky"),
                  f"https://bsky.app/intent/compose?text={quote(f'{with_tags} {page}', safe='')}"),
        ShareLink("mastodon", _("Post on Mastodon"),
                  f"https://{MASTODON_SERVER}/share?text={quote(f'{with_tags} {page}', safe='')}"),
    ]
    if campaign.badge is not None:
        links.append(ShareLink("badge", _("Make your profile badge"), f"{page}/badge"))
    if has_cards(campaign):
        links.append(ShareLink("cards", _("Download the campaign's cards"), f"{page}/cards"))
    return links
