"""The emails pledge intake queues: the confirmation (double opt-in) and, for an address already counted, a reminder.

Rendering is ``social_campaign.mail.render`` (plain text + HTML, ``List-Unsubscribe`` to the withdraw link). Links are
built from ``settings.public_url`` by :func:`links_for` (the release emails use it too, for the withdraw link). Emails
are only built here and queued by ``pledges.intake`` (``mail.queue.enqueue_many``, which caps emails per address); the mail worker sends them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from markupsafe import escape

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.mail import render
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


def email_for(settings: Settings, campaign: Campaign, supporter: Supporter, *, duplicate: bool) -> dict[str, Any]:
    """The confirmation (``duplicate=False``) or the repeat-pledge email for ``supporter``, as the keyword arguments
    of ``mail.queue.enqueue_values`` / an item of ``mail.queue.enqueue_many`` (which apply the per-address cap).

    Each attempt has its own dedupe key, so a duplicate may re-send; the queue suppresses anything over the cap.
    """
    links = links_for(settings, campaign.slug, supporter.share_token)
    if duplicate:
        confirm_url = links.confirm if supporter.status == PledgeStatus.pending else None
        r = render.render_duplicate(settings, campaign, supporter.name, confirm_url, links.withdraw)
    else:
        r = _render_confirm(settings, campaign, supporter.name, links.confirm, links.withdraw)
    kind = "duplicate" if duplicate else "confirm"
    return {
        "campaign": campaign.slug, "kind": kind, "to_addr": supporter.email, "to_canonical": supporter.email_canonical,
        "subject": r.subject, "body_text": r.text, "body_html": r.html, "headers": r.headers,
        "dedupe_key": f"{kind}:{campaign.slug}:{supporter.id}:{uuid.uuid4().hex}",
    }


# The confirmation email is rendered for every new pledge, so it is rendered once per campaign with placeholders and
# filled in with str.replace (the name HTML-escaped in the HTML part). The shortcut is verified against a real render
# before it is used: if the templates ever transform a placeholder (a filter, a condition), it is not used.
_NAME, _CONFIRM, _WITHDRAW = "\x00sc-name\x00", "\x00sc-confirm\x00", "\x00sc-withdraw\x00"
_ME = "\x00sc-me\x00"  # the supporter's own page: render.me_link(withdraw_url)
_SAMPLE = ("Ann <O'Neil> & Co", "https://a.example/c/x/confirm/AbC-_1", "https://a.example/c/x/withdraw/XyZ-_2")
_skeletons: dict[int, tuple[Campaign, render.Rendered | None]] = {}


def _fill(skeleton: render.Rendered, name: str, confirm_url: str, withdraw_url: str) -> render.Rendered:
    me_url = render.me_link(withdraw_url)

    def text(part: str) -> str:
        return part.replace(_NAME, name).replace(_CONFIRM, confirm_url).replace(_WITHDRAW, withdraw_url).replace(_ME, me_url)

    def html(part: str) -> str:
        return (part.replace(_NAME, escape(name)).replace(_CONFIRM, escape(confirm_url))
                .replace(_WITHDRAW, escape(withdraw_url)).replace(_ME, escape(me_url)))

    return render.Rendered(
        subject=text(skeleton.subject), text=text(skeleton.text), html=html(skeleton.html),
        headers=render.unsubscribe_headers(withdraw_url),
    )


def _render_confirm(settings: Settings, campaign: Campaign, name: str, confirm_url: str, withdraw_url: str) -> render.Rendered:
    """``render.render_confirm``, from a per-campaign skeleton when that gives exactly the same email."""
    entry = _skeletons.get(id(campaign))
    if entry is None or entry[0] is not campaign:  # campaigns are immutable: one check per campaign object
        made = render.render_confirm(settings, campaign, _NAME, _CONFIRM, _WITHDRAW, me_url=_ME)
        exact = render.render_confirm(settings, campaign, *_SAMPLE) == _fill(made, *_SAMPLE)
        if len(_skeletons) > 100:
            _skeletons.clear()
        entry = _skeletons[id(campaign)] = (campaign, made if exact else None)
    skeleton = entry[1]
    if skeleton is None:
        return render.render_confirm(settings, campaign, name, confirm_url, withdraw_url)
    return _fill(skeleton, name, confirm_url, withdraw_url)
