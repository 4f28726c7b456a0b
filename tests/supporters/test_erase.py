"""Erasure: the counts stay right and no personal data is left in the database or the data dir."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.db import engine_for, session_scope
from social_campaign.errors import NotFound
from social_campaign.mail.queue import enqueue, opt_out
from social_campaign.mail.worker import drain
from social_campaign.models import (
    AuditEntry,
    EmailMessage,
    Pledge,
    PledgeData,
    ShareClick,
    WebhookDelivery,
    WebhookEndpoint,
)
from social_campaign.pledges.share import funnel
from social_campaign.supporters.erase import erase_email, erase_pledge, forget_old_copies
from social_campaign.webhooks.events import emit
from tests.supporters.seed import seed
from tests.supporters.traces import database_traces, file_traces

ROOT = Path(__file__).resolve().parents[2]
SLUG = "childrens-day"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ADDRESS, NAME = "p4@example.org", "Zoë Targetperson"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, Engine]]:
    """Settings on a data dir (the SQLite database inside it) or on a fresh PostgreSQL database."""
    extra = {"database_url": request.getfixturevalue("pg_url")} if request.param == "postgres" else {}
    settings = Settings(data_dir=tmp_path / "data", pledge_rate_limits="", _env_file=None, **extra)  # type: ignore[call-arg]
    engine = engine_for(settings)
    yield settings, engine
    engine.dispose()


def _email(session: Session, i: int, kind: str, name: str) -> None:
    enqueue(session, campaign=SLUG, kind=kind, to_addr=f"p{i}@example.org", to_canonical=f"p{i}@example.org",
            subject=f"{name}, confirm your pledge", body_text=f"Hello {name}, confirm: http://h/c/{SLUG}/confirm/t{i}",
            body_html=f"<p>Hello {name}</p>", dedupe_key=f"{kind}:{SLUG}:{i}", max_per_address=5,
            headers={"List-Unsubscribe": f"<http://h/c/{SLUG}/withdraw/w{i}>"})


def scene(settings: Settings, engine: Engine) -> int:
    """Ten supporters; the target (p4) has a sent email (in the mail folder), a queued one, an opt-out, a share click
    and a webhook payload with their name and address. Returns the target's pledge id."""
    ids = seed(engine, 10, names={4: NAME})
    with session_scope(engine) as s:
        _email(s, 4, "confirm", NAME)
        _email(s, 5, "confirm", "Supporter 5")
    assert drain(settings, engine) == 2  # no SMTP set: written to DATA_DIR/mail/<id>.eml
    with session_scope(engine) as s:
        _email(s, 4, "release", NAME)
        opt_out(s.connection(), campaign=SLUG, to_canonical=ADDRESS, now=NOW)
        s.add(ShareClick(campaign=SLUG, pledge_id=ids[4], channel="x", at=NOW))
        conn = s.connection()
        conn.execute(insert(WebhookEndpoint.__table__), [  # type: ignore[attr-defined]
            {"name": "crm", "url": "http://127.0.0.1:9/", "secret_enc": "x", "personal": True, "events": "*", "failures": 0,
             "created_at": NOW},
            {"name": "public", "url": "http://127.0.0.1:9/", "secret_enc": "x", "personal": False, "events": "*",
             "failures": 0, "created_at": NOW},
        ])
        emit(conn, "pledge.confirmed", {"pledge_id": ids[4]}, campaign=SLUG, personal={"name": NAME, "email": ADDRESS}, now=NOW)
    return ids[4]


def counts(engine: Engine) -> dict[str, object]:
    with Session(engine) as s:
        by_country = s.exec(select(Pledge.country, func.count()).where(Pledge.status == "confirmed").group_by(Pledge.country)).all()
        return {**funnel(s, SLUG), "by_country": dict(by_country)}


def test_erase_keeps_counts_and_leaves_no_personal_data(setup: tuple[Settings, Engine]) -> None:
    settings, engine = setup
    target = scene(settings, engine)
    before = counts(engine)
    assert database_traces(engine, [ADDRESS, "Targetperson"])  # the search finds what is there
    assert file_traces(settings.data_dir, [ADDRESS])
    with session_scope(engine) as s:
        pledge = s.get(Pledge, target)
        assert pledge is not None
        assert erase_pledge(s, pledge, now=NOW, actor="cli:test", data_dir=settings.data_dir) is True
    forget_old_copies(engine)

    assert counts(engine) == before
    assert database_traces(engine, [ADDRESS, "Targetperson"]) == []
    assert file_traces(settings.data_dir, [ADDRESS, "Targetperson"]) == []
    assert file_traces(settings.data_dir, ["p5@example.org"])  # the others' data stays
    with Session(engine) as s:
        pledge = s.get(Pledge, target)
        data = s.get(PledgeData, target)
        assert pledge is not None and data is not None
        assert (pledge.status, pledge.country, pledge.name, pledge.email, pledge.share_token) == ("confirmed", "CH", "", "", None)
        assert data.erased_at == NOW
        assert s.exec(select(func.count()).select_from(ShareClick)).one() == 1  # anonymous clicks stay counted
        (entry,) = s.exec(select(AuditEntry)).all()
        assert (entry.actor, entry.action, entry.target) == ("cli:test", "erase", f"pledge:{target}")
        erased = s.exec(select(WebhookDelivery).where(WebhookDelivery.type == "pledge.erased")).all()
        assert {w.endpoint for w in erased} == {"crm", "public"}
        assert all(f'"pledge_id":{target}' in w.payload_json for w in erased)
        # the sent email is kept blank (the "notified" count stays right); the unsent one is gone
        kinds = s.exec(select(EmailMessage.kind, EmailMessage.state).where(EmailMessage.to_canonical == "")).all()
        assert kinds == [("confirm", "sent")]


def test_erasing_twice_changes_nothing(setup: tuple[Settings, Engine]) -> None:
    settings, engine = setup
    target = scene(settings, engine)
    with session_scope(engine) as s:
        pledge = s.get(Pledge, target)
        assert pledge is not None and erase_pledge(s, pledge, now=NOW, actor="a") is True
    with session_scope(engine) as s:
        pledge = s.get(Pledge, target)
        assert pledge is not None and erase_pledge(s, pledge, now=NOW, actor="a") is False
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(AuditEntry)).one() == 1
        assert s.exec(select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.type == "pledge.erased")).one() == 2


def test_erase_email_by_any_spelling_then_unknown(setup: tuple[Settings, Engine]) -> None:
    settings, engine = setup
    scene(settings, engine)
    assert erase_email(engine, " P4@Example.ORG ", now=NOW, actor="a", data_dir=settings.data_dir) == 1
    assert database_traces(engine, [ADDRESS, "Targetperson"]) == []
    before = counts(engine)
    with pytest.raises(NotFound, match=r"no supporter with the email p4@example\.org"):
        erase_email(engine, ADDRESS, now=NOW, actor="a")
    with pytest.raises(NotFound, match=r"nobody@example\.org"):
        erase_email(engine, "nobody@example.org", now=NOW, actor="a")
    assert counts(engine) == before
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(AuditEntry)).one() == 1


def _cli(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SOCIAL_CAMPAIGN_DATA_DIR": str(settings.data_dir),
           "SOCIAL_CAMPAIGN_PLEDGE_RATE_LIMITS": ""}
    return subprocess.run([sys.executable, "-m", "social_campaign", "supporters", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_cli_erase_unknown_twice_and_without_yes(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", pledge_rate_limits="", _env_file=None)  # type: ignore[call-arg]
    engine = engine_for(settings)
    scene(settings, engine)
    engine.dispose()
    refused = _cli(settings, "erase", ADDRESS)  # not a terminal, no --yes: nothing happens
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "--yes" in refused.stderr
    done = _cli(settings, "erase", ADDRESS, "--yes")
    assert done.returncode == 0, done.stderr
    assert "erased p4@example.org: 1 pledge (childrens-day)" in done.stdout
    for args in (("erase", ADDRESS, "--yes"), ("erase", "nobody@example.org", "--yes"), ("show", ADDRESS),
                 ("export-person", "nobody@example.org")):
        again = _cli(settings, *args)
        assert again.returncode == 1, args
        assert again.stderr.count("\n") == 1 and again.stderr.startswith("error: no supporter with the email"), again.stderr
        assert again.stdout == ""
    bad = _cli(settings, "show", "not-an-address")
    assert bad.returncode == 1 and bad.stderr == "error: 'not-an-address' is not an email address\n"
    engine = engine_for(settings)
    assert database_traces(engine, [ADDRESS, "Targetperson"]) == []
    with Session(engine) as s:
        (entry,) = s.exec(select(AuditEntry)).all()
        assert entry.actor.startswith("cli:") and entry.action == "erase"
    engine.dispose()


def test_cli_show_and_export_person_are_audited(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", pledge_rate_limits="", _env_file=None)  # type: ignore[call-arg]
    engine = engine_for(settings)
    target = scene(settings, engine)
    engine.dispose()
    shown = _cli(settings, "show", "P4@example.org")
    assert shown.returncode == 0, shown.stderr
    assert NAME in shown.stdout and ADDRESS in shown.stdout
    out = tmp_path / "person.json"
    exported = _cli(settings, "export-person", ADDRESS, "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    doc = json.loads(out.read_text())
    (pledge,) = doc["pledges"]
    assert pledge["pledge"]["id"] == target and pledge["pledge"]["name"] == NAME
    assert {e["kind"] for e in pledge["emails"]} == {"confirm", "release"}
    engine = engine_for(settings)
    with Session(engine) as s:
        entries = s.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
    engine.dispose()
    assert [(e.action, e.target) for e in entries] == [("show", f"pledge:{target}"), ("export-person", f"pledge:{target}")]
    assert all(ADDRESS not in e.details and ADDRESS not in e.target for e in entries)


def _cli_on_terminal(settings: Settings, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The command with its stdin on a pseudo-terminal, answering the confirmation with ``answer``."""
    import os
    import pty

    master, slave = pty.openpty()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SOCIAL_CAMPAIGN_DATA_DIR": str(settings.data_dir)}
    try:
        proc = subprocess.Popen([sys.executable, "-m", "social_campaign", "supporters", *args], cwd=ROOT, env=env,
                                stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        os.write(master, answer.encode() + b"\n")
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
        os.close(slave)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_cli_erase_asks_on_a_terminal(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", pledge_rate_limits="", _env_file=None)  # type: ignore[call-arg]
    engine = engine_for(settings)
    scene(settings, engine)
    engine.dispose()
    kept = _cli_on_terminal(settings, "n", "erase", ADDRESS)
    assert kept.returncode == 1 and "cannot be undone" in kept.stdout and kept.stderr == "not erased\n"
    engine = engine_for(settings)
    assert database_traces(engine, [ADDRESS])
    engine.dispose()
    gone = _cli_on_terminal(settings, "y", "erase", ADDRESS)
    assert gone.returncode == 0, gone.stderr
    engine = engine_for(settings)
    assert database_traces(engine, [ADDRESS, "Targetperson"]) == []
    engine.dispose()
