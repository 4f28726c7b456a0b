"""Consent, recorded: the exact words of every box on the pledge form, and each pledge's answer to each box.

The pledge form shows (``web/templates/campaign.html``, filled from :func:`boxes`):

* ``consent`` (kind ``pledge``, required): :func:`pledge_consent_text`;
* one unticked "Keep me informed by <organisation>" box per organisation (kind ``updates``; :func:`organisations`:
  ``[campaign] organisation`` then each of ``co_sponsors``), named ``updates``, ``updates_2``, ``updates_3``, …;
* with ``[pledge] minimum_age``, the required ``age_ok`` box (kind ``age``): "I am N or older".

The very strings rendered are the ones stored: each wording once, as a :class:`ConsentText` keyed by the SHA-256 of
its UTF-8 bytes (:func:`text_hash`), numbered per campaign, kind, organisation and language (``version``; a wording
another campaign showed first keeps that campaign's row). :func:`record` writes, in the intake's transaction and in a
few statements per batch, one :class:`ConsentRecord` per box per pledge (answer, text hash, language, time, and the
URL of our page the form is on, never the browser's ``Referer``) and the pledge's :class:`PledgeData` (its language and
its answer to the first organisation's box). A repeat pledge from the same address records the boxes it ticked (an
unticked box on a repeat changes nothing; ticking opts in). Honeypot (fraud) pledges record nothing: a bot's tick is
nobody's consent, those rows are never emailed, and ``pledges.abuse.prune`` deletes them.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from social_campaign.i18n import N_, _, ngettext, use
from social_campaign.i18n.formatting import number
from social_campaign.models import ConsentRecord, ConsentText, PledgeData
from social_campaign.models.types import utcnow

if TYPE_CHECKING:
    from social_campaign.campaign.model import Campaign
    from social_campaign.config import Settings
    from social_campaign.pledges.abuse import PledgeForm

PLEDGE, UPDATES, AGE = "pledge", "updates", "age"
URL_MAX = 500  # ConsentRecord.page_url
_T = ConsentText.__table__  # type: ignore[attr-defined]
_R = ConsentRecord.__table__  # type: ignore[attr-defined]
_D = PledgeData.__table__  # type: ignore[attr-defined]


def organisations(campaign: Campaign) -> list[str]:
    """The organisations a supporter may hear from, in the order of their boxes (none without an organisation)."""
    return [campaign.organisation, *campaign.co_sponsors] if campaign.organisation else []


def updates_field(index: int) -> str:
    """The form field of the ``index``-th organisation's box: ``updates`` (outside checks use it), ``updates_2``, …"""
    return "updates" if index == 0 else f"updates_{index + 1}"


def _default(campaign: Campaign) -> str:
    return campaign.languages[0] if campaign.languages else "en"


def pledge_consent_text(campaign: Campaign, lang: str = "en") -> str:
    """The words of the required pledge box in ``lang``: what we email and when, in the one time format
    (``i18n.formatting.when``: the date and time in the campaign's zone)."""
    from social_campaign.i18n.formatting import when

    spec = campaign.pledge
    with use(lang, _default(campaign)):
        if spec is None:
            return _("Email me a link to confirm my pledge now, and one email when the campaign releases. Nothing else.")
        return ngettext(
            "Email me a link to confirm my pledge now. If %(num)s supporter confirms by %(deadline)s, send me one "
            "email at %(release)s with my share links; if not, one short note saying the goal was not reached. "
            "Nothing else.",
            "Email me a link to confirm my pledge now. If %(num)s supporters confirm by %(deadline)s, send me one "
            "email at %(release)s with my share links; if not, one short note saying the goal was not reached. "
            "Nothing else.",
            spec.goal,
        ) % {
            "num": number(spec.goal, lang),
            "deadline": when(spec.deadline, campaign.timezone, lang),
            "release": when(spec.fire_at, campaign.timezone, lang),
        }


def updates_consent_text(campaign: Campaign, organisation: str, lang: str = "en") -> str:
    """The words of one organisation's "keep me informed" box, in ``lang``."""
    with use(lang, _default(campaign)):
        return _(
            "Keep me informed by %(organisation)s: news and ways to take action, by email. "
            "Optional; you can stop it at any time."
        ) % {"organisation": organisation}


def age_text(campaign: Campaign, lang: str = "en") -> str | None:
    """The words of the required age box in ``lang``, or ``None`` when the campaign sets no ``[pledge] minimum_age``."""
    age = campaign.pledge.minimum_age if campaign.pledge else None
    if age is None:
        return None
    with use(lang, _default(campaign)):
        return ngettext("I am %(num)s or older.", "I am %(num)s or older.", age) % {"num": number(age, lang)}


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def page_url(settings: Settings, campaign: Campaign) -> str:
    """Our public URL of the page the pledge form is on."""
    return f"{settings.public_url}/c/{campaign.slug}"[:URL_MAX]


@dataclass(frozen=True)
class Box:
    """One box of the pledge form: its field name, kind, organisation (``updates`` only), exact words and their hash."""

    field: str
    kind: str
    organisation: str
    text: str
    hash: str


_boxes: dict[tuple[int, str], tuple[Campaign, list[Box]]] = {}


def boxes(campaign: Campaign, lang: str = "en") -> list[Box]:
    """Every box the pledge form shows for ``campaign`` in ``lang``, in page order (kept per campaign object)."""
    entry = _boxes.get((id(campaign), lang))
    if entry is not None and entry[0] is campaign:
        return entry[1]
    made = [Box("consent", PLEDGE, "", pledge_consent_text(campaign, lang), "")]
    for i, org in enumerate(organisations(campaign)):
        made.append(Box(updates_field(i), UPDATES, org, updates_consent_text(campaign, org, lang), ""))
    age = age_text(campaign, lang)
    if age is not None:
        made.append(Box("age_ok", AGE, "", age, ""))
    made = [Box(b.field, b.kind, b.organisation, b.text, text_hash(b.text)) for b in made]
    if len(_boxes) > 100:
        _boxes.clear()
    _boxes[(id(campaign), lang)] = (campaign, made)
    return made


#: per engine (database), the hashes seen committed there (found by a SELECT): no need to look again
def wording(campaign: Campaign, lang: str = "en") -> str:
    """A short key of every box's words: the form carries it (hidden ``wording``), so a pledge posted from a page
    whose words have changed since (a campaign edit in between) is shown the new words instead of being recorded
    under words its supporter never saw."""
    return hashlib.sha256("".join(b.hash for b in boxes(campaign, lang)).encode()).hexdigest()[:16]


WORDING_CHANGED = N_(
    "The wording of the boxes below changed since you opened the page. Please read it and pledge again."
)

_stored: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()


def store_texts(
    conn: Connection, campaign: Campaign, lang: str = "en", *, inserted: set[str] | None = None
) -> dict[tuple[str, str], str]:
    """Make sure every wording of ``campaign``'s form in ``lang`` is stored (``conn``'s transaction); returns
    ``{(kind, organisation): hash}``. Usually no statement at all: only wordings not yet seen committed are looked up.
    ``inserted`` collects the hashes this transaction inserted: pass the same set to every call of one transaction (as
    :func:`record` does), so that a wording it inserted is never taken for a committed one (it may still roll back)."""
    inserted = set() if inserted is None else inserted
    shown = boxes(campaign, lang)
    stored = _stored.setdefault(conn.engine, set())
    missing = [b for b in shown if b.hash not in stored]
    if missing:
        found = set(conn.execute(select(_T.c.hash).where(_T.c.hash.in_([b.hash for b in missing]))).scalars())
        if len(stored) > 10_000:
            stored.clear()
        stored.update(found - inserted)  # committed ones only: ours may still roll back
        for box in (b for b in missing if b.hash not in found):
            version = conn.execute(
                select(func.coalesce(func.max(_T.c.version), 0)).where(
                    _T.c.campaign == campaign.slug, _T.c.kind == box.kind, _T.c.organisation == box.organisation,
                    _T.c.lang == lang,
                )
            ).scalar_one()
            conn.execute(_insert_text(conn.dialect.name), {
                "hash": box.hash, "campaign": campaign.slug, "kind": box.kind, "organisation": box.organisation,
                "lang": lang, "version": int(version) + 1, "text": box.text, "created_at": utcnow(),
            })
            found.add(box.hash)
            inserted.add(box.hash)
    return {(b.kind, b.organisation): b.hash for b in shown}


@dataclass(frozen=True)
class Answer:
    """One pledge's answers, for :func:`record`: ``duplicate`` when the address had pledged already (or it was taken
    by another process meanwhile), so that only ticked boxes are recorded and the opt-in only ever goes up."""

    pledge_id: int
    campaign: Campaign
    form: PledgeForm
    now: datetime
    duplicate: bool


def record(conn: Connection, settings: Settings, answers: Iterable[Answer]) -> None:
    """Store the consent records and :class:`PledgeData` of ``answers`` in ``conn``'s transaction: one executemany for
    the records and one upsert per kind of pledge (new or repeat), whatever the batch's size."""
    records: list[dict[str, Any]] = []
    data: dict[bool, dict[int, dict[str, Any]]] = {False: {}, True: {}}
    stored: set[tuple[int, str]] = set()
    inserted: set[str] = set()
    for a in answers:
        lang = a.form.lang
        if (id(a.campaign), lang) not in stored:
            store_texts(conn, a.campaign, lang, inserted=inserted)
            stored.add((id(a.campaign), lang))
        url = page_url(settings, a.campaign)
        updates = iter(a.form.updates)
        for box in boxes(a.campaign, lang):
            given = bool(next(updates, False)) if box.kind == UPDATES else True
            if a.duplicate and not given:
                continue
            records.append({
                "pledge_id": a.pledge_id, "campaign": a.campaign.slug, "kind": box.kind,
                "organisation": box.organisation, "given": given, "text_hash": box.hash, "lang": lang,
                "page_url": url, "at": a.now,
            })
        first = bool(a.form.updates[:1] and a.form.updates[0]) and bool(organisations(a.campaign))
        data[a.duplicate][a.pledge_id] = {  # a later answer of the batch for the same pledge wins
            "pledge_id": a.pledge_id, "campaign": a.campaign.slug, "lang": lang, "updates": first,
            "erased_at": None,
        }
    if records:
        conn.execute(_INSERT_RECORD, records)
    for duplicate, rows in data.items():
        if rows:
            conn.execute(_upsert_data(conn.dialect.name, "repeat" if duplicate else "new"), list(rows.values()))


_INSERT_RECORD = insert(_R)


@cache
def _insert_text(dialect: str) -> Any:
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(_T).on_conflict_do_nothing(index_elements=["hash"])


@cache
def _upsert_data(dialect: str, mode: str) -> Any:
    """A ``new`` (or restarted) pledge's data replaces the language and the opt-in; a ``repeat`` can only opt in; a
    ``choice`` on the supporter's own page sets the opt-in alone."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(_D)
    sets: dict[str, Any] = {"updates": stmt.excluded.updates}
    if mode == "new":
        sets["lang"] = stmt.excluded.lang
    elif mode == "repeat":
        sets["updates"] = or_(_D.c.updates, stmt.excluded.updates)
    return stmt.on_conflict_do_update(index_elements=["pledge_id"], set_=sets)



def change_updates(
    conn: Connection, settings: Settings, campaign: Campaign, pledge_id: int, wanted: tuple[bool, ...], now: datetime,
    lang: str = "en",
) -> int:
    """The supporter's own page changed their "keep me informed" answers (``wanted``, in :func:`organisations`
    order): one record per box whose latest answer differs (the words shown there, in ``lang``, are these boxes' own),
    and ``PledgeData.updates`` follows the first organisation's. Returns how many answers changed."""
    orgs = organisations(campaign)
    if not orgs:
        return 0
    hashes = store_texts(conn, campaign, lang)
    latest: dict[str, bool] = {}
    for row in conn.execute(
        select(_R.c.organisation, _R.c.given).where(_R.c.pledge_id == pledge_id, _R.c.kind == UPDATES).order_by(_R.c.id)
    ):
        latest[row.organisation] = bool(row.given)
    url = f"{settings.public_url}/c/{campaign.slug}/me"[:URL_MAX]  # never the token: it is a credential
    changed = [
        {"pledge_id": pledge_id, "campaign": campaign.slug, "kind": UPDATES, "organisation": org, "given": given,
         "text_hash": hashes[(UPDATES, org)], "lang": lang, "page_url": url, "at": now}
        for org, given in zip(orgs, list(wanted) + [False] * len(orgs), strict=False)
        if latest.get(org, False) != given
    ]
    if changed:
        conn.execute(_INSERT_RECORD, changed)
    first = bool(wanted[:1] and wanted[0])
    conn.execute(_upsert_data(conn.dialect.name, "choice"), [
        {"pledge_id": pledge_id, "campaign": campaign.slug, "lang": lang, "updates": first, "erased_at": None}
    ])
    return len(changed)
