"""The command funnel: usage mistakes and errors become one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SOCIAL_CAMPAIGN_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "social_campaign", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["check", "--bogus"], "error: No such option: --bogus (see 'social-campaign check --help')"),
        (["nosuch"], "error: No such command 'nosuch'."),
        (["badge"], "error: Missing argument 'photos'."),
        (["plan", "--days", "abc"], "error: Invalid value for '--days'"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    result = _run(tmp_path, *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_schedule_is_one_line(tmp_path: Path) -> None:
    result = _run(tmp_path, "check")
    assert result.returncode == 1
    assert result.stdout.strip() == "schedule.toml:1: file not found"  # check's report goes to stdout
    assert result.stderr.strip() == "1 error, 0 warnings"


def test_every_command_has_help(tmp_path: Path) -> None:
    result = _run(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("check", "plan", "run", "worker", "scheduler", "demo", "serve", "pledges", "outbox", "mail", "badge", "infographics", "db", "status"):
        assert f"  {command} " in result.stdout or f"  {command}\n" in result.stdout, command
