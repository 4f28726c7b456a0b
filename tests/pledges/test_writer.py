"""Group commit of pledges (``pledges/writer.py`` and ``intake.store_all``) on real SQLite files and PostgreSQL:
many pledges per transaction, each acknowledged only after its commit, with the semantics of one pledge at a time."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.db import make_engine, upgrade
from social_campaign.models import EmailMessage, EmailState, Pledge, PledgeStatus
from social_campaign.pledges import intake
from social_campaign.pledges.abuse import PledgeForm
from social_campaign.pledges.writer import PledgeWriter
from tests.web.conftest import make_campaign


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    return make_campaign(tmp_path)


@pytest.fixture
def pledge_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", pledge_rate_limits="", public_url="https://pledge.example.org", _env_file=None
    )


def item(settings: Settings, campaign: Campaign, email: str, name: str = "Amina", website: str = "") -> intake.Intake:
    form = PledgeForm(name=name, email=email, website=website)
    return intake.prepare(settings, campaign, form, "203.0.113.9", datetime.now(UTC))


def rows(engine: Engine) -> tuple[list[Pledge], list[EmailMessage]]:
    with Session(engine) as s:
        return (list(s.exec(select(Pledge).order_by(Pledge.id)).all()),  # type: ignore[arg-type]
                list(s.exec(select(EmailMessage).order_by(EmailMessage.id)).all()))  # type: ignore[arg-type]


def test_concurrent_pledges_are_stored_once_each_in_fewer_transactions(
    any_engine: Engine, campaign: Campaign, pledge_settings: Settings
) -> None:
    writer = PledgeWriter(pledge_settings, any_engine)
    seen_committed: list[bool] = []
    lock = threading.Lock()

    def pledge(i: int) -> None:
        writer.submit(item(pledge_settings, campaign, f"s{i}@example.org")).result(30)
        with Session(any_engine) as s:  # acknowledged => committed: another connection sees it at once
            found = s.exec(select(Pledge.id).where(Pledge.email == f"s{i}@example.org")).first() is not None
        with lock:
            seen_committed.append(found)

    threads = [threading.Thread(target=pledge, args=(i,)) for i in range(120)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    writer.close()
    pledges, emails = rows(any_engine)
    assert len(seen_committed) == 120 and all(seen_committed)
    assert sorted(p.email for p in pledges) == sorted(f"s{i}@example.org" for i in range(120))
    assert len({p.share_token for p in pledges}) == 120 and all(p.status == PledgeStatus.pending for p in pledges)
    assert [p.variant for p in pledges] == [p.id % 2 for p in pledges]  # type: ignore[operator]
    assert sorted(e.to_addr for e in emails) == sorted(p.email for p in pledges)
    assert all(e.kind == "confirm" and e.state == EmailState.queued for e in emails)
    assert writer.stored == 120 and writer.batches < 120  # grouped


def test_one_batch_behaves_like_pledges_one_at_a_time(
    any_engine: Engine, campaign: Campaign, pledge_settings: Settings
) -> None:
    spellings = ["jo.smith@gmail.com", "JoSmith@gmail.com", "j.o.s.m.i.t.h+crc@googlemail.com", "JOSMITH+x@GMAIL.COM",
                 "josmith@googlemail.com", "jo.smith+1@gmail.com", "jos.mith@gmail.com"]
    batch = [item(pledge_settings, campaign, e, name=f"Jo {i}") for i, e in enumerate(spellings)]
    batch.insert(2, item(pledge_settings, campaign, "bot@example.org", website="http://spam.example"))
    batch.append(item(pledge_settings, campaign, "other@example.org"))
    with any_engine.begin() as conn:
        intake.store_all(conn, pledge_settings, batch)
    pledges, emails = rows(any_engine)
    assert [(p.email, p.status, p.fraud_reason) for p in pledges] == [
        ("jo.smith@gmail.com", "pending", None), ("bot@example.org", "fraud", "honeypot"),
        ("other@example.org", "pending", None),
    ]
    assert pledges[0].name == "Jo 0"  # the duplicates changed nothing stored
    jo = [e for e in emails if e.to_canonical == "josmith@gmail.com"]
    assert [e.kind for e in jo] == ["confirm"] + ["duplicate"] * 6
    # the cap holds inside one transaction; its last slot is kept for the release news
    assert [e.state for e in jo] == ["queued"] * 4 + ["suppressed"] * 3
    assert all(e.to_addr == "jo.smith@gmail.com" for e in jo)
    assert not [e for e in emails if e.to_canonical == "bot@example.org"]


def test_a_failing_pledge_fails_alone(any_engine: Engine, campaign: Campaign, pledge_settings: Settings) -> None:
    """A batch that fails is rolled back and retried one pledge per transaction: only the bad one's request fails."""
    writer = PledgeWriter(pledge_settings, any_engine)
    good = [item(pledge_settings, campaign, f"g{i}@example.org") for i in range(4)]
    bad = item(pledge_settings, campaign, "bad@example.org")
    bad = intake.Intake(**{**bad.__dict__, "form": PledgeForm(name=object(), email="bad@example.org")})  # type: ignore[arg-type]
    jobs: list[tuple[intake.Intake, Future[None]]] = [(x, Future()) for x in (good[0], good[1], bad, good[2], good[3])]
    for _, f in jobs:
        f.set_running_or_notify_cancel()
    writer._write(jobs)  # one batch, as the writer thread takes it
    outcomes = [f.exception(5) for _, f in jobs]
    assert [o is None for o in outcomes] == [True, True, False, True, True]
    assert isinstance(outcomes[2], SQLAlchemyError)
    pledges, emails = rows(any_engine)
    assert sorted(p.email for p in pledges) == sorted(f"g{i}@example.org" for i in range(4))
    assert sorted(e.to_addr for e in emails) == sorted(f"g{i}@example.org" for i in range(4))
    assert writer.batches == 4 and writer.stored == 4


def test_close_stores_what_is_queued_and_refuses_more(
    any_engine: Engine, campaign: Campaign, pledge_settings: Settings
) -> None:
    writer = PledgeWriter(pledge_settings, any_engine, idle_seconds=60)
    futures = [writer.submit(item(pledge_settings, campaign, f"c{i}@example.org")) for i in range(30)]
    writer.close()
    assert all(f.done() and f.exception() is None for f in futures)
    assert len(rows(any_engine)[0]) == 30
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(item(pledge_settings, campaign, "late@example.org"))


def test_idle_writer_thread_ends_and_restarts(any_engine: Engine, campaign: Campaign, pledge_settings: Settings) -> None:
    writer = PledgeWriter(pledge_settings, any_engine, idle_seconds=0.05)
    writer.submit(item(pledge_settings, campaign, "a@example.org")).result(30)
    for _ in range(100):
        if writer._thread is None:
            break
        threading.Event().wait(0.02)
    assert writer._thread is None
    writer.submit(item(pledge_settings, campaign, "b@example.org")).result(30)
    writer.close()
    assert [p.email for p in rows(any_engine)[0]] == ["a@example.org", "b@example.org"]


@pytest.mark.postgres
def test_an_address_taken_by_another_process_mid_batch_makes_a_duplicate(
    pg_url: str, campaign: Campaign, pledge_settings: Settings
) -> None:
    """PostgreSQL lets two web processes write at once: if another one stores the same address between this batch's
    duplicate check and its insert, ON CONFLICT turns this pledge into a duplicate of that row (never two rows)."""
    engine = make_engine(pg_url)
    upgrade(engine)
    try:
        mine = item(pledge_settings, campaign, "Sam@Example.org", name="Mine")
        again = item(pledge_settings, campaign, "sam@example.org", name="Mine again")
        with engine.begin() as conn:
            batch = intake.Batch()
            batch.prefetch(conn, [mine, again])
            intake.store(conn, pledge_settings, mine, batch)
            intake.store(conn, pledge_settings, again, batch)
            with engine.begin() as other:  # the other process, committing first
                intake.store_all(other, pledge_settings, [item(pledge_settings, campaign, "sam@example.org", name="Theirs")])
            batch.flush(conn, pledge_settings)
        pledges, emails = rows(engine)
        assert [(p.name, p.status) for p in pledges] == [("Theirs", "pending")]
        assert [(e.kind, e.to_addr) for e in emails] == [
            ("confirm", "sam@example.org"), ("duplicate", "sam@example.org"), ("duplicate", "sam@example.org"),
        ]
    finally:
        engine.dispose()
