"""A campaign folder in a git work tree gets one commit per save, with the user as author, of the changed paths
only; without git the save still succeeds."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.workspace import gitcommit, revisions
from social_campaign.workspace.save import save_files
from tests.workspace.support import campaign_at, copy_shipped

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = copy_shipped(tmp_path / "campaign")
    _git(root, "init", "-q")
    _git(root, "-c", "user.name=Setup", "-c", "user.email=setup@example.org", "add", "-A")
    _git(root, "-c", "user.name=Setup", "-c", "user.email=setup@example.org", "commit", "-q", "-m", "start")
    return root


def test_a_save_commits_the_changed_paths_with_the_user_as_author(settings: Settings, engine: Engine, repo: Path) -> None:
    (repo / "notes.txt").write_text("someone's unrelated work in progress\n")
    _git(repo, "add", "notes.txt")  # staged, but not ours: it must not be swept into the commit
    save_files(settings, engine, campaign_at(repo), {"messages/show-support.md": "Committed #childrights {link}\n",
                                                     "messages/show-support.x.md": "On X {link}\n"},
               version=revisions.version_of(repo), author="ana@example.org", summary="Edited post show-support")
    log = _git(repo, "log", "-1", "--format=%an|%ae|%s")
    assert log.strip() == "ana@example.org|ana@example.org|Edited post show-support"
    files = _git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(files) == ["messages/show-support.md", "messages/show-support.x.md"]
    assert "notes.txt" in _git(repo, "diff", "--cached", "--name-only")
    assert _git(repo, "log", "-1", "--format=%ce").strip()  # a committer identity, whatever git has


def test_a_deletion_is_committed(settings: Settings, engine: Engine, repo: Path) -> None:
    save_files(settings, engine, campaign_at(repo), {"messages/show-support.facebook.md": None},
               version=revisions.version_of(repo), author="ana@example.org", summary="No Facebook text")
    assert _git(repo, "show", "--name-status", "--format=", "HEAD").split() == ["D",
                                                                               "messages/show-support.facebook.md"]


def test_no_work_tree_or_no_git_never_fails_the_save(
    settings: Settings, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = copy_shipped(tmp_path / "plain")
    assert gitcommit.commit(root, ["schedule.toml"], author="a@example.org", message="m") is None
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert not gitcommit.in_work_tree(root)
    rev = save_files(settings, engine, campaign_at(root), {"messages/show-support.md": "No git {link}\n"},
                     version=revisions.version_of(root), author="a@example.org", summary="s")
    assert rev.number == 2
