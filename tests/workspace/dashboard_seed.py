"""A small, known campaign history for the dashboard tests: pledges on known days, emails, share clicks, deliveries.

With ``NOW`` = 2026-11-20 12:00 UTC and the campaign's deadline 30 days later (``tests.web.conftest.make_campaign``):
pledged 12 (fraud left out), confirmed 9 (7 in the last 7 days: a rate of 1 a day, about 39 at the deadline),
notified 2, clicked 2; countries France 4 (two spellings), Kenya 2, not given 3.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy.engine import Engine

from social_campaign.db import session_scope
from social_campaign.models import Account, Delivery, EmailMessage, Pledge, ShareClick

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SLUG = "childrens-day"
_ids = count(1)

#: (days before NOW, country) of each confirmed pledge
CONFIRMED = [(10, "France"), (10, "Kenya"), (5, "France"), (5, " france "), (5, None),
             (1, "Kenya"), (1, ""), (1, "France"), (1, None)]
#: (state, hours from NOW, last_error) of each delivery; the i-th is post ``post-i`` (:data:`POSTS`)
DELIVERIES = [
    ("sent", -48, None), ("sent", -47, None), ("failed", -24, "The network refused the text: duplicate post."),
    ("missed", -30, "not sent: 3 h late"), ("unconfirmed", -20, "timed out after the request was sent"),
    ("needs_reconnect", -10, "token revoked"), ("scheduled", 5, None), ("scheduled", 30, None), ("cancelled", 50, None),
]

POSTS = tuple(f"post-{i}" for i in range(len(DELIVERIES)))


def pledge(slug: str, status: str, at: datetime, country: str | None = None) -> Pledge:
    n = next(_ids)
    return Pledge(
        campaign=slug, name=f"P{n}", email=f"p{n}@example.org", email_canonical=f"p{n}@example.org",
        active_email=None if status == "fraud" else f"p{n}@example.org", country=country, status=status,
        created_at=at - timedelta(minutes=5), confirmed_at=at if status in ("confirmed", "withdrawn") else None,
        share_token=f"share-{n}-{slug}",
    )


def email(slug: str, kind: str, state: str) -> EmailMessage:
    n = next(_ids)
    return EmailMessage(campaign=slug, kind=kind, to_addr=f"p{n}@example.org", to_canonical=f"p{n}@example.org",
                        subject="s", body_text="b", message_id=f"<{n}@example.org>", dedupe_key=f"{kind}:{slug}:{n}",
                        state=state)


def delivery(slug: str, state: str, due_at: datetime, last_error: str | None = None, channel: str = "outbox",
             post_id: str | None = None) -> Delivery:
    n = next(_ids)
    return Delivery(campaign=slug, post_id=post_id or f"post-{n}", channel=channel, due_at=due_at, state=state,
                    text="hello", last_error=last_error, updated_at=due_at)


def seed(engine: Engine, slug: str = SLUG, now: datetime = NOW) -> dict[str, int]:
    """The history above; returns the ids of the first confirmed pledges by name (``a``, ``b``) and deliveries by state."""
    ids: dict[str, int] = {}
    with session_scope(engine) as s:
        confirmed = [pledge(slug, "confirmed", now - timedelta(days=d), c) for d, c in CONFIRMED]
        others = [pledge(slug, "pending", now), pledge(slug, "pending", now), pledge(slug, "withdrawn", now - timedelta(days=3))]
        others += [pledge(slug, "fraud", now) for _ in range(3)]
        s.add_all(confirmed + others)
        s.add_all([email(slug, "release", "sent"), email(slug, "release", "sent"), email(slug, "release", "queued"),
                   email(slug, "confirm", "sent")])
        rows = [delivery(slug, st, now + timedelta(hours=h), err, post_id=f"post-{i}")
                for i, (st, h, err) in enumerate(DELIVERIES)]
        s.add_all(rows)
        s.add(Account(channel="x", status="needs_reconnect", reason="token revoked"))
        s.flush()
        a, b = confirmed[0].id, confirmed[1].id
        assert a is not None and b is not None
        s.add_all([ShareClick(campaign=slug, pledge_id=a, channel="x"), ShareClick(campaign=slug, pledge_id=a, channel="x"),
                   ShareClick(campaign=slug, pledge_id=b, channel="whatsapp")])
        ids.update(a=a, b=b)
        for row in rows:
            assert row.id is not None
            ids.setdefault(row.state, row.id)
    return ids
