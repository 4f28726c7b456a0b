from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlmodel import Session, select

from social_campaign.models import (
    Account,
    AccountStatus,
    Attempt,
    DeliveryState,
    ManagerNotice,
)
from social_campaign.scheduling.claim import claim_due, mark_missed, next_due
from social_campaign.scheduling.sync import sync_loaded
from tests.scheduling.helpers import T0, campaign, post, rows, states

GRACE = timedelta(minutes=15)


def _many(settings, engine, tmp_path, n: int, *, at=T0, channels=("outbox",)):
    posts = [post(f"p{i:04d}", at=at + timedelta(milliseconds=i), channels=channels) for i in range(n)]
    sync_loaded(settings, engine, campaign(tmp_path, posts), T0 - timedelta(hours=1))


def test_claim_takes_only_due_rows_oldest_first_and_records_an_attempt(settings, engine, tmp_path):
    sync_loaded(settings, engine, campaign(tmp_path, [post("late", at=T0 + timedelta(minutes=5)), post("now", at=T0)]), T0 - timedelta(hours=1))
    claims = claim_due(engine, "w1", T0, 10, grace=GRACE)
    assert [(c.delivery.post_id, c.delivery.channel) for c in claims] == [("now", "x"), ("now", "facebook")]
    for c in claims:
        assert c.delivery.state == DeliveryState.sending and c.delivery.claimed_by == "w1" and c.delivery.attempts == 1
    with Session(engine) as session:
        assert [a.outcome for a in session.exec(select(Attempt)).all()] == ["pending", "pending"]
    assert claim_due(engine, "w2", T0, 10, grace=GRACE) == []  # already taken
    assert next_due(engine, T0) == T0 + timedelta(minutes=5)
    assert len(claim_due(engine, "w2", T0 + timedelta(minutes=5), 10, grace=GRACE)) == 2


def test_concurrent_claimers_on_sqlite_never_share_a_row(settings, engine, tmp_path):
    _many(settings, engine, tmp_path, 300)
    got: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def claimer(name: str) -> None:
        try:
            while True:
                claims = claim_due(engine, name, T0 + timedelta(seconds=1), 7, grace=GRACE)
                if not claims:
                    return
                with lock:
                    got.extend(c.delivery.id for c in claims)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(got) == 300 and len(set(got)) == 300
    assert all(r.attempts == 1 and r.state == "sending" for r in rows(engine))
    with Session(engine) as session:
        assert Counter(a.delivery_id for a in session.exec(select(Attempt)).all()) == Counter(dict.fromkeys(got, 1))


def test_grace_window_late_rows_are_missed_never_claimed(settings, engine, tmp_path):
    sync_loaded(
        settings, engine,
        campaign(tmp_path, [post("old", at=T0 - timedelta(minutes=16), channels=("x",)), post("recent", at=T0 - timedelta(minutes=14), channels=("x",))]),
        T0 - timedelta(hours=1),
    )  # fmt: skip
    claims = claim_due(engine, "w", T0, 10, grace=GRACE)
    assert [c.delivery.post_id for c in claims] == ["recent"]  # within the window: goes out at once
    assert mark_missed(engine, T0, grace=GRACE) == 1
    assert states(engine)[("old", "x", "")] == "missed"
    (row,) = rows(engine, post_id="old")
    assert "16 min late" in (row.last_error or "")
    with Session(engine) as session:
        (notice,) = session.exec(select(ManagerNotice)).all()
        assert notice.kind == "missed" and "old on x" in notice.message
    assert mark_missed(engine, T0, grace=GRACE) == 0  # idempotent


def test_next_attempt_and_needs_reconnect_accounts_hold_rows(settings, engine, tmp_path):
    sync_loaded(settings, engine, campaign(tmp_path, [post("a")]), T0 - timedelta(hours=1))
    with Session(engine) as session:
        session.add(Account(channel="x", status=AccountStatus.needs_reconnect, reason="token revoked"))
        fb = session.exec(select(type(rows(engine)[0])).where(type(rows(engine)[0]).channel == "facebook")).one()
        fb.next_attempt_at = T0 + timedelta(seconds=30)
        session.add(fb)
        session.commit()
    assert claim_due(engine, "w", T0, 10, grace=GRACE) == []
    (claim,) = claim_due(engine, "w", T0 + timedelta(seconds=30), 10, grace=GRACE)
    assert claim.delivery.channel == "facebook"
    assert states(engine)[("a", "x", "")] == "scheduled"  # held, not claimed, not lost
