"""Supporters with consent records, inserted in bulk (for the erase, export and retention tests and the benchmark).

Pledge ``i`` of ``seed(...)`` is ``Supporter <i>`` at ``p<i>@example.org``; it opted in to the first organisation's
updates when ``i % updates_every == 0`` (a ``ConsentRecord`` of kind ``updates``, given, and ``PledgeData.updates``).
Every pledge also has its ``pledge`` consent record and a record per co-sponsor (not ticked).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from social_campaign.models import ConsentRecord, ConsentText, Pledge, PledgeData, PledgeStatus

ORG = "Child Rights Coalition"
CO_SPONSOR = "Friends of the CRC"
AT = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
TEXTS = {
    ("pledge", ""): "I pledge to share the campaign's message on the release day.",
    ("updates", ORG): f"Keep me informed by {ORG}: news and ways to take action, by email.",
    ("updates", CO_SPONSOR): f"Keep me informed by {CO_SPONSOR}: news and ways to take action, by email.",
}


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def store_texts(engine: Engine, campaign: str) -> None:
    t = ConsentText.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        have = set(conn.execute(select(t.c.hash)).scalars())
        rows = [
            {"hash": text_hash(text), "campaign": campaign, "kind": kind, "organisation": org, "lang": "en", "version": 1,
             "text": text, "created_at": AT}
            for (kind, org), text in TEXTS.items() if text_hash(text) not in have
        ]
        if rows:
            conn.execute(insert(t), rows)


def seed(engine: Engine, n: int, *, campaign: str = "childrens-day", start: int = 0, updates_every: int = 2,
         status: str = PledgeStatus.confirmed, names: dict[int, str] | None = None, chunk: int = 5000) -> list[int]:
    """Insert ``n`` pledges with their consent records; returns their ids in order."""
    store_texts(engine, campaign)
    p, d, c = (m.__table__ for m in (Pledge, PledgeData, ConsentRecord))  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:8000/c/{campaign}"
    ids: list[int] = []
    with engine.begin() as conn:
        for k in range(start, start + n, chunk):
            block = range(k, min(k + chunk, start + n))
            pledges = [{
                "campaign": campaign, "name": (names or {}).get(i, f"Supporter {i}"), "email": f"p{i}@example.org",
                "email_canonical": f"p{i}@example.org", "active_email": f"p{i}@example.org", "status": str(status),
                "country": "CH", "postcode": "1201", "ip_hash": secrets.token_hex(32),
                "confirm_token_hash": secrets.token_hex(32), "withdraw_token_hash": secrets.token_hex(32),
                "share_token": secrets.token_urlsafe(18), "variant": i % 3, "created_at": AT,
                "confirmed_at": AT if status == PledgeStatus.confirmed else None,
            } for i in block]  # fmt: skip
            got = conn.execute(insert(p).returning(p.c.id, p.c.email), pledges).all()
            new = sorted((int(r.id), int(r.email[1:].split("@")[0])) for r in got)
            ids += [pid for pid, _ in new]
            conn.execute(insert(d), [
                {"pledge_id": pid, "campaign": campaign, "lang": "en", "updates": i % updates_every == 0, "erased_at": None}
                for pid, i in new
            ])
            records = []
            for pid, i in new:
                for (kind, org), text in TEXTS.items():
                    given = kind == "pledge" or (org == ORG and i % updates_every == 0)
                    records.append({"pledge_id": pid, "campaign": campaign, "kind": kind, "organisation": org,
                                    "given": given, "text_hash": text_hash(text), "lang": "en", "page_url": url, "at": AT})
            conn.execute(insert(c), records)
    return ids
