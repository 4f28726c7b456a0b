from __future__ import annotations

import threading
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.db import make_engine
from social_campaign.mail import worker
from social_campaign.models import (
    Delivery,
    EmailMessage,
    Pledge,
    PledgeRelease,
    PledgeStatus,
)
from social_campaign.pledges import release
from tests.pledges.release_support import (
    DEADLINE,
    FIRE_AT,
    VARIANTS,
    add_pledges,
    make_campaign,
)


def _emails(engine: Engine) -> list[EmailMessage]:
    with Session(engine) as s:
        return list(s.exec(select(EmailMessage).order_by(EmailMessage.id)).all())


def _deliveries(engine: Engine) -> list[Delivery]:
    with Session(engine) as s:
        return list(s.exec(select(Delivery)).all())


def _release(engine: Engine) -> PledgeRelease:
    with Session(engine) as s:
        row = s.get(PledgeRelease, "childrens-day")
        assert row is not None
        return row


def test_campaign_state(tmp_path: Path) -> None:
    spec = make_campaign(tmp_path, goal=3).pledge
    assert spec is not None
    before = DEADLINE - timedelta(hours=1)
    assert release.campaign_state(spec, 2, before, None) == "open"
    assert release.campaign_state(spec, 3, before, None) == "goal reached"  # still open for pledges
    assert release.campaign_state(spec, 3, DEADLINE, PledgeRelease(campaign="c", state="open")) == "closed"
    ok = PledgeRelease(campaign="c", state="succeeded")
    assert release.campaign_state(spec, 3, DEADLINE, ok) == "goal reached"
    assert release.campaign_state(spec, 3, FIRE_AT, ok) == "released"
    assert release.campaign_state(spec, 1, FIRE_AT, PledgeRelease(campaign="c", state="failed")) == "not reached"


def test_goal_met_posts_and_emails_every_confirmed_supporter_once(any_engine: Engine, settings: Settings, tmp_path: Path, smtp_server) -> None:
    campaign = make_campaign(tmp_path, goal=3)
    add_pledges(any_engine, 4)
    add_pledges(any_engine, 1, start=10, status=PledgeStatus.pending)
    add_pledges(any_engine, 1, start=20, status=PledgeStatus.withdrawn)
    add_pledges(any_engine, 1, start=30, status=PledgeStatus.fraud)

    r = release.advance(settings, any_engine, campaign, DEADLINE - timedelta(seconds=1))
    assert r.evaluated is None and _release(any_engine).state == "open"
    r = release.advance(settings, any_engine, campaign, DEADLINE)
    assert (r.evaluated, r.deliveries, r.queued) == ("succeeded", 2, 0)  # posts scheduled for fire_at, no email yet
    assert _release(any_engine).confirmed_at_evaluation == 4
    assert release.advance(settings, any_engine, campaign, DEADLINE + timedelta(minutes=1)).evaluated is None
    assert not _emails(any_engine)

    r = release.advance(settings, any_engine, campaign, FIRE_AT)
    assert (r.deliveries, r.queued, r.done) == (0, 4, True)
    again = release.advance(settings, any_engine, campaign, FIRE_AT + timedelta(seconds=5))
    assert (again.deliveries, again.queued) == (0, 0)

    dels = sorted(_deliveries(any_engine), key=lambda d: d.channel)
    assert [(d.channel, d.kind, d.post_id, d.occurrence, d.state, d.due_at) for d in dels] == [
        ("outbox", "release", "pledge-release", "", "scheduled", FIRE_AT),
        ("x", "release", "pledge-release", "", "scheduled", FIRE_AT),
    ]
    assert dels[1].text == f"[x] {VARIANTS[0]}"
    # the scheduling workers pick them up like any other delivery, at fire_at
    from social_campaign.scheduling.claim import claim_due

    assert claim_due(any_engine, "w1", FIRE_AT - timedelta(seconds=1), 10, grace=timedelta(minutes=15)) == []
    claims = claim_due(any_engine, "w1", FIRE_AT + timedelta(seconds=1), 10, grace=timedelta(minutes=15))
    assert sorted(c.delivery.channel for c in claims) == ["outbox", "x"]

    emails = _emails(any_engine)
    assert sorted(e.to_addr for e in emails) == [f"p{i}@example.org" for i in range(4)]
    assert {e.kind for e in emails} == {"release"}
    assert {e.dedupe_key for e in emails} == {f"release:childrens-day:{i}" for i in range(1, 5)}

    s = settings.model_copy(update={"smtp_url": SecretStr(smtp_server.url())})
    assert worker.drain(s, any_engine) == 4
    with Session(any_engine) as session:
        tokens = {p.email: p.share_token for p in session.exec(select(Pledge)).all()}
    bodies = []
    for m in smtp_server.messages:
        msg = message_from_bytes(m.data, policy=default_policy)
        text = msg.get_body(("plain",)).get_content()
        assert f"{settings.public_url}/c/childrens-day/share/{tokens[msg['To']]}" in text
        assert msg["List-Unsubscribe"].startswith(f"<{settings.public_url}/c/childrens-day/withdraw/")
        assert "It's time" in msg["Subject"]
        bodies.append(text)
    assert sum(VARIANTS[0] in b for b in bodies) < 4  # texts rotate over the variants
    assert all(any(v in b for v in VARIANTS) for b in bodies)


def test_goal_missed_emails_not_reached_and_posts_nothing(any_engine: Engine, settings: Settings, tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path, goal=5)
    add_pledges(any_engine, 3)
    add_pledges(any_engine, 4, start=10, status=PledgeStatus.pending)
    assert release.advance(settings, any_engine, campaign, DEADLINE).evaluated == "failed"
    add_pledges(any_engine, 3, start=40)  # confirmations arriving after the deadline change nothing
    assert release.advance(settings, any_engine, campaign, DEADLINE + timedelta(hours=1)).evaluated is None
    assert _release(any_engine).state == "failed"
    r = release.advance(settings, any_engine, campaign, FIRE_AT)
    assert r.deliveries == 0 and not _deliveries(any_engine)
    emails = _emails(any_engine)
    assert {e.kind for e in emails} == {"not_reached"} and len(emails) == 6
    assert "nothing was posted" in emails[0].body_text and "3 of 5" in emails[0].body_text


def test_fanout_resumes_from_its_cursor(any_engine: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(release, "FANOUT_BATCH", 7)
    campaign = make_campaign(tmp_path, goal=1)
    add_pledges(any_engine, 30)
    r = release.advance(settings, any_engine, campaign, FIRE_AT, max_batches=2)
    assert (r.queued, r.done) == (14, False)
    assert _release(any_engine).fanout_cursor == 14
    r = release.advance(settings, any_engine, campaign, FIRE_AT)
    assert (r.queued, r.done) == (16, True)
    assert len(_emails(any_engine)) == 30 and _release(any_engine).notified == 30


@pytest.mark.parametrize(("earlier", "expected"), [(4, "queued"), (5, "suppressed")])
def test_release_email_respects_the_per_address_cap(
    engine: Engine, settings: Settings, tmp_path: Path, earlier: int, expected: str
) -> None:
    """Intake stops at 4 emails per address (pre_release_cap), so the release news still fits under the cap of 5."""
    from social_campaign.pledges.intake import pre_release_cap
    from tests.mail.helpers import queue_emails

    assert pre_release_cap(settings) == settings.max_emails_per_address - 1 == 4
    campaign = make_campaign(tmp_path, goal=1)
    add_pledges(engine, 2)
    queue_emails(engine, earlier, prefix="p0-", campaign="childrens-day")
    with Session(engine) as s:  # earlier emails to p0
        for e in s.exec(select(EmailMessage)).all():
            e.to_canonical = "p0@example.org"
            s.add(e)
        s.commit()
    release.advance(settings, engine, campaign, FIRE_AT)
    states = {e.to_addr: e.state for e in _emails(engine) if e.kind == "release"}
    assert states == {"p0@example.org": expected, "p1@example.org": "queued"}


@pytest.mark.parametrize("n_threads", [2])
def test_two_schedulers_at_once_evaluate_and_fan_out_once(any_engine: Engine, settings: Settings, tmp_path: Path, n_threads: int) -> None:
    """Two schedulers (own engines, own threads) tick at the same instant: one transition, one set of rows."""
    campaign = make_campaign(tmp_path, goal=10)
    add_pledges(any_engine, 1200)
    url = any_engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url) for _ in range(n_threads)]
    barrier = threading.Barrier(n_threads)
    reports: list[release.TickReport] = []
    errors: list[BaseException] = []

    def run(eng: Engine) -> None:
        try:
            barrier.wait()
            reports.append(release.advance(settings, eng, campaign, FIRE_AT + timedelta(seconds=1)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert not errors
    assert sorted(r.evaluated or "" for r in reports) == ["", "succeeded"]
    assert sum(r.deliveries for r in reports) == 2 and len(_deliveries(any_engine)) == 2
    assert sum(r.queued for r in reports) == 1200
    emails = _emails(any_engine)
    assert len(emails) == 1200 == len({e.to_canonical for e in emails})


def test_tick_job_runs_on_the_shipped_campaign(engine: Engine, settings: Settings) -> None:
    """The scheduler's entry point loads schedule.toml and advances its release (0 pledges: not reached)."""
    from social_campaign.campaign.loader import load_campaign

    root = Path(__file__).resolve().parents[2]
    s = settings.model_copy(update={"schedule": root / "schedule.toml"})
    spec = load_campaign(s.schedule).pledge
    assert spec is not None
    assert release.tick(s, engine, spec.deadline - timedelta(days=1)).evaluated is None  # type: ignore[union-attr]
    report = release.tick(s, engine, spec.fire_at)
    assert report is not None and report.evaluated == "failed" and report.deliveries == 0 and report.done
    assert _release(engine).state == "failed" and not _deliveries(engine)
