"""Test support for the release and share tests: a campaign with a pledge, bulk pledges, and a subprocess runner.

``python -m tests.pledges.release_support --db URL --data DIR [--smtp URL] [--batch N]`` advances the release and
drains the mail queue, alternating one fan-out batch and one mail batch, until every email is sent (used by the
kill -9 and several-workers tests). ``--mail-only`` only sends.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from social_campaign.campaign.model import Campaign, PledgeSpec
from social_campaign.models import Pledge, PledgeData, PledgeStatus

#: Both in the recent past, so emails queued "at" these times are due for the real-clock mail worker.
FIRE_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
DEADLINE = FIRE_AT - timedelta(hours=3)
VARIANTS = (
    "Every child has rights. Ratify the #CRC now! https://example.org/crc #ChildrensDay",
    "The US stands alone: 196 countries ratified the #CRC. https://example.org/crc #USstandsAlone",
    "Children's rights can't wait & neither can we: ratify the #CRC https://example.org/crc #childrights",
)


#: The French side of :func:`make_campaign` with ``languages=("en", "fr")``.
FR_NAME = "Journée mondiale de l'enfance"
FR_VARIANTS = (
    "Chaque enfant a des droits. Ratifiez la #CIDE maintenant ! https://example.org/crc #JourneeDeLEnfance",
    "Les droits de l'enfant n'attendent pas : ratifiez la #CIDE https://example.org/crc",
)


def make_campaign(root: Path, *, goal: int = 3, channels: tuple[str, ...] = ("outbox", "x"),
                  variants: tuple[str, ...] = VARIANTS, languages: tuple[str, ...] = ("en",)) -> Campaign:
    """The test campaign; with ``"fr"`` among ``languages`` it has a French name and French variants."""
    french = "fr" in languages
    spec = PledgeSpec(
        goal=goal, deadline=DEADLINE, fire_at=FIRE_AT, message="thunderclap", channels=channels, variants=variants,
        org_texts={c: f"[{c}] {variants[0]}" for c in channels},
        variants_by_lang={languages[0]: variants, **({"fr": FR_VARIANTS} if french else {})},
    )
    return Campaign(
        slug="childrens-day", name="Universal Children's Day", timezone=ZoneInfo("America/New_York"),
        hashtags=("#ChildrensDay", "#CRC"), link="https://example.org/crc", posts=(), root=root,
        source=root / "schedule.toml", content_hash="test", pledge=spec, languages=languages,
        names={"fr": FR_NAME} if french else {},
    )


def add_pledges(engine: Engine, n: int, *, status: str = PledgeStatus.confirmed, start: int = 0,
                campaign: str = "childrens-day", variants: int = len(VARIANTS), lang: str | None = None) -> None:
    """Insert ``n`` pledges (emails ``p<i>@example.org``) in bulk; with ``lang``, each with its ``PledgeData`` row
    recording that page language (as intake does)."""
    now = DEADLINE - timedelta(days=3)
    rows = []
    for i in range(start, start + n):
        email = f"p{i}@example.org"
        rows.append({
            "campaign": campaign, "name": f"Supporter {i}", "email": email, "email_canonical": email,
            "active_email": email if status != PledgeStatus.fraud else None, "status": str(status), "ip_hash": "",
            "share_token": secrets.token_urlsafe(18), "variant": i % variants, "created_at": now,
            "confirmed_at": now if status == PledgeStatus.confirmed else None,
        })
    with engine.begin() as conn:
        for k in range(0, len(rows), 1000):
            if lang is None:
                conn.execute(insert(Pledge.__table__), rows[k : k + 1000])  # type: ignore[attr-defined]
                continue
            got = conn.execute(insert(Pledge.__table__).returning(Pledge.__table__.c.id),  # type: ignore[attr-defined]
                               rows[k : k + 1000]).scalars().all()
            conn.execute(insert(PledgeData.__table__),  # type: ignore[attr-defined]
                         [{"pledge_id": i, "campaign": campaign, "lang": lang} for i in got])


def main(argv: list[str] | None = None) -> None:
    from pydantic import SecretStr

    from social_campaign.config import Settings
    from social_campaign.db import make_engine
    from social_campaign.mail import worker
    from social_campaign.mail.transport import build_transport
    from social_campaign.pledges import release

    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--smtp")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--mail-only", action="store_true")
    ap.add_argument("--lease", type=float, default=3.0)
    args = ap.parse_args(argv)
    settings = Settings(data_dir=args.data, database_url=args.db, smtp_url=SecretStr(args.smtp) if args.smtp else None,
                        lease_seconds=args.lease, pledge_rate_limits="", secret_key=SecretStr("test-key-for-release"),
                        _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(args.db)
    campaign = make_campaign(args.data)
    release.FANOUT_BATCH = args.batch
    me = worker.worker_id()
    now = FIRE_AT + timedelta(seconds=1)
    fanout_done = args.mail_only
    idle_since: float | None = None
    marker = worker.SentMarker(engine, me, settings.lease_seconds)
    with build_transport(settings) as transport:
        while True:
            if not fanout_done:
                fanout_done = release.advance(settings, engine, campaign, now, max_batches=1).done
            worker.recover_stale(engine, datetime.now(UTC), settings.lease_seconds)
            n = worker.process_batch(settings, engine, transport, me, limit=args.batch, marker=marker)
            if n == 0 and fanout_done:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > args.lease + 1:  # nothing left, nothing leased by others
                    break
                threading.Event().wait(0.1)
            else:
                idle_since = None
    engine.dispose()


if __name__ == "__main__":
    main()
