"""The numbers of a campaign's dashboard (``/admin/c/{slug}``), aggregated in SQL.

Every figure comes from grouped queries, never a loop over pledges: pledges by status, the funnel's counts, and the
big GROUP BYs of ``aggregates`` (confirmed pledges by hour, folded here into the campaign's days: at most 24 rows a
day whatever the number of pledges; by country; deliveries by hour and state), which the page may reuse for up to 2
seconds. Counts, lists and ``live.json`` are read afresh on every request.

* **Pledged** counts every pledge but fraud (as ``social-campaign pledges`` does); **confirmed** those that count;
  **notified** the result emails sent (``release`` and ``not_reached`` in state ``sent``); **clicked** the distinct
  pledges with a share click; **auto-posted** stays 0 until auto-share exists.
* The projection is linear: the confirmations of the last 7 days divided by 7, continued to the deadline.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from social_campaign.campaign.model import Campaign
from social_campaign.models import Account, AccountStatus, Delivery
from social_campaign.pledges.progress import iso_utc, state_of
from social_campaign.workspace import aggregates

D = Delivery.__table__  # type: ignore[attr-defined]
A = Account.__table__  # type: ignore[attr-defined]

FAILURE_STATES = ("failed", "needs_reconnect", "unconfirmed", "missed")
DELIVERY_STATES = ("scheduled", "sending", "sent", "failed", "needs_reconnect", "unconfirmed", "cancelled", "missed")
RATE_DAYS = 7
TOP_COUNTRIES = 15
OTHER, NOT_GIVEN = "other", "not given"  # the two country rows that are not a country (labels translated in the page)
LIST_LIMIT = 50


@dataclass(frozen=True)
class Funnel:
    pledged: int
    confirmed: int
    notified: int
    clicked: int
    autoposted: int = 0

    def steps(self) -> list[tuple[str, int]]:
        return [("pledged", self.pledged), ("confirmed", self.confirmed), ("notified", self.notified),
                ("clicked", self.clicked), ("autoposted", self.autoposted)]


@dataclass(frozen=True)
class Series:
    """Confirmed pledges per day in the campaign's zone (``days``: oldest first, no gaps) and the projection."""

    days: list[tuple[date, int]]
    confirmed: int
    goal: int
    now: datetime
    deadline: datetime
    recent: int  # confirmed in the last RATE_DAYS days
    zone: ZoneInfo

    @property
    def rate(self) -> float:
        return self.recent / RATE_DAYS

    @property
    def projected(self) -> int | None:
        """Confirmed pledges expected at the deadline at the recent rate (None once the deadline has passed)."""
        if self.now >= self.deadline:
            return None
        return self.confirmed + round(self.rate * (self.deadline - self.now).total_seconds() / 86400)


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    post_id: str
    channel: str
    kind: str
    state: str
    due_at: datetime
    last_error: str | None
    remote_url: str | None


@dataclass(frozen=True)
class Numbers:
    slug: str
    state: str
    goal: int
    confirmed: int
    deadline: datetime | None
    fire_at: datetime | None
    now: datetime
    funnel: Funnel
    series: Series | None
    countries: list[tuple[str, int]]
    delivery_states: dict[str, int]
    delivery_days: list[tuple[date, dict[str, int]]]
    upcoming: list[DeliveryRow]
    failures: list[DeliveryRow]
    accounts: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def failures_total(self) -> int:
        return sum(self.delivery_states.get(s, 0) for s in FAILURE_STATES)


@lru_cache(maxsize=16384)
def local_day(hour: str, zone: ZoneInfo) -> date:
    """The campaign's day of a ``YYYY-MM-DD HH`` UTC hour (remembered: the same hours come back on every request)."""
    return datetime.fromisoformat(f"{hour}:00+00:00").astimezone(zone).date()


def funnel(counts: aggregates.Counts) -> Funnel:
    by_status = counts.by_status
    pledged = sum(n for status, n in by_status.items() if status != "fraud")
    return Funnel(pledged, by_status.get("confirmed", 0), counts.notified, counts.clicked)


def series(hours: list[tuple[str, int]], campaign: Campaign, confirmed: int, now: datetime) -> Series | None:
    """Confirmed pledges by day in the campaign's zone, folded from the hourly counts (right in any zone whose offset
    is whole hours). The rate's window is the current hour and the 7 x 24 before it."""
    spec = campaign.pledge
    if spec is None:
        return None
    zone = campaign.timezone
    since = (now - timedelta(days=RATE_DAYS)).strftime("%Y-%m-%d %H")
    per_day: Counter[date] = Counter()
    recent = 0
    for hour, n in hours:
        per_day[local_day(hour, zone)] += n
        if hour >= since:
            recent += n
    days: list[tuple[date, int]] = []
    if per_day:
        day, last = min(per_day), max(max(per_day), now.astimezone(zone).date())
        while day <= last:
            days.append((day, per_day.get(day, 0)))
            day += timedelta(days=1)
    return Series(days, confirmed, spec.goal, now, spec.deadline, recent, zone)


def countries(rows: list[tuple[str | None, int]]) -> list[tuple[str, int]]:
    """Confirmed pledges per country (spellings folded by case and spaces), the top 15, then ``other`` and
    ``not given``; ``rows`` has one row per spelling, so this loop is over spellings, not pledges."""
    counts: Counter[str] = Counter()
    labels: dict[str, str] = {}
    for country, n in rows:
        label = (country or "").strip()
        key = label.casefold()
        counts[key] += int(n)
        labels[key] = min(labels.get(key, label), label)
    missing = counts.pop("", 0)
    named = sorted(((labels[k], n) for k, n in counts.items()), key=lambda item: (-item[1], item[0].casefold()))
    out = named[:TOP_COUNTRIES]
    rest = sum(n for _, n in named[TOP_COUNTRIES:])
    if rest:
        out.append((OTHER, rest))
    if missing:
        out.append((NOT_GIVEN, missing))
    return out


def delivery_days(rows: list[tuple[str, str, int]], zone: ZoneInfo) -> list[tuple[date, dict[str, int]]]:
    """Deliveries per day (campaign's zone) and state, oldest first, days without any left out."""
    days: dict[date, Counter[str]] = {}
    for hour, state, n in rows:
        days.setdefault(local_day(hour, zone), Counter())[state] += n
    return [(d, dict(days[d])) for d in sorted(days)]


def _rows(conn: Connection, query: Any) -> list[DeliveryRow]:
    return [
        DeliveryRow(r.id, r.post_id, r.channel, r.kind, r.state, r.due_at.replace(tzinfo=UTC), r.last_error, r.remote_url)
        for r in conn.execute(query).all()
    ]


def _columns() -> list[Any]:
    return [D.c.id, D.c.post_id, D.c.channel, D.c.kind, D.c.state, D.c.due_at, D.c.last_error, D.c.remote_url]


def upcoming(conn: Connection, slug: str, now: datetime, limit: int = LIST_LIMIT) -> list[DeliveryRow]:
    """The next deliveries still to go out (scheduled or sending), soonest first."""
    return _rows(conn, select(*_columns()).where(D.c.campaign == slug, D.c.state.in_(("scheduled", "sending")))
                 .order_by(D.c.due_at, D.c.id).limit(limit))


def failures(conn: Connection, slug: str, limit: int = LIST_LIMIT) -> list[DeliveryRow]:
    """The newest failures (failed, needs_reconnect, unconfirmed, missed)."""
    return _rows(conn, select(*_columns()).where(D.c.campaign == slug, D.c.state.in_(FAILURE_STATES))
                 .order_by(D.c.updated_at.desc(), D.c.id.desc()).limit(limit))


def accounts(conn: Connection) -> list[tuple[str, str | None]]:
    """Accounts that need reconnecting: (channel, the network's reason)."""
    rows = conn.execute(select(A.c.channel, A.c.reason).where(A.c.status == AccountStatus.needs_reconnect)
                        .order_by(A.c.channel)).all()
    return [(str(c), r) for c, r in rows]


def numbers(engine: Engine, campaign: Campaign, now: datetime, *, max_age: float = 0.0) -> Numbers:
    """Everything the dashboard page shows. The counts may be up to ``max_age`` seconds old (``aggregates.cached``);
    the lists are read now."""
    slug, spec, zone = campaign.slug, campaign.pledge, campaign.timezone
    counts = aggregates.cached(engine, slug, max_age)
    f = funnel(counts)
    with engine.connect() as conn:
        next_posts, failed, reconnect = upcoming(conn, slug, now), failures(conn, slug), accounts(conn)
    return Numbers(
        slug=slug, state=state_of(engine, spec, slug, f.confirmed, now) if spec else "no pledge",
        goal=spec.goal if spec else 0, confirmed=f.confirmed, deadline=spec.deadline if spec else None,
        fire_at=spec.fire_at if spec else None, now=now, funnel=f, series=series(counts.hours, campaign, f.confirmed, now),
        countries=countries(counts.countries), delivery_states=counts.delivery_states,
        delivery_days=delivery_days(counts.delivery_hours, zone), upcoming=next_posts, failures=failed,
        accounts=reconnect,
    )


def live(engine: Engine, campaign: Campaign, now: datetime, *, max_age: float = 0.0) -> dict[str, Any]:
    """The numbers ``live.json`` gives (and the page updates in place): counts, funnel, state, deliveries by state."""
    slug, spec = campaign.slug, campaign.pledge
    counts = aggregates.cached(engine, slug, max_age)
    f, states = funnel(counts), counts.delivery_states
    state = state_of(engine, spec, slug, f.confirmed, now) if spec else "no pledge"
    return {
        "slug": slug, "at": iso_utc(now), "state": state, "goal": spec.goal if spec else 0, "confirmed": f.confirmed,
        "deadline": iso_utc(spec.deadline) if spec else None, "fire_at": iso_utc(spec.fire_at) if spec else None,
        "funnel": dict(f.steps()), "deliveries": {s: states.get(s, 0) for s in DELIVERY_STATES},
        "failures": sum(states.get(s, 0) for s in FAILURE_STATES),
    }


def as_json(data: Numbers) -> dict[str, Any]:
    """The read-only JSON for scripts (``/admin/api/c/{slug}/dashboard.json``)."""
    s = data.series
    return {
        "slug": data.slug, "at": iso_utc(data.now), "state": data.state, "goal": data.goal, "confirmed": data.confirmed,
        "deadline": iso_utc(data.deadline) if data.deadline else None,
        "fire_at": iso_utc(data.fire_at) if data.fire_at else None,
        "funnel": dict(data.funnel.steps()),
        "pledges_by_day": [{"day": d.isoformat(), "confirmed": n} for d, n in (s.days if s else [])],
        "projection": None if s is None else {"rate_per_day": round(s.rate, 2), "at_deadline": s.projected,
                                               "window_days": RATE_DAYS},
        "countries": [{"country": c, "confirmed": n} for c, n in data.countries],
        "deliveries": {st: data.delivery_states.get(st, 0) for st in DELIVERY_STATES},
        "deliveries_by_day": [{"day": d.isoformat(), **by} for d, by in data.delivery_days],
        "failures": [_row_json(r) for r in data.failures],
        "accounts_needing_reconnect": [{"channel": c, "reason": r} for c, r in data.accounts],
    }


def _row_json(r: DeliveryRow) -> dict[str, Any]:
    return {"id": r.id, "post_id": r.post_id, "channel": r.channel, "kind": r.kind, "state": r.state,
            "due_at": iso_utc(r.due_at), "reason": r.last_error}
