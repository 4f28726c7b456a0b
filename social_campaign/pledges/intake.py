"""Pledge intake, confirmation and withdrawal: the services behind ``POST /c/{slug}/pledge`` and the emailed links.

:func:`submit` never tells the caller what happened: new, duplicate and fraudulent pledges all return ``None``, so the
web answer is identical. Fraud (the honeypot filled) is stored with its reason and never emailed or counted. An attempt
over a rate limit (``pledges/abuse.py``) is the one exception: it stores nothing, and its :attr:`Intake.verdict` says
when the client may try again, so that the web answer can say so (it depends on the client alone, never on the email). A duplicate (same canonical email) changes nothing stored about the supporter and re-sends an email (the
per-address cap of ``mail.queue.enqueue_many`` applies). A withdrawn supporter who pledges again starts over as pending.

The hot path is split for group commit (``pledges/writer.py``): :func:`prepare` does everything that needs no
database, :func:`store_all` stores any number of prepared pledges in the caller's transaction, in order, with the
same outcome as one transaction each, in SQLAlchemy Core statements built once: per batch one SELECT for duplicates,
one multi-row INSERT … ON CONFLICT DO NOTHING RETURNING for the new pledges, one statement each for variants and emails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign, PledgeSpec
from social_campaign.config import Settings
from social_campaign.crypto import keyed_hash
from social_campaign.db import session_scope
from social_campaign.errors import BadRequest, DatabaseError, NotFound
from social_campaign.i18n import N_, _
from social_campaign.mail.queue import enqueue_many, opt_out
from social_campaign.models import Pledge, PledgeStatus
from social_campaign.pledges import counter, notify, tokens
from social_campaign.pledges.abuse import PledgeForm, count_attempts
from social_campaign.pledges.emails import canonical_email
from social_campaign.pledges.notify import Supporter
from social_campaign.supporters import consent

_P = Pledge.__table__  # type: ignore[attr-defined]


def spec_of(campaign: Campaign) -> PledgeSpec:
    if campaign.pledge is None:
        raise NotFound(_("This campaign does not take pledges."))
    return campaign.pledge


@dataclass
class Verdict:
    """The rate limits' answer to one attempt, set by :func:`store_all` (the writer's future carries no value):
    ``retry_at`` is when the client may try again if the attempt was over a limit (then nothing was stored)."""

    retry_at: datetime | None = None


@dataclass(frozen=True)
class Intake:
    """One pledge ready to store: everything that needs no database (hashes, canonical email, a fresh share token),
    computed before the write transaction so that the transaction stays short."""

    campaign: Campaign
    form: PledgeForm
    canonical: str
    ip_hash: str
    share_token: str
    now: datetime
    verdict: Verdict = field(default_factory=Verdict, compare=False)


def prepare(settings: Settings, campaign: Campaign, form: PledgeForm, ip: str, now: datetime) -> Intake:
    """Check the pledge may be taken and compute what :func:`store` needs. Raises :class:`BadRequest` only when
    pledging is closed (after the deadline)."""
    spec = spec_of(campaign)
    if now >= spec.deadline:
        raise BadRequest(_("Pledging has closed: the deadline has passed."))
    return Intake(
        campaign=campaign, form=form, canonical=canonical_email(form.email),
        ip_hash=keyed_hash(settings.key, ip, purpose="ip"), share_token=tokens.new_share_token(), now=now,
    )


def submit(
    settings: Settings, engine: Engine, campaign: Campaign, form: PledgeForm, ip: str, now: datetime
) -> datetime | None:
    """Take one pledge in its own transaction; returns when to try again if it was over a rate limit (else ``None``).
    Raises :class:`BadRequest` only when pledging is closed."""
    item = prepare(settings, campaign, form, ip, now)
    with engine.begin() as conn:
        store_all(conn, settings, [item])
    return item.verdict.retry_at


_NEW = Supporter(0, "", "", "", "", PledgeStatus.pending)  # in ``Batch.known``: a new pledge this batch inserts


@dataclass(frozen=True)
class _Email:
    campaign: Campaign
    key: tuple[str, str]
    supporter: Supporter | None  # None: the batch's new pledge for ``key`` (its id is known after the insert)
    duplicate: bool
    item: Intake | None = None  # the pledge whose answers to the consent boxes are recorded with it


@dataclass
class Batch:
    """The state of one write transaction holding several pledges, stored as if one after the other.

    ``known``: the active supporter (``None`` if none, :data:`_NEW` if this batch inserts it) per (campaign, canonical
    email), read for the whole batch in one SELECT and kept current. The new (and fraudulent) pledges, the variants and
    every email are written at the end (:meth:`flush`), one statement each: a multi-row INSERT … ON CONFLICT DO NOTHING
    RETURNING in arrival order (a row another process inserted meanwhile turns that pledge into a duplicate, as it
    would one at a time), one executemany for the variants, and ``mail.queue.enqueue_many`` (the cap, in order)."""

    known: dict[tuple[str, str], Supporter | None] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)  # new and fraudulent pledges, inserted in arrival order
    new: dict[tuple[str, str], tuple[dict[str, Any], int]] = field(default_factory=dict)  # values, number of variants
    emails: list[_Email] = field(default_factory=list)

    def prefetch(self, conn: Connection, items: list[Intake]) -> None:
        by_slug: dict[str, set[str]] = {}
        for item in items:
            if not item.form.website:  # honeypot pledges never look
                by_slug.setdefault(item.campaign.slug, set()).add(item.canonical)
        for slug, canonicals in by_slug.items():
            self.known.update({(slug, c): None for c in canonicals})
            for row in conn.execute(_SELECT_ACTIVE_MANY, {"q_slug": slug, "q_canonicals": sorted(canonicals)}):
                self.known[(slug, row.email_canonical)] = Supporter(*row)

    def active(self, conn: Connection, slug: str, canonical: str) -> Supporter | None:
        key = (slug, canonical)
        if key not in self.known:
            row = _active(conn, slug, canonical)
            self.known[key] = None if row is None else Supporter(*row)
        return self.known[key]

    def flush(self, conn: Connection, settings: Settings) -> None:
        resolved: dict[tuple[str, str], Supporter] = {}
        taken: set[tuple[str, str]] = set()  # inserted by another process meanwhile: these pledges are duplicates
        if self.rows:
            variants = []
            for r in conn.execute(_insert_many_unless_active(conn.dialect.name), self.rows):
                if r.active_email is None:  # a fraud row
                    continue
                values, count = self.new[(r.campaign, r.active_email)]
                resolved[(r.campaign, r.active_email)] = Supporter(
                    r.id, values["name"], values["email"], r.active_email, values["share_token"], PledgeStatus.pending
                )
                variants.append({"p_id": r.id, "variant": r.id % count})
            if variants:
                conn.execute(_SET_VARIANT, variants)
            for key in self.new.keys() - resolved.keys():
                row = _active(conn, *key)
                if row is None:
                    raise DatabaseError("pledge: the address was taken concurrently but cannot be found; please try again")
                resolved[key] = Supporter(*row)
                taken.add(key)
        emails = []
        for e in self.emails:  # each in the language of the page its pledge came from (this thread has no request)
            lang = e.item.form.lang if e.item else _default(e.campaign)
            emails.append(notify.email_for(settings, e.campaign, e.supporter or resolved[e.key],
                                           duplicate=e.duplicate or e.key in taken, lang=lang))
        enqueue_many(conn, emails, max_per_address=pre_release_cap(settings))
        consent.record(conn, settings, [  # what each pledge consented to (supporters/consent.py)
            consent.Answer((e.supporter or resolved[e.key]).id, e.item.campaign, e.item.form, e.item.now,
                           e.duplicate or e.key in taken)
            for e in self.emails if e.item is not None
        ])
        self.known, self.rows, self.new, self.emails = {}, [], {}, []


def _default(campaign: Campaign) -> str:
    return campaign.languages[0] if campaign.languages else "en"



def pre_release_cap(settings: Settings) -> int:
    """Emails an address may get before the release: the cap less one, kept for the release news ("it's time" or
    "goal not reached"), so that duplicates never crowd a confirmed supporter out of the email that matters most."""
    return max(1, settings.max_emails_per_address - 1)


def store_all(conn: Connection, settings: Settings, items: list[Intake]) -> None:
    """Store prepared pledges in ``conn``'s transaction, in order, as if one after the other (the caller commits).
    First every attempt is counted against the rate limits (one upsert per client bucket); those over a limit get their
    :attr:`Intake.verdict` and store nothing."""
    retry = count_attempts(conn, [(i.campaign.slug, i.ip_hash, i.now) for i in items], settings.rate_limits)
    for item, retry_at in zip(items, retry, strict=True):
        item.verdict.retry_at = retry_at
    allowed = [item for item, retry_at in zip(items, retry, strict=True) if retry_at is None]
    batch = Batch()
    batch.prefetch(conn, allowed)
    for item in allowed:
        store(conn, settings, item, batch)
    batch.flush(conn, settings)


def _token_columns(key: bytes, share_token: str) -> dict[str, str]:
    return {
        "share_token": share_token,
        "confirm_token_hash": tokens.token_hash(tokens.confirm_token(key, share_token)),
        "withdraw_token_hash": tokens.token_hash(tokens.withdraw_token(key, share_token)),
    }


def store(conn: Connection, settings: Settings, item: Intake, batch: Batch) -> None:
    """Take one prepared pledge (within the rate limits: :func:`store_all` counts them) into ``batch`` (``conn``'s
    transaction): the honeypot, the duplicate check (from ``batch.known``); a restart is written at once, a new or
    fraudulent pledge and every email by :meth:`Batch.flush` (which the caller runs before the commit)."""
    campaign, form, slug = item.campaign, item.form, item.campaign.slug
    spec = spec_of(campaign)
    reason = "honeypot" if form.website else None
    row: dict[str, Any] = {
        "campaign": slug, "name": form.name, "email": form.email, "email_canonical": item.canonical,
        "country": form.country, "postcode": form.postcode, "ip_hash": item.ip_hash, "created_at": item.now,
    }
    if reason is not None:
        batch.rows.append({**row, "status": PledgeStatus.fraud.value, "fraud_reason": reason, **_NO_TOKENS})
        return
    key = (slug, item.canonical)
    existing = batch.active(conn, slug, item.canonical)
    if existing is _NEW:  # a duplicate of a new pledge earlier in this batch
        batch.emails.append(_Email(campaign, key, None, True, item))
        return
    if existing is None:
        values = {**row, "status": PledgeStatus.pending.value, "fraud_reason": None, "active_email": item.canonical,
                  **_token_columns(settings.key, item.share_token)}
        batch.rows.append(values)
        batch.new[key] = (values, max(1, len(spec.variants)))
        batch.known[key] = _NEW
        batch.emails.append(_Email(campaign, key, None, False, item))
        return
    if existing.status == PledgeStatus.withdrawn:  # starts over: new tokens, must confirm again
        conn.execute(
            _RESTART,
            {"p_id": existing.id, "status": PledgeStatus.pending.value, "withdrawn_at": None, "confirmed_at": None,
             "name": form.name, "email": form.email, "country": form.country, "postcode": form.postcode,
             **_token_columns(settings.key, item.share_token)},
        )
        supporter = Supporter(existing.id, form.name, form.email, item.canonical, item.share_token, PledgeStatus.pending)
        batch.known[key] = supporter
        batch.emails.append(_Email(campaign, key, supporter, False, item))
        return
    batch.emails.append(_Email(campaign, key, existing, True, item))


def _active(conn: Connection, slug: str, canonical: str) -> Any:
    """The supporter's non-fraud row for this canonical address, if any (unique per campaign)."""
    return conn.execute(_SELECT_ACTIVE, {"q_slug": slug, "q_canonical": canonical}).first()


# The hot path's statements, built once: reusing a statement object with new parameters skips SQLAlchemy's per-call
# construction and cache-key work (most of a pledge's CPU before this).
_SELECT_ACTIVE = core_select(_P.c.id, _P.c.name, _P.c.email, _P.c.email_canonical, _P.c.share_token, _P.c.status).where(
    _P.c.campaign == bindparam("q_slug"), _P.c.active_email == bindparam("q_canonical")
)
_SELECT_ACTIVE_MANY = core_select(_P.c.id, _P.c.name, _P.c.email, _P.c.email_canonical, _P.c.share_token, _P.c.status).where(
    _P.c.campaign == bindparam("q_slug"), _P.c.active_email.in_(bindparam("q_canonicals", expanding=True))
)
_NO_TOKENS = {"active_email": None, "share_token": None, "confirm_token_hash": None, "withdraw_token_hash": None}
_SET_VARIANT = update(_P).where(_P.c.id == bindparam("p_id"))
_RESTART = update(_P).where(_P.c.id == bindparam("p_id"))


@cache
def _insert_many_unless_active(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (campaign, active_email) DO NOTHING RETURNING`` in ``dialect``, for executemany (which
    SQLAlchemy sends as multi-row INSERTs: one round trip per batch)."""
    dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return dialect_insert(_P).on_conflict_do_nothing(index_elements=["campaign", "active_email"]).returning(
        _P.c.id, _P.c.campaign, _P.c.active_email
    )


def _by_hash(session: Session, slug: str, column: object, token: str) -> Pledge | None:
    if not token or len(token) > 100:
        return None
    return session.exec(select(Pledge).where(Pledge.campaign == slug, column == tokens.token_hash(token))).first()


def _confirmable(pledge: Pledge | None, spec: PledgeSpec, now: datetime) -> Pledge:
    if pledge is None or pledge.status != PledgeStatus.pending:
        raise NotFound(_(NOT_CONFIRMABLE))
    if now >= spec.deadline:
        raise BadRequest(_("Pledging has closed: the deadline has passed, so this pledge can no longer be confirmed."))
    return pledge


NOT_CONFIRMABLE = N_("This confirmation link is not valid. Please check that it is complete, or pledge again.")


_CONFIRM = update(_P).where(_P.c.id == bindparam("p_id"), _P.c.status == PledgeStatus.pending.value).values(
    status=PledgeStatus.confirmed.value, confirmed_at=bindparam("at")
)


def _confirm_in(session: Session, campaign: Campaign, pledge: Pledge, now: datetime) -> bool:
    """Confirm the pending ``pledge`` and count it, unless a concurrent request did first (then ``False``). The
    confirm token's hash stays, so a second visit to the link can say it is already confirmed."""
    if session.execute(_CONFIRM, {"p_id": pledge.id, "at": now}).rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(pledge)
        return False
    session.refresh(pledge)
    counter.bump(session, campaign.slug, +1)
    _event(session, "pledge.confirmed", pledge, now)
    return True


def confirm(settings: Settings, engine: Engine, campaign: Campaign, token: str, now: datetime) -> Pledge:
    """Confirm the pending pledge holding ``token`` (the confirm page's POST). Counts it; raises NotFound for a bad
    link or one already used."""
    spec = spec_of(campaign)
    with session_scope(engine) as session:
        pledge = _confirmable(_by_hash(session, campaign.slug, Pledge.confirm_token_hash, token), spec, now)
        if not _confirm_in(session, campaign, pledge, now):
            raise NotFound(_(NOT_CONFIRMABLE))
        return pledge


def released(campaign: Campaign, now: datetime) -> bool:
    """From ``fire_at`` on the result is out: a pledge can no longer be withdrawn, only its emails stopped."""
    return now >= spec_of(campaign).fire_at


def check_withdraw(engine: Engine, campaign: Campaign, token: str, now: datetime) -> Pledge:
    """The pledge a withdraw link belongs to, if the link is valid (at any stage: after the release the same link
    stops the emails, see :func:`unsubscribe`)."""
    spec_of(campaign)
    with session_scope(engine) as session:
        pledge = _by_hash(session, campaign.slug, Pledge.withdraw_token_hash, token)
    if pledge is None or pledge.status == PledgeStatus.fraud:
        raise NotFound(_("This link is not valid. Please check that it is complete."))
    return pledge


def withdraw(settings: Settings, engine: Engine, campaign: Campaign, token: str, now: datetime) -> Pledge:
    """Withdraw the pledge holding ``token`` (idempotent). A confirmed pledge stops counting at once. Raises
    :class:`BadRequest` once the campaign is released (then :func:`unsubscribe` stops the emails instead)."""
    check_withdraw(engine, campaign, token, now)
    if released(campaign, now):
        raise BadRequest(_("The campaign's result is out, so the pledge can no longer be withdrawn."))
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
            _event(session, "pledge.withdrawn", pledge, now, was_confirmed=was_confirmed)
        return pledge


def _event(session: Session, type_: str, pledge: Pledge, now: datetime, **extra: Any) -> None:
    """The webhook event of a confirmation or withdrawal, in the same transaction (name and email: personal only)."""
    from social_campaign.webhooks.events import emit

    data = {"pledge_id": pledge.id, "status": str(pledge.status), "country": pledge.country, **extra}
    emit(session, type_, data, campaign=pledge.campaign, personal={"name": pledge.name, "email": pledge.email}, now=now)


def unsubscribe(settings: Settings, engine: Engine, campaign: Campaign, token: str, now: datetime) -> str:
    """The withdraw link's POST at every stage (its form, "stop these emails", List-Unsubscribe one-click). Before the
    release it withdraws the pledge (:func:`withdraw`) and returns ``"withdrawn"``. From the release on it leaves the
    pledge as it is and stops every further email to the address about this campaign (``mail.queue.opt_out``: a
    ``MailOptOut`` row, queued emails suppressed) and returns ``"unsubscribed"``. Idempotent."""
    if not released(campaign, now):
        withdraw(settings, engine, campaign, token, now)
        return "withdrawn"
    pledge = check_withdraw(engine, campaign, token, now)
    with engine.begin() as conn:
        opt_out(conn, campaign=campaign.slug, to_canonical=pledge.email_canonical, now=now)
    return "unsubscribed"
