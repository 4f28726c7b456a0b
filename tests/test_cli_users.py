"""``social-campaign users add|list|remove|reset``: passwords from stdin, no secrets listed, one-line errors, audit
entries with the ``cli:<os user>`` actor, and a reset link that works once."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign import audit
from social_campaign.config import Settings
from social_campaign.db import engine_for
from social_campaign.models import User, UserSession
from social_campaign.web.app import create_app
from tests.web.conftest import make_campaign

PASSWORD = "a long enough passphrase"
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``social-campaign ARGS`` in this process with ``stdin`` text: (exit code, stdout, stderr)."""
    from social_campaign.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOCIAL_CAMPAIGN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOCIAL_CAMPAIGN_PUBLIC_URL", "https://pledge.example.org")

    def call(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
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


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = engine_for(Settings(data_dir=tmp_path / "data", _env_file=None))
    yield engine
    engine.dispose()


def test_add_reads_the_password_from_stdin_and_list_shows_no_secret(cli: Cli, db: Engine) -> None:
    assert cli("users", "add", "Amina@Example.org", "--role", "owner", stdin=PASSWORD + "\n") == (
        0, "added amina@example.org (owner)\n", "")
    code, out, _ = cli("users", "list")
    assert code == 0
    assert out.startswith("amina@example.org\towner\t2fa=no\tlast login never")
    assert "argon2" not in out and PASSWORD not in out
    with Session(db) as s:
        user = s.exec(select(User)).one()
        assert user.password_hash.startswith("$argon2id$")
        entry = audit.entries(s, action="user.add")[0]
    assert entry.actor.startswith("cli:") and entry.target == "user:amina@example.org"


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["users", "add", "amina@example.org"], "short\n", "at least 12"),
    (["users", "add", "amina@example.org"], "amina@example.org\n", "not your email"),
    (["users", "add", "amina@example.org"], "", "no password on stdin"),
    (["users", "add", "amina@example.org", "--role", "admin"], PASSWORD, "viewer, editor or owner"),
    (["users", "add", "not-an-address"], PASSWORD, "valid email"),
    (["users", "remove", "nobody@example.org"], "", "no user nobody@example.org"),
    (["users", "reset", "nobody@example.org"], "", "no user nobody@example.org"),
])
def test_errors_are_one_line_and_change_nothing(cli: Cli, db: Engine, args: list[str], stdin: str, message: str) -> None:
    code, out, err = cli(*args, stdin=stdin)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    with Session(db) as s:
        assert s.exec(select(User)).all() == []


def test_a_second_add_of_the_same_address_is_refused(cli: Cli, db: Engine) -> None:
    cli("users", "add", "amina@example.org", stdin=PASSWORD)
    code, _, err = cli("users", "add", "AMINA@example.org", stdin=PASSWORD)
    assert code == 1 and "already" in err


def test_remove_ends_sessions_and_is_audited(cli: Cli, db: Engine) -> None:
    cli("users", "add", "boss@example.org", "--role", "owner", stdin=PASSWORD)
    cli("users", "add", "amina@example.org", "--role", "editor", stdin=PASSWORD)
    from social_campaign.db import session_scope
    from social_campaign.workspace import sessions

    with session_scope(db) as s:
        user = s.exec(select(User).where(User.email == "amina@example.org")).one()
        sessions.open_session(s, user, hours=1, now=user.created_at)
    assert cli("users", "remove", "amina@example.org") == (0, "removed amina@example.org\n", "")
    with Session(db) as s:
        assert s.exec(select(UserSession)).all() == []
        assert audit.entries(s, action="user.remove")[0].actor.startswith("cli:")
    code, _, err = cli("users", "remove", "boss@example.org")
    assert code == 1 and "last owner" in err


def test_reset_prints_a_link_that_works_once(cli: Cli, db: Engine, tmp_path: Path) -> None:
    cli("users", "add", "amina@example.org", stdin=PASSWORD)
    code, out, _ = cli("users", "reset", "amina@example.org")
    assert code == 0
    link = re.fullmatch(r"https://pledge\.example\.org(/login/reset/[A-Za-z0-9_-]+)\n", out)
    assert link
    settings = Settings(data_dir=tmp_path / "data", public_url="https://pledge.example.org",
                        _env_file=None)
    with TestClient(create_app(settings, db, campaigns=[make_campaign(tmp_path)]), follow_redirects=False,
                    base_url="https://testserver") as client:
        page = client.get(link.group(1))
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert page.status_code == 200 and token
        new = "the new passphrase here"
        form = {"csrf": token.group(1), "password": new, "password2": new}
        assert client.post(link.group(1), data=form).status_code == 303
        assert client.post(link.group(1), data=form).status_code == 400
        assert client.get(link.group(1)).status_code == 400
    with Session(db) as s:
        assert audit.entries(s, action="user.reset_link")[0].actor.startswith("cli:")


def test_viewing_commands_do_not_create_a_database(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("users", "list")
    assert code == 1 and err.startswith("error: ")
    assert not (tmp_path / "data" / "social-campaign.db").exists()
