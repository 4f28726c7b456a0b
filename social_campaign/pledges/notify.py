"""The emails pledge intake queues: the confirmation (double opt-in) and, for an address already counted, a reminder.

Rendering is ``social_campaign.mail.render`` (plain text + HTML, ``List-Unsubscribe`` to the withdraw link). Links are
built from ``settings.public_url`` by :func:`links_for` (the release emails use it too, for the withdraw link). Emails
are only built here and queued by ``pledges.intake`` (``mail.queue.enqueue_many``, which caps emails per address); the mail worker sends them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.mail import render, skeleton
from social_campaign.models import PledgeStatus
from social_campaign.pledges import tokens


@dataclass(frozen=True)
class Supporter:
    """What the emails need of a stored pledge."""

    id: int
    name: str
    email: str
    email_canonical: str
    share_token: str
    status: str


@dataclass(frozen=True)
class Links:
    confirm: str
    withdraw: str
    page: str


def links_for(settings: Settings, slug: str, share_token: str) -> Links:
    """The absolute confirm, withdraw and campaign-page links of the pledge holding ``share_token``."""
    base = f"{settings.public_url}/c/{slug}"
    return Links(
        confirm=f"{base}/confirm/{tokens.confirm_token(settings.key, share_token)}",
        withdraw=f"{base}/withdraw/{tokens.withdraw_token(settings.key, share_token)}",
        page=base,
    )


def email_for(
    settings: Settings, campaign: Campaign, supporter: Supporter, *, duplicate: bool, lang: str | None = None
) -> dict[str, Any]:
    """The confirmation (``duplicate=False``) or the repeat-pledge email for ``supporter``, in ``lang`` (the language
    of the page the pledge came from; ``None``: the active language; the campaign's default when it does not list
    it), as the keyword arguments of ``mail.queue.enqueue_values`` / an item of ``mail.queue.enqueue_many`` (which
    apply the per-address cap).

    Intake renders these in the pledge writer's thread, where no request's language is active: it passes ``lang``
    (or sets it with ``i18n.use``).
    Each attempt has its own dedupe key, so a duplicate may re-send; the queue suppresses anything over the cap.
    """
    links = links_for(settings, campaign.slug, supporter.share_token)
    if duplicate:
        confirm_url = links.confirm if supporter.status == PledgeStatus.pending else None
        r = render.render_duplicate(settings, campaign, supporter.name, confirm_url, links.withdraw, lang=lang)
    else:
        r = _render_confirm(settings, campaign, supporter.name, links.confirm, links.withdraw, lang)
    kind = "duplicate" if duplicate else "confirm"
    return {
        "campaign": campaign.slug, "kind": kind, "to_addr": supporter.email, "to_canonical": supporter.email_canonical,
        "subject": r.subject, "body_text": r.text, "body_html": r.html, "headers": r.headers,
        "dedupe_key": f"{kind}:{campaign.slug}:{supporter.id}:{uuid.uuid4().hex}",
    }


# The confirmation email is rendered for every new pledge, so it is rendered once per campaign and language with
# placeholders and filled in (``mail.skeleton``: verified against a real render before it is used).
_SAMPLE = {"name": "Ann <O'Neil> & Co", "confirm": "https://a.example/c/x/confirm/AbC-_1",
           "withdraw": "https://a.example/c/x/withdraw/XyZ-_2", "me": "https://a.example/c/x/me/XyZ-_2"}


def _render_confirm(
    settings: Settings, campaign: Campaign, name: str, confirm_url: str, withdraw_url: str, lang: str | None
) -> render.Rendered:
    """``render.render_confirm``, from a skeleton per campaign and language when that gives exactly the same email."""
    chosen = render.email_language(campaign, lang)

    def make(v: Mapping[str, str]) -> render.Rendered:
        return render.render_confirm(settings, campaign, v["name"], v["confirm"], v["withdraw"], me_url=v["me"],
                                     lang=chosen)

    values = {"name": name, "confirm": confirm_url, "withdraw": withdraw_url, "me": render.me_link(withdraw_url)}
    return skeleton.render_with(campaign, ("confirm", chosen, settings.public_url), make, values, _SAMPLE)
