"""The organisation's list: supporters who opted in to updates, streamed as CSV or JSON in bounded memory.

Who is on it (:func:`opted_in` and :func:`first_consents`; :func:`kept_ids`, what the retention job keeps): the pledge is **confirmed** (the address proved
to be the supporter's by the emailed link; a pending pledge's address is unverified, a withdrawn pledge took
everything back), a consent record says the supporter ticked "Keep me informed by <organisation>"
(``ConsentRecord`` kind ``updates``, given), the data is not erased and the address did not ask us to stop emailing
it about the campaign (``MailOptOut``). Without ``organisation`` the list is the first organisation's (the
``updates`` box); a co-sponsor's list is asked for by its name.

Rows are read with a server-side cursor on PostgreSQL (2,000 at a time, straight from the driver) and written as they
come.
CSV cells that a spreadsheet would read as a formula (starting with ``= + - @``, a tab or a carriage return) get a
leading ``'``. JSON is one array, written element by element (valid JSON for ``json.load`` and ``jq``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import ColumnElement, String, and_, exists, func, select, type_coerce
from sqlalchemy.engine import Connection, Engine

from social_campaign.errors import InputError
from social_campaign.models import (
    CampaignRevision,
    ConsentRecord,
    ConsentText,
    MailOptOut,
    Pledge,
    PledgeData,
    PledgeRelease,
    PledgeStatus,
)

P = Pledge.__table__  # type: ignore[attr-defined]
D = PledgeData.__table__  # type: ignore[attr-defined]
C = ConsentRecord.__table__  # type: ignore[attr-defined]
T = ConsentText.__table__  # type: ignore[attr-defined]
OPT = MailOptOut.__table__  # type: ignore[attr-defined]

FORMATS = ("csv", "json")
COLUMNS = (
    "pledge_id", "name", "email", "country", "language", "organisation", "consent_given_at", "consent_text",
    "consent_version", "consent_hash", "consent_page_url", "pledged_at", "confirmed_at",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
YIELD_PER = 2000


def neutralise(value: str) -> str:
    """A cell a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``, tab, CR first) gets a leading ``'``."""
    return "'" + value if value.startswith(FORMULA_START) else value


def campaign_exists(conn: Connection, slug: str) -> bool:
    """A campaign is known once synced, pledged to or released (its rows exist)."""
    for table, column in ((CampaignRevision.__table__, "campaign"), (P, "campaign"), (PledgeRelease.__table__, "campaign")):  # type: ignore[attr-defined]
        if conn.execute(select(table.c[column]).where(table.c[column] == slug).limit(1)).first() is not None:
            return True
    return False


def default_organisation(conn: Connection, slug: str) -> str | None:
    """The first organisation's name: every new pledge records its boxes in order, so the campaign's first
    ``updates`` record is the first box's. None when the campaign has no organisation (nobody is on a list)."""
    query = select(C.c.organisation).where(C.c.campaign == slug, C.c.kind == "updates").order_by(C.c.id).limit(1)
    return next((str(r[0]) for r in _stream(conn, query)), None)


def first_consents(slug: str, organisation: str) -> Any:
    """``(pledge_id, cid)``: each pledge's first ticked box for ``organisation`` (a repeat pledge may tick it again;
    one row per supporter). A grouped derived table, joined: both databases hash it once instead of a subquery per row."""
    return (
        select(C.c.pledge_id, func.min(C.c.id).label("cid"))
        .where(C.c.campaign == slug, C.c.kind == "updates", C.c.given.is_(True), C.c.organisation == organisation)
        .group_by(C.c.pledge_id)
        .subquery("first_consent")
    )


def opted_in(slug: str) -> ColumnElement[bool]:
    """The conditions on the pledge (``P``, joined with PledgeData ``D``) for being on a list of ``slug``."""
    return and_(
        P.c.campaign == slug,
        P.c.status == PledgeStatus.confirmed.value,
        D.c.erased_at.is_(None),
        ~exists().where(OPT.c.campaign == P.c.campaign, OPT.c.email_canonical == P.c.email_canonical),
    )


def kept_ids(slug: str) -> Any:
    """The ids of pledges of ``slug`` that any organisation's list holds (what retention keeps)."""
    return (
        select(P.c.id)
        .join(D, D.c.pledge_id == P.c.id)
        .join(C, and_(C.c.pledge_id == P.c.id, C.c.kind == "updates", C.c.given.is_(True)))
        .where(P.c.campaign == slug, P.c.status == PledgeStatus.confirmed.value, D.c.erased_at.is_(None),
               ~exists().where(OPT.c.campaign == P.c.campaign, OPT.c.email_canonical == P.c.email_canonical))
    )


def rows(conn: Connection, slug: str, organisation: str | None = None) -> Iterator[tuple[Any, ...]]:
    """``organisation``'s list (default: the first organisation's), in pledge order, one tuple of :data:`COLUMNS` per
    supporter (strings, and the id and version as ints), streamed."""
    organisation = organisation if organisation is not None else default_organisation(conn, slug)
    if organisation is None:
        return
    text = {c: func.coalesce(c, "") for c in (P.c.country, D.c.lang, T.c.text, C.c.page_url)}
    when = {c: type_coerce(c, String) for c in (C.c.at, P.c.created_at, P.c.confirmed_at)}  # no per-row tz work
    query = (
        select(P.c.id, P.c.name, P.c.email, text[P.c.country], text[D.c.lang], C.c.organisation, when[C.c.at],
               text[T.c.text], T.c.version, C.c.text_hash, text[C.c.page_url], when[P.c.created_at],
               when[P.c.confirmed_at])
        .select_from(
            P.join(first := first_consents(slug, organisation), first.c.pledge_id == P.c.id)
            .join(C, C.c.id == first.c.cid).join(D, D.c.pledge_id == P.c.id).outerjoin(T, T.c.hash == C.c.text_hash)
        )
        .where(opted_in(slug))
        .order_by(first.c.pledge_id)  # the grouping's order: SQLite sorts once, not twice
    )
    for r in _stream(conn, query):
        yield (r[0], r[1], r[2], r[3], r[4], r[5], _iso(r[6]), r[7], "" if r[8] is None else r[8], r[9], r[10],
               _iso(r[11]), _iso(r[12]))


def _stream(conn: Connection, query: Any) -> Iterator[tuple[Any, ...]]:
    """The rows of ``query`` as plain tuples, :data:`YIELD_PER` at a time, straight from the driver's cursor (a
    server-side cursor on PostgreSQL): SQLAlchemy compiles the statement, but builds no row object per supporter
    (a quarter of the export's time). The columns need no result processing (see :func:`rows`). On SQLite this also
    keeps the read out of a SQLAlchemy transaction, which this project's engines begin IMMEDIATE (a write lock that
    would hold pledge intake for the whole export): the one SELECT reads one snapshot of the WAL."""
    compiled = query.compile(dialect=conn.dialect)
    driver = conn.connection.driver_connection
    assert driver is not None
    if conn.dialect.name == "postgresql":
        cursor = driver.cursor(name="supporters_export")
        cursor.itersize = YIELD_PER
        cursor.execute(str(compiled), compiled.params)
    else:
        cursor = driver.cursor()
        cursor.execute(str(compiled), [compiled.params[k] for k in compiled.positiontup or ()])
    try:
        while batch := cursor.fetchmany(YIELD_PER):
            yield from batch
    finally:
        cursor.close()


def _iso(value: str | datetime | None) -> str:
    """ISO 8601 UTC of a stored time: SQLite gives its text (``2026-01-10 12:00:00.000000``), PostgreSQL a naive
    datetime; both are UTC (``UTCDateTime`` stores naive UTC)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace(" ", "T", 1) + "+00:00"
    return value.isoformat() + "+00:00"


def write(out: TextIO, records: Iterable[tuple[Any, ...]], fmt: str) -> int:
    """Write ``records`` to ``out`` as ``fmt`` while they come; returns how many."""
    n = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        risky = set(FORMULA_START)
        for rec in records:
            writer.writerow([("'" + v) if v.__class__ is str and v[:1] in risky else v for v in rec])
            n += 1
        return n
    out.write("[")
    for rec in records:
        out.write(("," if n else "") + "\n" + json.dumps(dict(zip(COLUMNS, rec, strict=True)), ensure_ascii=False))
        n += 1
    out.write("\n]\n")
    return n


def export(
    engine: Engine, slug: str, out: TextIO, *, fmt: str = "csv", organisation: str | None = None, actor: str,
    now: datetime,
) -> int:
    """Stream the list of ``slug`` to ``out``; records the export in the audit log (also when it fails half-way).
    An unknown campaign or format is :class:`InputError`, before anything is written."""
    from social_campaign import audit

    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    with engine.connect() as conn:
        if not campaign_exists(conn, slug):
            raise InputError(f"no campaign {slug!r} in the database (--campaign)")
    n, complete = 0, False
    counted = _Counter(rows_on(engine, slug, organisation))
    try:
        n = write(out, counted, fmt)
        complete = True
    finally:
        with engine.begin() as conn:
            audit.record(conn, actor=actor, action="export", campaign=slug, target=slug, at=now,
                         details={"format": fmt, "organisation": organisation or "", "rows": counted.n, "complete": complete})
    return n


def rows_on(engine: Engine, slug: str, organisation: str | None) -> Iterator[tuple[Any, ...]]:
    """:func:`rows` on a connection of its own, closed when the iteration ends."""
    with engine.connect() as conn:
        yield from rows(conn, slug, organisation)


class _Counter:
    """An iterator that counts what went through it (for the audit entry of an export that stopped half-way)."""

    def __init__(self, it: Iterator[tuple[Any, ...]]) -> None:
        self.it, self.n = it, 0

    def __iter__(self) -> _Counter:
        return self

    def __next__(self) -> tuple[Any, ...]:
        item = next(self.it)
        self.n += 1
        return item
