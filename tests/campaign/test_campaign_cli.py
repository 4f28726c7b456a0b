"""``social-campaign check`` and ``plan`` as a user runs them: exit codes, one line per problem, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from social_campaign.cli import app
from tests.campaign.campaign_helpers import HEAD, make_campaign, post

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command in a child process, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
    env["SOCIAL_CAMPAIGN_DATA_DIR"] = str(cwd / ".data")
    env["COLUMNS"] = "160"
    result = subprocess.run(
        [sys.executable, "-m", "social_campaign", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """The same command in this process (``social_campaign.cli.app``): fast, for the many small cases."""

    def call(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        monkeypatch.chdir(cwd)
        monkeypatch.setenv("SOCIAL_CAMPAIGN_DATA_DIR", str(cwd / ".data"))
        monkeypatch.setenv("COLUMNS", "160")
        capsys.readouterr()
        code = 0
        try:
            app(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err, err
        return subprocess.CompletedProcess(args, code, out, err)

    return call


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A copy of the shipped campaign to run the commands in."""
    shutil.copy(ROOT / "schedule.toml", tmp_path / "schedule.toml")
    shutil.copytree(ROOT / "messages", tmp_path / "messages")
    shutil.copytree(ROOT / "infographics", tmp_path / "infographics")
    return tmp_path


def test_check_shipped_campaign_exits_0(shipped: Path) -> None:
    result = run(["check"], shipped)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: 4 posts, 8 deliveries (1 warning)" in result.stdout
    assert "warning: post 'show-support'" in result.stdout


def test_check_in_the_repository_itself(cli) -> None:
    result = cli(["check"], ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_argument_and_option(cli, shipped: Path, tmp_path: Path) -> None:
    assert cli(["check", str(shipped / "schedule.toml")], tmp_path).returncode == 0
    assert cli(["check", "--schedule", str(shipped / "schedule.toml")], tmp_path).returncode == 0


def test_check_reports_every_problem_and_exits_1(cli, tmp_path: Path) -> None:
    body = post("one", "2027-03-14T02:30:00", "gone") + post("one") + 'colr = "x"\n'
    make_campaign(tmp_path, body, {"hello.md": "Hello"})
    result = cli(["check"], tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 4, lines
    assert all(line.startswith("schedule.toml:") for line in lines)
    assert "4 errors, 0 warnings" in result.stderr


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda p: None, "nothere.toml:1: file not found"),
        (lambda p: (p / "nothere.toml").mkdir(), "nothere.toml:1: is a folder"),
        (lambda p: (p / "nothere.toml").write_text("[campaign\nslug = 1\n"), "nothere.toml:1: invalid TOML"),
        (lambda p: (p / "nothere.toml").write_bytes(b'[campaign]\nname = "\xff"\n'), "nothere.toml:2: not UTF-8 text"),
        (
            lambda p: (p / "nothere.toml").write_text("[campaign]\nslug = 5\nname = []\ntimezone = 1\n"),
            "nothere.toml:2: 'slug' in [campaign] must be a string",
        ),
    ],
)
def test_check_bad_files_are_one_line(cli, tmp_path: Path, setup, expected: str) -> None:
    setup(tmp_path)
    result = cli(["check", "nothere.toml"], tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == expected or result.stdout.startswith(expected), result.stdout


def test_check_unreadable_file(cli, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    path = make_campaign(tmp_path, post(), {"hello.md": "Hello"})
    path.chmod(0)
    result = cli(["check"], tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("schedule.toml:1: cannot read")


def test_check_defaults_to_the_schedule_setting(shipped: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "elsewhere"
    env_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
    env["SOCIAL_CAMPAIGN_SCHEDULE"] = str(shipped / "schedule.toml")
    env["SOCIAL_CAMPAIGN_DATA_DIR"] = str(env_dir / ".data")
    result = subprocess.run(
        [sys.executable, "-m", "social_campaign", "check"],
        cwd=env_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_plan_lists_every_delivery(shipped: Path) -> None:
    result = run(["plan"], shipped)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for post_id in ("show-support", "only-country", "infant-mortality", "childrens-day", "[pledge] if goal met"):
        assert post_id in out
    assert "2027-11-18 10:00 EST" in out and "2027-11-18 15:00" in out
    assert "us-stands-alone.toml" in out
    assert "10 deliveries" in out


def test_plan_days_window_and_refusal(cli, shipped: Path, tmp_path: Path) -> None:
    result = cli(["plan", "--days", "3"], shipped)
    assert result.returncode == 0 and "0 deliveries" in result.stdout
    make_campaign(tmp_path / "bad", post(message="gone"), {})
    result = cli(["plan", "--schedule", "bad/schedule.toml"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("bad/schedule.toml:") and "gone.md not found" in result.stderr


def test_plan_shows_each_posts_language(cli, tmp_path: Path) -> None:
    head = HEAD + 'languages = ["en", "fr"]\n'
    body = post("english") + post("french", "2027-11-19T10:00:00", "salut") + 'lang = "fr"\n'
    messages = {"hello.md": "Hello #CRC", "hello.fr.md": "Bonjour #CRC", "salut.fr.md": "Salut à toutes et à tous #CRC"}
    make_campaign(tmp_path, body, messages, head=head)
    result = cli(["plan"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    header = next(line for line in result.stdout.splitlines() if "channel" in line)
    assert header.split("┃")[3].strip() == "lang"
    cells = {tuple(c.strip() for c in line.split("│")[1:4]) for line in result.stdout.splitlines() if "│" in line}
    assert {("english", "x", "en"), ("french", "facebook", "fr"), ("french", "x", "fr")} <= cells
    assert "4 deliveries" in result.stdout


def test_plan_of_a_one_language_campaign_has_no_language_column(cli, tmp_path: Path) -> None:
    make_campaign(tmp_path, post(), {"hello.md": "Hello #CRC"})
    result = cli(["plan"], tmp_path)
    assert result.returncode == 0 and "lang" not in result.stdout.splitlines()[1]
