"""``status`` shows every loop's last beat, its errors and the stalled ones (from the ``heartbeat`` table); a malformed
SMTP URL is refused at start by every role, as one line naming the setting."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.models import utcnow
from social_campaign.scheduling.identity import boot_id, host
from social_campaign.scheduling.status import get_status
from social_campaign.supervise import LoopState, process_id, upsert
from tests.scheduling.procs import ROOT


def _beats(engine: Engine) -> None:
    now = utcnow()
    upsert(engine, process_id(), [
        LoopState("mail", "worker", None, 1.0, None, beat_at=now - timedelta(seconds=2)),
        LoopState("delivery", "worker", None, 1.0, None, beat_at=now - timedelta(seconds=300), errors=7,
                  last_error="OperationalError: database is locked"),
        LoopState("job:sync", "scheduler", None, 10.0, None, beat_at=now - timedelta(seconds=20),
                  stopped_at=now - timedelta(seconds=19)),
    ])  # fmt: skip
    gone = f"{host()}:{boot_id()}:999999999"  # a process of this host that no longer runs
    upsert(engine, gone, [LoopState("mail", "worker", None, 1.0, None, beat_at=now - timedelta(seconds=500))])


def test_get_status_tells_ok_stalled_stopped_and_dead(engine: Engine) -> None:
    _beats(engine)
    st = get_status(engine, utcnow(), stale_seconds=60)
    views = {(v.row.process.rsplit(":", 1)[1], v.row.loop): v.state for v in st.loops}
    pid = process_id().rsplit(":", 1)[1]
    assert views == {
        (pid, "mail"): "ok", (pid, "delivery"): "stalled", (pid, "job:sync"): "stopped",
        ("999999999", "mail"): "dead (process gone)",
    }  # fmt: skip
    assert [v.row.loop for v in st.stalled] == ["delivery"]
    assert st.stalled[0].row.errors == 7


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "SOCIAL_CAMPAIGN_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT),
            "COLUMNS": "200", **env}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "social_campaign", *args], cwd=tmp_path, env=base,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


@pytest.mark.slow
def test_status_shows_the_heartbeats(tmp_path: Path, settings: Settings, engine: Engine) -> None:
    _beats(engine)
    result = _cli(tmp_path, "status", SOCIAL_CAMPAIGN_DATA_DIR=str(settings.data_dir))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Background loops" in out
    for word in ("mail", "delivery", "job:sync", "stalled", "stopped", "dead (process gone)", "database is locked"):
        assert word in out, word
    (stalled,) = [line for line in out.splitlines() if line.startswith("stalled:")]
    assert stalled.startswith(f"stalled: delivery in {process_id()}: no heartbeat for 30")
    assert "(last error: OperationalError: database is locked)" in stalled


@pytest.mark.slow
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("smtpx://user:pw@mail.example.org:587", "scheme 'smtpx'"),
        ("smtp://user:pw@mail.example.org:abc", "port that is not a number"),
        ("smtp://user:pw@:587", "has no host"),
    ],
)
@pytest.mark.parametrize("role", ["worker", "run"])
def test_a_malformed_smtp_url_is_refused_at_start(tmp_path: Path, url: str, says: str, role: str) -> None:
    result = _cli(tmp_path, role, SOCIAL_CAMPAIGN_SMTP_URL=url)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: SOCIAL_CAMPAIGN_SMTP_URL: ") and says in lines[0], lines
    assert "pw" not in result.stderr and "Traceback" not in result.stderr + result.stdout
