"""An address that unsubscribed from a campaign gets nothing more about it: every enqueue path, the worker's claim and
the release fan-out honour ``MailOptOut``; other campaigns and other addresses are untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.mail.queue import UNSUBSCRIBED, enqueue, enqueue_many, enqueue_values, opt_out
from social_campaign.mail.worker import drain
from social_campaign.models import EmailMessage, EmailState, MailOptOut
from social_campaign.pledges import release
from tests.pledges.release_support import FIRE_AT, add_pledges, make_campaign

NOW = datetime.now(UTC)


def _email(to: str, key: str, campaign: str = "c") -> dict[str, object]:
    return {"campaign": campaign, "kind": "confirm", "to_addr": to, "to_canonical": to, "subject": "s", "body_text": "b",
            "body_html": None, "dedupe_key": key}


def _states(engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        return {e.dedupe_key: e.state for e in s.exec(select(EmailMessage)).all()}


def test_opt_out_suppresses_what_is_queued_and_is_idempotent(any_engine: Engine) -> None:
    with any_engine.begin() as conn:
        enqueue_many(conn, [_email("a@x.org", "1"), _email("b@x.org", "2"), _email("a@x.org", "3", campaign="other")],
                     max_per_address=5)
    with any_engine.begin() as conn:
        assert opt_out(conn, campaign="c", to_canonical="a@x.org", now=NOW) == 1
    with any_engine.begin() as conn:
        assert opt_out(conn, campaign="c", to_canonical="a@x.org", now=NOW) == 0
    assert _states(any_engine) == {"1": "suppressed", "2": "queued", "3": "queued"}
    with Session(any_engine) as s:
        assert len(s.exec(select(MailOptOut)).all()) == 1
        assert s.exec(select(EmailMessage).where(EmailMessage.dedupe_key == "1")).one().last_error == UNSUBSCRIBED


def test_every_enqueue_path_stores_opted_out_mail_as_suppressed(any_engine: Engine) -> None:
    with any_engine.begin() as conn:
        opt_out(conn, campaign="c", to_canonical="a@x.org", now=NOW)
        enqueue_many(conn, [_email("a@x.org", f"many{i}") for i in range(3)] + [_email("b@x.org", "many-b")],
                     max_per_address=2)
        enqueue_values(conn, **_email("a@x.org", "values"), max_per_address=2)  # type: ignore[arg-type]
        enqueue_values(conn, **_email("a@x.org", "other-campaign", campaign="d"), max_per_address=2)  # type: ignore[arg-type]
    with session_scope(any_engine) as session:
        row = enqueue(session, **_email("a@x.org", "orm"), max_per_address=2)  # type: ignore[arg-type]
    assert row is not None and row.state == EmailState.suppressed
    assert _states(any_engine) == {
        "many0": "suppressed", "many1": "suppressed", "many2": "suppressed", "many-b": "queued", "values": "suppressed",
        "other-campaign": "queued", "orm": "suppressed",
    }
    with any_engine.begin() as conn:  # opted-out mail does not use up the cap of anyone
        enqueue_many(conn, [_email("b@x.org", "b2")], max_per_address=2)
    assert _states(any_engine)["b2"] == "queued"


def test_the_worker_never_sends_to_an_address_that_opted_out_after_queueing(any_engine: Engine, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=str(any_engine.url), pledge_rate_limits="",
                        _env_file=None)  # type: ignore[call-arg]
    with any_engine.begin() as conn:
        enqueue_many(conn, [_email("a@x.org", "1"), _email("b@x.org", "2")], max_per_address=5)
    with Session(any_engine) as s:  # an opt-out that landed between the enqueue's check and its insert
        s.add(MailOptOut(campaign="c", email_canonical="a@x.org", at=NOW))
        s.commit()
    assert drain(settings, any_engine) == 1
    assert _states(any_engine) == {"1": "suppressed", "2": "sent"}
    sent = [p.read_text() for p in (tmp_path / "data" / "mail").iterdir()]
    assert len(sent) == 1 and "b@x.org" in sent[0] and "a@x.org" not in sent[0]


def test_release_fan_out_skips_supporters_who_opted_out(any_engine: Engine, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", pledge_rate_limits="", _env_file=None)  # type: ignore[call-arg]
    campaign = make_campaign(tmp_path, goal=3)
    add_pledges(any_engine, 4)
    with any_engine.begin() as conn:
        opt_out(conn, campaign=campaign.slug, to_canonical="p1@example.org", now=NOW)
        opt_out(conn, campaign="another", to_canonical="p2@example.org", now=NOW)  # another campaign: no effect here
    report = release.advance(settings, any_engine, campaign, FIRE_AT + timedelta(seconds=1))
    assert report.done and report.queued == 3
    with Session(any_engine) as s:
        to = sorted(e.to_canonical for e in s.exec(select(EmailMessage).where(EmailMessage.kind == "release")).all())
    assert to == ["p0@example.org", "p2@example.org", "p3@example.org"]
