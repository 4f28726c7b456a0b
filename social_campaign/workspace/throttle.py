"""Login throttling: failed logins per account and per client address, in fixed windows
(``settings.login_rate_limits``, e.g. ``5/300s,20/3600s``).

The counts live in the pledges' ``RateBucket`` table (``pledges.abuse.count_attempts``) under the campaign keys
``_login:account`` and ``_login:client``, keyed by ``crypto.keyed_hash`` of the address or the IP: the limits hold
across processes and nothing readable is stored. Only failures count; while an account or a client is at a limit,
every attempt is refused (the password is not even checked) until that window ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, not_, or_, select
from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.config_checks import parse_rate_limits
from social_campaign.crypto import keyed_hash
from social_campaign.models import RateBucket
from social_campaign.pledges.abuse import count_attempts, window_start, windows

ACCOUNT = "_login:account"
CLIENT = "_login:client"
TOTP_USED, TOTP_STEP = "_totp", 30  # the TOTP steps used, one bucket per user and step (workspace.totp)
#: Every RateBucket key of the workspace: ``pledges.abuse.prune`` must leave them to :func:`prune`.
KEYS = (ACCOUNT, CLIENT, TOTP_USED)
_B = RateBucket.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Keys:
    """The bucket keys of one login attempt."""

    account: str
    client: str


def keys(settings: Settings, email: str, ip: str) -> Keys:
    return Keys(account=keyed_hash(settings.key, email.strip().lower(), purpose="login"),
                client=keyed_hash(settings.key, ip, purpose="ip"))


def _limits(settings: Settings) -> dict[int, int]:
    return windows(parse_rate_limits(settings.login_rate_limits))


def blocked_until(engine: Engine, settings: Settings, key: Keys, now: datetime) -> datetime | None:
    """When the account or the client may try again, if either has used up a window's failures; else ``None``."""
    limit_of = _limits(settings)
    if not limit_of:
        return None
    wanted = [and_(_B.c.campaign == slug, _B.c.ip_hash == hashed, _B.c.window_seconds == s,
                   _B.c.window_start == window_start(now, s))
              for slug, hashed in ((ACCOUNT, key.account), (CLIENT, key.client)) for s in limit_of]
    with engine.connect() as conn:
        rows = conn.execute(select(_B.c.window_seconds, _B.c.window_start, _B.c.hits).where(or_(*wanted))).all()
    ends = [start + timedelta(seconds=s) for s, start, hits in rows if hits >= limit_of[s]]
    return max(ends) if ends else None


def record_failure(engine: Engine, settings: Settings, key: Keys, now: datetime) -> datetime | None:
    """Count one failed login for the account and the client; returns when they may try again if this one used up
    a window, else ``None``."""
    limits = parse_rate_limits(settings.login_rate_limits)
    if not limits:
        return None
    with engine.begin() as conn:
        over = count_attempts(conn, [(ACCOUNT, key.account, now), (CLIENT, key.client, now)], limits)
    del over  # an attempt over the limit is refused before it is counted; this one was within it
    return blocked_until(engine, settings, key, now)


def prune(settings: Settings, engine: Engine, now: datetime) -> int:
    """Delete the workspace's buckets whose window has ended (and those of windows no longer configured): failed
    logins, and the TOTP steps used (``workspace.totp``, kept 3 steps). Returns how many rows went."""
    limit_of = _limits(settings)
    logins = _B.c.campaign.in_([ACCOUNT, CLIENT])
    ended = [and_(_B.c.window_seconds == s, _B.c.window_start <= now - timedelta(seconds=s)) for s in limit_of]
    unknown = not_(_B.c.window_seconds.in_(list(limit_of))) if limit_of else _B.c.window_seconds.is_not(None)
    steps = and_(_B.c.campaign == TOTP_USED, _B.c.window_start <= now - timedelta(seconds=3 * TOTP_STEP))
    with engine.begin() as conn:
        return int(conn.execute(delete(_B).where(or_(and_(logins, or_(unknown, *ended)), steps))).rowcount or 0)
