"""Anti-abuse for pledge intake: form validation, the honeypot, rate limits per client IP per campaign, and pruning.

Rate limits come from ``settings.rate_limits`` (``SOCIAL_CAMPAIGN_PLEDGE_RATE_LIMITS``, default ``30/60s,300/3600s``,
empty turns them off) and are counted in fixed windows aligned to the epoch. Each client (the keyed hash of its IP) has
one :class:`RateBucket` row per campaign and window, upserted (``INSERT … ON CONFLICT DO UPDATE SET hits = hits + n
RETURNING hits``) once per write transaction of the group commit: O(1) per attempt however hard one client pushes, and
the limits hold across processes. Every attempt that reaches the database counts in every window; an attempt whose
number in a window is over that window's count is *refused* (the web answer is a 429 saying when to try again) and
stores nothing else. :class:`RateGate` remembers in the web process which clients the database found over a limit
until that window ends, so a flood from one client is answered from memory and never reaches the database.
Honeypot pledges within the limits are stored as fraud and get the normal answer; :func:`prune` (a scheduler job)
deletes ended buckets and fraud rows older than ``fraud_retention_days``.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import and_, delete, not_, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from social_campaign.config import Settings
from social_campaign.errors import BadRequest
from social_campaign.i18n import N_, _, current, ngettext
from social_campaign.i18n.formatting import number
from social_campaign.models import Pledge, PledgeStatus, RateBucket
from social_campaign.pledges.emails import is_valid_email

NAME_MAX = 100
FORMULA_STARTS = ("=", "+", "-", "@")


@dataclass(frozen=True)
class PledgeForm:
    """A validated pledge form. ``website`` is the honeypot (people leave it empty). ``updates`` holds the answer to
    each organisation's "keep me informed" box, in ``supporters.consent.organisations`` order; ``age_ok`` the ticked
    "I am N or older" box; ``lang`` the page's language (their texts: ``supporters/consent.py``)."""

    name: str
    email: str
    country: str | None = None
    postcode: str | None = None
    website: str = ""
    updates: tuple[bool, ...] = ()
    age_ok: bool = False
    lang: str = "en"


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value)


def _too_long(field: str, limit: int) -> BadRequest:
    num = number(limit)
    if field == "country":
        message = ngettext("Please keep the country to %(num)s character.",
                           "Please keep the country to %(num)s characters.", limit) % {"num": num}
    elif field == "postcode":
        message = ngettext("Please keep the postcode to %(num)s character.",
                           "Please keep the postcode to %(num)s characters.", limit) % {"num": num}
    else:
        message = ngettext("Please keep your name to %(num)s character.",
                           "Please keep your name to %(num)s characters.", limit) % {"num": num}
    return BadRequest(message, field=field)


#: A field holding control or format characters (pasted from somewhere, or a bot).
_NOT_ALLOWED = {
    "name": N_("Your name contains characters we cannot accept. Please type it again."),
    "country": N_("The country contains characters we cannot accept. Please type it again."),
    "postcode": N_("The postcode contains characters we cannot accept. Please type it again."),
}


def _optional(field: str, value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    if len(value) > limit:
        raise _too_long(field, limit)
    if _has_control(value):
        raise BadRequest(_(_NOT_ALLOWED[field]), field=field)
    return value or None


def validate_form(
    *, name: str | None, email: str | None, consent: str | None, country: str | None = None,
    postcode: str | None = None, website: str | None = None, updates: Sequence[str | None] = (),
    minimum_age: int | None = None, age_ok: str | None = None, lang: str | None = None,
) -> PledgeForm:
    """Check the fields; raise :class:`BadRequest` for the first bad one: a sentence for people in the active language,
    with ``field`` naming the form field (the page shows it there). ``updates`` are the raw values of the "keep me
    informed" boxes (ticked when non-empty); with ``minimum_age`` the ``age_ok`` box must be ticked. ``lang`` is the
    page's language, recorded with the pledge (default: the active language)."""
    name = (name or "").strip()
    if not name:
        raise BadRequest(_("Please enter your name."), field="name")
    if len(name) > NAME_MAX:
        raise _too_long("name", NAME_MAX)
    if name.startswith(FORMULA_STARTS):
        raise BadRequest(_("Your name cannot start with =, +, - or @."), field="name")
    if _has_control(name):
        raise BadRequest(_(_NOT_ALLOWED["name"]), field="name")
    email = (email or "").strip()
    if not is_valid_email(email):
        raise BadRequest(_("Please enter a valid email address, such as name@example.org."), field="email")
    if not consent:
        raise BadRequest(
            _("Please tick the box, so that we may email you the confirmation link and the call to act."),
            field="consent",
        )
    if minimum_age is not None and not age_ok:
        raise BadRequest(
            _("This pledge is for people aged %(age)s or older. Please tick the box if you are.")
            % {"age": number(minimum_age)},
            field="age_ok",
        )
    return PledgeForm(
        name=name,
        email=email,
        country=_optional("country", country, 60),
        postcode=_optional("postcode", postcode, 20),
        website=(website or "").strip(),
        updates=tuple(bool(v) for v in updates),
        age_ok=bool(age_ok),
        lang=lang or current(),
    )


def windows(limits: list[tuple[int, float]]) -> dict[int, int]:
    """``{window_seconds: count}`` for ``settings.rate_limits``: whole seconds (at least 1), the lowest count per window."""
    out: dict[int, int] = {}
    for count, window in limits:
        seconds = max(1, round(window))
        out[seconds] = min(count, out.get(seconds, count))
    return out


def window_start(now: datetime, seconds: int) -> datetime:
    """The start of the fixed window of ``seconds`` that holds ``now`` (windows are aligned to the Unix epoch)."""
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, UTC)


def count_attempts(
    conn: Connection, attempts: list[tuple[str, str, datetime]], limits: list[tuple[int, float]]
) -> list[datetime | None]:
    """Count ``attempts`` (campaign, ip_hash, when; in arrival order) in their clients' buckets, in ``conn``'s
    transaction, and return for each ``None`` (within every limit) or when its client may try again (the end of the
    latest window it is over). One upsert per bucket touched, however many attempts fall into it."""
    limit_of = windows(limits)
    if not limit_of or not attempts:
        return [None] * len(attempts)
    keys = [[(slug, ip_hash, s, window_start(at, s)) for s in limit_of] for slug, ip_hash, at in attempts]
    added = Counter(key for row in keys for key in row)
    order = sorted(added)  # the same lock order in every transaction (PostgreSQL: no deadlock between processes)
    params = [{"campaign": k[0], "ip_hash": k[1], "window_seconds": k[2], "window_start": k[3], "hits": added[k]}
              for k in order]
    totals = dict(zip(order, conn.execute(_upsert(conn.dialect.name), params).scalars().all(), strict=True))
    seen: Counter[tuple[str, str, int, datetime]] = Counter()
    out: list[datetime | None] = []
    for row in keys:
        retry_at: datetime | None = None
        for key in row:
            seen[key] += 1
            nth = totals[key] - added[key] + seen[key]  # this attempt's number in its bucket
            if nth > limit_of[key[2]]:
                end = key[3] + timedelta(seconds=key[2])
                retry_at = end if retry_at is None else max(retry_at, end)
        out.append(retry_at)
    return out


_B = RateBucket.__table__  # type: ignore[attr-defined]


@cache
def _upsert(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (bucket) DO UPDATE SET hits = hits + excluded.hits RETURNING hits`` in ``dialect``, for
    executemany (the returned rows in parameter order)."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(_B)
    return stmt.on_conflict_do_update(
        index_elements=["campaign", "ip_hash", "window_seconds", "window_start"],
        set_={"hits": _B.c.hits + stmt.excluded.hits},
    ).returning(_B.c.hits, sort_by_parameter_order=True)


def retry_after(retry_at: datetime, now: datetime) -> int:
    """Whole seconds until ``retry_at``, at least 1: the ``Retry-After`` header."""
    return max(1, math.ceil((retry_at - now).total_seconds()))


class RateGate:
    """The clients the database found over a limit, kept in this process until their window ends: their next attempts
    are refused from memory (exact, since a fixed window's count only grows until it ends). Used from the event loop
    only. At most ``max_entries`` clients are remembered (ended ones are dropped first); past that, the database decides
    (and the full table is swept again only once its first entry has ended, so a crowd of clients costs no sweeps)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._until: dict[tuple[str, str], datetime] = {}
        self._next_sweep = datetime.min.replace(tzinfo=UTC)

    def blocked(self, campaign: str, ip_hash: str, now: datetime) -> datetime | None:
        """When the client may try again, if it is known to be over a limit at ``now``."""
        until = self._until.get((campaign, ip_hash))
        if until is not None and until <= now:
            del self._until[(campaign, ip_hash)]
            return None
        return until

    def block(self, campaign: str, ip_hash: str, until: datetime, now: datetime) -> None:
        if len(self._until) >= self.max_entries:
            if now < self._next_sweep:
                return
            self._until = {k: v for k, v in self._until.items() if v > now}
            if len(self._until) >= self.max_entries:
                self._next_sweep = min(self._until.values())
                return
        self._until[(campaign, ip_hash)] = until

    def __len__(self) -> int:
        return len(self._until)


def prune(settings: Settings, engine: Engine, now: datetime) -> dict[str, int]:
    """Job: delete pledge rate buckets whose window has ended (all of them when limits are off, and those of windows no
    longer configured) and fraud pledges older than ``fraud_retention_days``. Buckets keyed ``_…`` belong to the
    workspace's login throttle (``workspace.throttle``, pruned by ``workspace.sessions.prune_job``). Idempotent;
    returns how many rows went."""
    limit_of = windows(settings.rate_limits)
    ended = [and_(_B.c.window_seconds == s, _B.c.window_start <= now - timedelta(seconds=s)) for s in limit_of]
    unknown = not_(_B.c.window_seconds.in_(list(limit_of))) if limit_of else _B.c.window_seconds.is_not(None)
    p = Pledge.__table__  # type: ignore[attr-defined]
    cutoff = now - timedelta(days=settings.fraud_retention_days)
    with engine.begin() as conn:
        pledge_buckets = not_(_B.c.campaign.startswith("_", autoescape=True))  # "_login:…": workspace.throttle's
        buckets = conn.execute(delete(_B).where(pledge_buckets, or_(unknown, *ended))).rowcount
        fraud = conn.execute(delete(p).where(p.c.status == PledgeStatus.fraud.value, p.c.created_at < cutoff)).rowcount
    return {"rate_buckets": int(buckets), "fraud_pledges": int(fraud)}
