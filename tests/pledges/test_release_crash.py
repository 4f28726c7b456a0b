"""kill -9 during the release fan-out, and several worker processes: every supporter is notified exactly once.

Real processes throughout: the counting SMTP sink (``python -m tests.fakes.smtp``) and the release runner
(``python -m tests.pledges.release_support``), which alternates fan-out batches and mail batches.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from social_campaign.db import make_engine, upgrade
from social_campaign.models import EmailMessage
from tests.fakes.smtp import read_sink_log, sink_process
from tests.pledges.release_support import add_pledges

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    out = tmp_path / "sink"
    with sink_process(out) as url:
        yield url, out


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else f"sqlite:///{tmp_path / 'crash.db'}"
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()
    return url


def _runner(db: str, data: Path, smtp: str, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "tests.pledges.release_support", "--db", db, "--data", str(data), "--smtp", smtp, *extra]
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _wait_for(out: Path, count: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while read_sink_log(out).total < count:
        assert proc.poll() is None, f"runner exited early with {proc.returncode}"
        assert time.monotonic() < deadline, "timed out waiting for the sink"
        time.sleep(0.02)


def _sent_count(db: str) -> int:
    eng = make_engine(db)
    with eng.connect() as conn:
        n = conn.execute(select(func.count()).select_from(EmailMessage).where(EmailMessage.state == "sent")).scalar_one()
    eng.dispose()
    return int(n)


def test_kill_9_mid_fanout_then_restart_notifies_each_supporter_once(db_url: str, tmp_path: Path, sink: tuple[str, Path]) -> None:
    smtp, out = sink
    n = 2000
    eng = make_engine(db_url)
    add_pledges(eng, n)
    eng.dispose()
    data = tmp_path / "data"
    for kill_at in (500, 1300):
        proc = _runner(db_url, data, smtp)
        _wait_for(out, kill_at, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert read_sink_log(out).total < n  # killed mid-way, fan-out not finished
    proc = _runner(db_url, data, smtp)
    assert proc.wait(180) == 0
    log = read_sink_log(out)
    assert set(log.per_recipient) == {f"p{i}@example.org" for i in range(n)}
    assert max(log.per_recipient.values()) == 1, [r for r, c in log.per_recipient.items() if c > 1][:5]
    assert log.total == n == _sent_count(db_url) == len(set(log.message_ids))
    assert log.connections < 60  # connections are reused: a few per run, not one per message


@pytest.mark.postgres
def test_several_worker_processes_on_postgres_one_killed(pg_url: str, tmp_path: Path, sink: tuple[str, Path]) -> None:
    from social_campaign.config import Settings
    from social_campaign.pledges import release
    from tests.pledges.release_support import FIRE_AT, make_campaign

    smtp, out = sink
    n = 2000
    eng = make_engine(pg_url)
    upgrade(eng)
    add_pledges(eng, n)
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url, _env_file=None)  # type: ignore[call-arg]
    assert release.advance(settings, eng, make_campaign(tmp_path), FIRE_AT).queued == n
    data = tmp_path / "data"
    procs = [_runner(pg_url, data, smtp, "--mail-only") for _ in range(3)]
    _wait_for(out, 400, procs[0])
    procs[0].send_signal(signal.SIGKILL)
    for p in procs[1:]:
        assert p.wait(180) == 0
    procs[0].wait(10)
    log = read_sink_log(out)
    assert len(log.per_recipient) == n and max(log.per_recipient.values()) == 1
    assert log.total == n == _sent_count(pg_url)
    with eng.connect() as conn:
        workers = conn.execute(select(func.count(func.distinct(EmailMessage.claimed_by)))).scalar_one()
    eng.dispose()
    assert workers >= 2  # the work was shared
