from __future__ import annotations

from pathlib import Path

import pytest

from social_campaign.cli import app
from social_campaign.config import Settings
from social_campaign.db import make_engine, upgrade
from social_campaign.mail import worker
from tests.mail.helpers import queue_emails


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        app(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_mail_lists_folder_queue_and_shows_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("SOCIAL_CAMPAIGN_DATA_DIR", str(data))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    code, out, _ = _cli(capsys, "mail")
    assert code == 0 and "no emails in" in out
    settings = Settings(data_dir=data, _env_file=None)  # type: ignore[call-arg]
    eng = make_engine(settings.resolved_database_url)
    upgrade(eng)
    queue_emails(eng, 2)
    worker.drain(settings, eng)
    eng.dispose()
    code, out, err = _cli(capsys, "mail")
    assert code == 0, err
    assert "s0@example.org" in out and "s1@example.org" in out and "http://h/w/1" in out
    code, out, _ = _cli(capsys, "mail", "--queue")
    assert code == 0 and out.count("sent") >= 2
    code, out, _ = _cli(capsys, "mail", "--show", "000000001.eml")
    assert code == 0 and "To: s0@example.org" in out and "goal was not reached" in out
    code, out, err = _cli(capsys, "mail", "--show", "nope.eml")
    assert code == 1 and err.count("\n") == 1 and "nope.eml" in err and "Traceback" not in err
