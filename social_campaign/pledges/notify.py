"""The emails pledge intake queues: the confirmation (double opt-in) and, for an address already counted, a reminder.

Rendering is ``social_campaign.mail.render`` (plain text + HTML, ``List-Unsubscribe`` to the withdraw link). Links are
built from ``settings.public_url`` by :func:`links_for` (the release emails use it too, for the withdraw link). Emails
are only queued here (``mail.queue.enqueue``, which caps emails per address); the mail worker sends them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.mail import render
from social_campaign.mail.queue import enqueue
from social_campaign.models import Pledge, PledgeStatus
from social_campaign.pledges import tokens


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


def queue_email(session: Session, settings: Settings, campaign: Campaign, pledge: Pledge, *, duplicate: bool) -> None:
    """Queue the confirmation (``duplicate=False``) or the repeat-pledge email for ``pledge``.

    Each attempt has its own dedupe key, so a duplicate may re-send; ``enqueue`` suppresses anything over the cap.
    """
    assert pledge.share_token is not None
    links = links_for(settings, campaign.slug, pledge.share_token)
    if duplicate:
        confirm_url = links.confirm if pledge.status == PledgeStatus.pending else None
        r = render.render_duplicate(settings, campaign, pledge.name, confirm_url, links.withdraw)
    else:
        r = render.render_confirm(settings, campaign, pledge.name, links.confirm, links.withdraw)
    kind = "duplicate" if duplicate else "confirm"
    enqueue(
        session,
        campaign=campaign.slug,
        kind=kind,
        to_addr=pledge.email,
        to_canonical=pledge.email_canonical,
        subject=r.subject,
        body_text=r.text,
        body_html=r.html,
        headers=r.headers,
        dedupe_key=f"{kind}:{campaign.slug}:{pledge.id}:{uuid.uuid4().hex}",
        max_per_address=settings.max_emails_per_address,
    )
