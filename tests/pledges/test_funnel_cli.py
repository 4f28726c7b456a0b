"""``social-campaign pledges``: the funnel from real rows, through the real command in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.db import engine_for
from social_campaign.models import EmailMessage, EmailState, Pledge, PledgeStatus
from social_campaign.pledges.share import record_click
from tests.mail.helpers import queue_emails
from tests.pledges.release_support import add_pledges

ROOT = Path(__file__).resolve().parents[2]


def test_pledges_shows_the_funnel(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    engine = engine_for(settings)
    add_pledges(engine, 5)
    add_pledges(engine, 2, status=PledgeStatus.withdrawn, start=5)
    add_pledges(engine, 3, status=PledgeStatus.fraud, start=7)
    queue_emails(engine, 4, prefix="r-", campaign="childrens-day")
    now = datetime.now(UTC)
    with Session(engine) as s:
        for i, email in enumerate(s.exec(select(EmailMessage)).all()):
            email.kind, email.state = "release", EmailState.sent if i < 3 else EmailState.queued
            s.add(email)
        first, second = s.exec(select(Pledge).where(Pledge.status == PledgeStatus.confirmed).limit(2)).all()
        for pledge, channel in ((first, "x"), (first, "x"), (second, "x"), (second, "bluesky")):
            record_click(s, pledge, channel, now)
        s.commit()
    engine.dispose()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SOCIAL_CAMPAIGN_DATA_DIR": str(settings.data_dir), "COLUMNS": "120"}
    result = subprocess.run(
        [sys.executable, "-m", "social_campaign", "pledges"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    rows = {
        cells[0]: cells[1]
        for line in result.stdout.splitlines()
        if len(cells := [c.strip() for c in line.strip("│ ").split("│")]) == 2
    }
    assert "childrens-day: goal 100" in result.stdout
    assert rows["pledged"] == "7" and rows["confirmed"] == "5" and rows["withdrawn"] == "2"
    assert rows["fraud (never counted)"] == "3" and rows["notified"] == "3"
    assert rows["clicked: x"] == "2 (3 taps)" and rows["clicked: bluesky"] == "1 (1 taps)"
