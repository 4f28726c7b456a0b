"""A fast CLI: importing it, ``--help``, ``check`` and ``badge`` load only what they use (checked in a fresh process)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent

#: Libraries that only the commands using the database, the web app or X lengths may load.
SERVER_SIDE = {"sqlalchemy", "sqlmodel", "alembic", "fastapi", "starlette", "uvicorn", "psycopg", "apscheduler"}

RUN = """
import json, sys
from social_campaign.cli import app
code = 0
try:
    app(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
sys.stderr.write("\\nMODULES " + json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]) + "\\n")
"""


def loaded(cwd: Path, *args: str, code: str = RUN) -> tuple[object, set[str], str]:
    """(exit code, top-level modules loaded, stdout) of ``social-campaign ARGS`` run in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
    env.update(PYTHONPATH=str(ROOT), SOCIAL_CAMPAIGN_DATA_DIR=str(cwd / ".data"))
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    marker = [line for line in result.stderr.splitlines() if line.startswith("MODULES ")]
    assert marker, result.stderr
    exit_code, modules = json.loads(marker[-1].removeprefix("MODULES "))
    return exit_code, set(modules), result.stdout


def test_importing_the_cli_loads_no_database_web_or_text_library(tmp_path: Path) -> None:
    code = (
        "import json, sys, social_campaign.cli\n"
        "sys.stderr.write('MODULES ' + json.dumps([0, sorted({m.split('.')[0] for m in sys.modules})]))"
    )
    _, modules, _ = loaded(tmp_path, code=code)
    assert modules & (SERVER_SIDE | {"twitter_text", "emoji", "pydantic_settings", "rich", "PIL"}) == set()


def test_help_loads_no_database_web_or_text_library(tmp_path: Path) -> None:
    exit_code, modules, out = loaded(tmp_path, "--help")
    assert exit_code == 0 and "check" in out
    assert modules & (SERVER_SIDE | {"twitter_text", "emoji", "pydantic_settings", "PIL"}) == set()


def test_check_loads_no_database_or_web_library(tmp_path: Path) -> None:
    shutil.copy(ROOT / "schedule.toml", tmp_path / "schedule.toml")
    shutil.copytree(ROOT / "messages", tmp_path / "messages")
    shutil.copytree(ROOT / "infographics", tmp_path / "infographics")
    exit_code, modules, out = loaded(tmp_path, "check")
    assert exit_code == 0 and out.rstrip().splitlines()[-1].startswith("ok: 4 posts"), out
    assert modules & SERVER_SIDE == set()  # APScheduler too: the shipped campaign has no cron posts
    assert not (tmp_path / ".data").exists()  # and it writes nothing


def test_badge_loads_no_database_or_web_library(tmp_path: Path) -> None:
    Image.new("RGB", (64, 48), "teal").save(tmp_path / "me.jpg")
    overlay = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    overlay.save(tmp_path / "frame.png")
    exit_code, modules, out = loaded(tmp_path, "badge", "me.jpg", "--overlay", "frame.png", "--size", "40", "-o", "out")
    assert exit_code in (0, None), out
    assert (tmp_path / "out" / "me.png").is_file()
    assert modules & (SERVER_SIDE | {"rich"}) == set()  # no progress bar when nobody watches (stderr is a pipe)
    assert not (tmp_path / ".data").exists()


@pytest.mark.parametrize("command", ["check", "plan", "plan --days 3"])
def test_campaign_commands_reach_their_work_without_the_database(tmp_path: Path, command: str) -> None:
    exit_code, modules, _ = loaded(tmp_path, *command.split())
    assert exit_code == 1  # no schedule.toml here: one line, exit 1
    assert modules & (SERVER_SIDE - {"apscheduler"}) == set()
