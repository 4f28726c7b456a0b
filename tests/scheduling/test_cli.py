"""The run-area commands on bad input: one line, a non-zero exit, never a traceback; and the demo end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from social_campaign.scheduling.demo import run_demo
from tests.scheduling.procs import ROOT

pytestmark = pytest.mark.slow


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "SOCIAL_CAMPAIGN_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-m", "social_campaign", *args], cwd=tmp_path, env=base, capture_output=True, text=True, timeout=60)


def test_unreachable_database_is_one_line(tmp_path):
    result = _cli(tmp_path, "worker", SOCIAL_CAMPAIGN_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/x")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "database unreachable" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_broken_toml_is_one_line_naming_file_and_line(tmp_path):
    (tmp_path / "schedule.toml").write_text('[campaign]\nslug = "x\n')
    result = _cli(tmp_path, "run")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("schedule.toml:2:"), result.stderr


def test_incomplete_credentials_are_one_line(tmp_path):
    result = _cli(tmp_path, "scheduler", SOCIAL_CAMPAIGN_X_CONSUMER_KEY="abc123")
    assert result.returncode == 1 and "credentials are incomplete" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_db_upgrade_and_status(tmp_path):
    assert _cli(tmp_path, "db", "upgrade").returncode == 0
    result = _cli(tmp_path, "status")
    assert result.returncode == 0 and "nothing scheduled yet" in result.stdout


def test_demo_posts_to_the_outbox_with_credentials_cleared(settings, tmp_path):
    src = tmp_path / "src"
    (src / "messages").mkdir(parents=True)
    (src / "messages" / "hello.md").write_text("Show your support for #ChildrensDay and #childrights\n")
    (src / "schedule.toml").write_text(
        '[campaign]\nslug = "demo"\nname = "Demo"\ntimezone = "Europe/Zurich"\n\n'
        '[[post]]\nid = "hello"\ncron = "0 9 * * MON"\nchannels = ["x", "outbox"]\nmessage = "hello"\n'
    )
    settings = settings.model_copy(update={"x_consumer_key": "k", "x_api_url": "http://127.0.0.1:9"})  # would fail if used
    out = Console(record=True, width=200)
    assert run_demo(settings, source=src / "schedule.toml", minutes=1, out=out) == 2
    text = out.export_text()
    assert "hello → x" in text and "hello → outbox" in text and "2 of 2 deliveries sent" in text
    outbox = settings.data_dir.resolve() / "demo" / "data" / "outbox"
    assert f"Outbox folder: {outbox}" in text
    assert sorted(p.parent.name for p in outbox.rglob("*.md")) == ["outbox", "x"]
    copied = (settings.data_dir / "demo" / "campaign" / "schedule.toml").read_text()
    assert "cron" not in copied and "at = " in copied


def test_demo_serves_the_campaign_pages_while_it_runs(settings, tmp_path):
    import re
    import threading
    import urllib.request

    src = tmp_path / "src"
    (src / "messages").mkdir(parents=True)
    (src / "messages" / "hello.md").write_text("Show your support for #ChildrensDay and #childrights\n")
    (src / "messages" / "clap.md").write_text("Today we all post for #childrights\n")
    (src / "schedule.toml").write_text(
        '[campaign]\nslug = "demo"\nname = "Demo campaign"\ntimezone = "Europe/Zurich"\n\n'
        '[[post]]\nid = "hello"\nat = 2030-01-01T09:00:00\nchannels = ["outbox"]\nmessage = "hello"\n\n'
        '[pledge]\ngoal = 100\ndeadline = 2030-11-20T09:00:00\nfire_at = 2030-11-20T12:00:00\nmessage = "clap"\n'
    )
    out = Console(record=True, width=300)
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(run_demo(settings, source=src / "schedule.toml", minutes=1, out=out)))
    thread.start()
    url = None
    for _ in range(200):
        found = re.search(r"Campaign page: (http://\S+/c/demo)", out.export_text(clear=False))
        if found:
            url = found.group(1)
            break
        threading.Event().wait(0.05)
    assert url, out.export_text(clear=False)
    with urllib.request.urlopen(url, timeout=10) as page:
        assert page.status == 200 and "Demo campaign" in page.read().decode()
    with urllib.request.urlopen(f"{url}/progress.json", timeout=10) as progress:
        assert b'"goal":100' in progress.read().replace(b" ", b"")
    thread.join(timeout=90)
    assert result == [1]
