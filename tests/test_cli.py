"""The command funnel: usage mistakes and errors become one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import shutil
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


# --- one form for every error; --schedule that does not exist --------------------------------------------------------

SCHEDULE_COMMANDS = [
    ["check"], ["plan"], ["run"], ["worker"], ["scheduler"], ["status"], ["demo"], ["reconnect", "x"], ["serve"],
    ["pledges"], ["badge", "me.jpg", "-o", "out"], ["infographics", "build"],
]  # fmt: skip


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """``social-campaign ARGS`` in this process: (exit code, stdout, stderr)."""
    from social_campaign.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOCIAL_CAMPAIGN_DATA_DIR", str(tmp_path / "data"))

    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = 0
        try:
            app(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err, err
        return code, out, err

    return call


@pytest.mark.parametrize("command", SCHEDULE_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_schedule_that_does_not_exist_is_one_error_line(cli, tmp_path: Path, command: list[str]) -> None:
    code, out, err = cli(*command, "-s", "nope.toml")
    assert code == 1
    assert err.splitlines() == ["error: nope.toml: no such campaign file (--schedule)"]
    assert out == ""
    assert not (tmp_path / "data").exists() and not (tmp_path / "out").exists()


def test_settings_errors_have_the_same_form(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIAL_CAMPAIGN_HORIZON_DAYS", "soon")
    code, _, err = cli("status")
    assert code == 1
    assert len(err.splitlines()) == 1 and err.startswith("error: SOCIAL_CAMPAIGN_HORIZON_DAYS: "), err


# --- viewing commands never create or migrate a database -----------------------------------------------------


@pytest.mark.parametrize("command", [["status"], ["outbox"], ["mail", "--queue"], ["pledges", "-s", "schedule.toml"]])
def test_viewing_commands_say_there_is_no_database_yet(cli, tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "schedule.toml").write_text((ROOT / "schedule.toml").read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copytree(ROOT / "messages", tmp_path / "messages")
    shutil.copytree(ROOT / "infographics", tmp_path / "infographics")
    code, out, err = cli(*command)
    assert code == 1 and out == ""
    db = tmp_path / "data" / "social-campaign.db"
    expected = f"error: no database yet ({db}): `social-campaign run`, `serve` or `db upgrade` creates it"
    assert err.splitlines() == [expected]
    assert not (tmp_path / "data").exists()


def test_viewing_commands_read_a_database_at_head_and_refuse_an_old_one(cli, tmp_path: Path) -> None:
    assert cli("db", "upgrade")[0] == 0
    db = tmp_path / "data" / "social-campaign.db"
    code, out, _ = cli("status")
    assert code == 0 and out.startswith("nothing scheduled yet")
    assert cli("outbox")[1].startswith("the outbox is empty")

    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    before = db.read_bytes()
    code, out, err = cli("status")
    assert code == 1
    expected = f"error: the database ({db}) is at schema 0001, not {_head()}: run `social-campaign db upgrade`"
    assert err.splitlines() == [expected]
    assert db.read_bytes() == before  # not migrated behind the manager's back


def _head() -> str:
    from alembic.script import ScriptDirectory

    from social_campaign.db import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


# --- postgres:// and postgresql:// ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_urls_mean_psycopg(scheme: str) -> None:
    from social_campaign.config import Settings

    def resolved(url: str) -> str:
        return Settings(database_url=url, _env_file=None).resolved_database_url  # type: ignore[call-arg]

    assert resolved(f"{scheme}://u:p@db.example:5432/campaign") == "postgresql+psycopg://u:p@db.example:5432/campaign"
    assert resolved("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_urls_work_on_a_real_server(cli, monkeypatch: pytest.MonkeyPatch, pg_url: str, scheme: str) -> None:
    url = pg_url.replace("postgresql+psycopg", scheme, 1)
    monkeypatch.setenv("SOCIAL_CAMPAIGN_DATABASE_URL", url)
    assert cli("status")[2].startswith("error: no database yet (postgresql+psycopg://")
    code, out, err = cli("db", "upgrade")
    assert code == 0 and out.startswith("database is up to date (postgresql+psycopg://"), err
    assert cli("status")[0] == 0


# --- output through a pipe is not wrapped ------------------------------------------------------------------


def test_piped_output_keeps_long_paths_and_links_whole(tmp_path: Path) -> None:
    data = tmp_path / ("a-rather-long-folder-name-for-the-data-of-a-campaign-" * 2) / "data"
    link = "https://campaign.example.org/c/childrens-day/confirm/" + "t0k3n" * 20
    mail = data / "mail"
    mail.mkdir(parents=True)
    (mail / "000000001.eml").write_text(
        "From: a@example.org\nTo: supporter@example.org\nSubject: Confirm your pledge\n"
        "Date: Mon, 30 Nov 2026 10:00:00 +0000\n"
        f"Content-Type: text/plain; charset=utf-8\n\nConfirm: {link}\n",
        encoding="utf-8",
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SOCIAL_CAMPAIGN_DATA_DIR": str(data)}
    result = subprocess.run(
        [sys.executable, "-m", "social_campaign", "mail"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert link in result.stdout
    assert str(mail) in result.stdout


@pytest.mark.parametrize("args", [[], ["db"], ["infographics"]])
def test_a_group_alone_shows_its_help_not_an_error(cli, args: list[str]) -> None:
    code, out, err = cli(*args)
    assert code == 2 and err == ""
    assert out.startswith(f"Usage: social-campaign {' '.join(args)}".rstrip() + " [OPTIONS] COMMAND")


def test_a_failing_badge_prints_only_its_error_line(cli) -> None:
    code, out, err = cli("badge", "me.jpg", "-o", "out", "--overlay", "nope.png")
    assert code == 1 and out == ""
    assert err.splitlines() == ["error: nope.png: overlay not found"]
