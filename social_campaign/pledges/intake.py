"""Pledge intake, confirmation and withdrawal: the services behind ``POST /c/{slug}/pledge`` and the emailed links.

:func:`submit` never tells the caller what happened: new, duplicate and fraudulent pledges all return ``None``, so the
web answer is identical. Fraud (honeypot filled, over a rate limit) is stored with its reason and never emailed or
counted. A duplicate (same canonical email) changes nothing stored about the supporter and re-sends an email (the
per-address cap of ``mail.queue.enqueue`` applies). A withdrawn supporter who pledges again starts over as pending.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign, PledgeSpec
from social_campaign.config import Settings
from social_campaign.crypto import keyed_hash
from social_campaign.db import is_sqlite, session_scope
from social_campaign.errors import BadRequest, NotFound
from social_campaign.models import Pledge, PledgeStatus
from social_campaign.pledges import counter, notify, tokens
from social_campaign.pledges.abuse import PledgeForm, over_limit
from social_campaign.pledges.emails import canonical_email


def spec_of(campaign: Campaign) -> PledgeSpec:
    if campaign.pledge is None:
        raise NotFound(f"campaign {campaign.slug!r} takes no pledges")
    return campaign.pledge


def _set_share_token(pledge: Pledge, key: bytes, spec: PledgeSpec) -> None:
    pledge.share_token = tokens.new_share_token()
    pledge.confirm_token_hash = tokens.token_hash(tokens.confirm_token(key, pledge.share_token))
    pledge.withdraw_token_hash = tokens.token_hash(tokens.withdraw_token(key, pledge.share_token))


def submit(settings: Settings, engine: Engine, campaign: Campaign, form: PledgeForm, ip: str, now: datetime) -> None:
    """Take one pledge. Raises :class:`BadRequest` only when pledging is closed (after the deadline)."""
    spec = spec_of(campaign)
    if now >= spec.deadline:
        raise BadRequest("pledging closed: the deadline has passed")
    ip_hash = keyed_hash(settings.key, ip, purpose="ip")
    canonical = canonical_email(form.email)
    with session_scope(engine) as session:
        limited = over_limit(session, campaign=campaign.slug, ip_hash=ip_hash, limits=settings.rate_limits, now=now)
        reason = "honeypot" if form.website else "rate limit" if limited else None
        row = Pledge(
            campaign=campaign.slug, name=form.name, email=form.email, email_canonical=canonical,
            country=form.country, postcode=form.postcode, ip_hash=ip_hash, created_at=now,
        )
        if reason is not None:
            row.status, row.fraud_reason = PledgeStatus.fraud, reason
            session.add(row)
            return
        existing = _active(session, campaign.slug, canonical)
        if existing is None:
            row.active_email = canonical
            _set_share_token(row, settings.key, spec)
            try:
                if is_sqlite(engine):  # writers are serialised by BEGIN IMMEDIATE: no race, no savepoint needed
                    session.add(row)
                    session.flush()
                else:
                    with session.begin_nested():
                        session.add(row)
                        session.flush()
            except IntegrityError:  # the same address pledged concurrently: treat as a duplicate
                existing = _active(session, campaign.slug, canonical)
                if existing is None:
                    raise
            else:
                row.variant = (row.id or 0) % max(1, len(spec.variants))
                notify.queue_email(session, settings, campaign, row, duplicate=False)
                return
        if existing.status == PledgeStatus.withdrawn:  # starts over: new tokens, must confirm again
            existing.status, existing.withdrawn_at, existing.confirmed_at = PledgeStatus.pending, None, None
            existing.name, existing.email, existing.country, existing.postcode = row.name, row.email, row.country, row.postcode
            _set_share_token(existing, settings.key, spec)
            session.add(existing)
            session.flush()
            notify.queue_email(session, settings, campaign, existing, duplicate=False)
            return
        notify.queue_email(session, settings, campaign, existing, duplicate=True)


def _active(session: Session, slug: str, canonical: str) -> Pledge | None:
    return session.exec(select(Pledge).where(Pledge.campaign == slug, Pledge.active_email == canonical)).first()


def _by_hash(session: Session, slug: str, column: object, token: str) -> Pledge | None:
    if not token or len(token) > 100:
        return None
    return session.exec(select(Pledge).where(Pledge.campaign == slug, column == tokens.token_hash(token))).first()  # type: ignore[arg-type]


def confirm(settings: Settings, engine: Engine, campaign: Campaign, token: str, now: datetime) -> Pledge:
    """Confirm the pending pledge holding ``token`` (single use). Counts it; raises NotFound for a bad or used link."""
    spec = spec_of(campaign)
    with session_scope(engine) as session:
        pledge = _by_hash(session, campaign.slug, Pledge.confirm_token_hash, token)
        if pledge is None or pledge.status != PledgeStatus.pending:
            raise NotFound("this confirmation link is not valid or was already used")
        if now >= spec.deadline:
            raise BadRequest("pledging closed: the deadline has passed, so this pledge can no longer be confirmed")
        pledge.status, pledge.confirmed_at, pledge.confirm_token_hash = PledgeStatus.confirmed, now, None
        session.add(pledge)
        session.flush()
        counter.bump(session, campaign.slug, +1)
        return pledge


def check_withdraw(engine: Engine, campaign: Campaign, token: str, now: datetime) -> Pledge:
    """The pledge a withdraw link belongs to, if the link is valid and the campaign not yet released."""
    spec = spec_of(campaign)
    with session_scope(engine) as session:
        pledge = _by_hash(session, campaign.slug, Pledge.withdraw_token_hash, token)
    if pledge is None or pledge.status == PledgeStatus.fraud:
        raise NotFound("this withdraw link is not valid")
    if now >= spec.fire_at:
        raise BadRequest("withdrawal closed: the campaign has been released")
    return pledge


def withdraw(settings: Settings, engine: Engine, campaign: Campaign, token: str, now: datetime) -> Pledge:
    """Withdraw the pledge holding ``token`` (idempotent). A confirmed pledge stops counting at once."""
    check_withdraw(engine, campaign, token, now)
    with session_scope(engine) as session:
        pledge = _by_hash(session, campaign.slug, Pledge.withdraw_token_hash, token)
        assert pledge is not None
        if pledge.status in (PledgeStatus.pending, PledgeStatus.confirmed):
            was_confirmed = pledge.status == PledgeStatus.confirmed
            pledge.status, pledge.withdrawn_at, pledge.confirm_token_hash = PledgeStatus.withdrawn, now, None
            session.add(pledge)
            session.flush()
            if was_confirmed:
                counter.bump(session, campaign.slug, -1)
        return pledge
