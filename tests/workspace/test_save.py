"""save_files: stale versions and failing checks write nothing; writes are atomic per file; revisions and audit
entries land in one transaction; two concurrent saves of the same version never both win."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.errors import BadRequest, CampaignError, Conflict
from social_campaign.models import AuditEntry, WorkspaceRevision
from social_campaign.workspace import revisions, tomledit
from social_campaign.workspace.save import save_files
from tests.workspace.support import campaign_at, copy_shipped, tree

AUTHOR = "editor@example.org"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_shipped(tmp_path / "campaign")


def _save(settings: Settings, engine: Engine, root: Path, changes: dict[str, str | bytes | None],
          version: str | None = None) -> WorkspaceRevision:
    return save_files(settings, engine, campaign_at(root), changes, version=version or revisions.version_of(root),
                      author=AUTHOR, summary="test edit")


def test_a_save_writes_records_and_audits(settings: Settings, engine: Engine, root: Path) -> None:
    before = revisions.version_of(root)
    rev = _save(settings, engine, root, {"messages/show-support.md": "Fresh words #childrights {link}\n"})
    assert (root / "messages/show-support.md").read_text() == "Fresh words #childrights {link}\n"
    assert rev.version == revisions.version_of(root) != before
    assert rev.parent_version == before and rev.author == AUTHOR and rev.summary == "test edit"
    assert rev.number == 2  # 1 is the baseline: the files as they were on disk
    assert revisions.files_of(rev)["messages/show-support.md"] == "Fresh words #childrights {link}\n"
    assert rev.diff.startswith("--- a/messages/show-support.md\n+++ b/messages/show-support.md\n")
    assert "+Fresh words #childrights {link}" in rev.diff
    with Session(engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "campaign.save")).one()
    details = json.loads(entry.details)
    assert entry.actor == AUTHOR and entry.campaign == "childrens-day"
    assert details["diff"] == rev.diff and details["revision"] == 2
    assert [r.number for r in revisions.history(engine, "childrens-day")] == [2, 1]
    assert revisions.history(engine, "childrens-day")[1].author == "disk"


def test_a_stale_version_is_a_conflict_with_the_diff_and_writes_nothing(
    settings: Settings, engine: Engine, root: Path,
) -> None:
    campaign = campaign_at(root)
    loaded = revisions.ensure_baseline(engine, campaign).version  # the form was loaded now
    (root / "messages/only-country.md").write_text("Edited in a text editor {link}\n")  # then the disk changed
    before = tree(root)
    with pytest.raises(Conflict) as caught:
        save_files(settings, engine, campaign, {"messages/show-support.md": "Mine {link}\n"}, version=loaded,
                   author=AUTHOR, summary="late")
    assert caught.value.status == 409
    assert "+Edited in a text editor {link}" in caught.value.diff
    assert "a/messages/only-country.md" in caught.value.diff
    assert tree(root) == before
    assert len(revisions.history(engine, "childrens-day")) == 1


def test_a_failing_check_writes_nothing_and_names_the_file(settings: Settings, engine: Engine, root: Path) -> None:
    before = tree(root)
    with pytest.raises(CampaignError) as caught:
        _save(settings, engine, root, {"messages/show-support.md": "word " * 80})
    assert any(p.path == "messages/show-support.md" and "too long for X" in p.message for p in caught.value.problems)
    doc = tomledit.parse((root / "schedule.toml").read_text())
    tomledit.set_channels(doc, "show-support", ["myspace"])
    with pytest.raises(CampaignError) as caught:
        _save(settings, engine, root, {"schedule.toml": tomledit.dump(doc)})
    assert [(p.path, p.line) for p in caught.value.problems if p.severity == "error"] == [("schedule.toml", 48)]
    assert tree(root) == before
    assert not list(root.parent.glob(".campaign-stage-*"))  # the staged copy is gone
    with Session(engine) as s:
        assert s.exec(select(WorkspaceRevision)).all() == []


def test_paths_outside_the_folder_are_refused(settings: Settings, engine: Engine, root: Path) -> None:
    for bad in ("../escape.md", "/etc/passwd", ".git/config"):
        with pytest.raises(BadRequest):
            _save(settings, engine, root, {bad: "x"})
    assert not (root.parent / "escape.md").exists()


def test_new_and_deleted_files_keep_modes(settings: Settings, engine: Engine, root: Path) -> None:
    os.chmod(root / "messages/show-support.facebook.md", 0o640)
    _save(settings, engine, root, {"messages/show-support.facebook.md": "Facebook words {link}\n",
                                   "messages/show-support.x.md": "X words {link}\n"})
    assert (root / "messages/show-support.facebook.md").stat().st_mode & 0o777 == 0o640
    assert (root / "messages/show-support.x.md").read_text() == "X words {link}\n"
    _save(settings, engine, root, {"messages/show-support.x.md": None})
    assert not (root / "messages/show-support.x.md").exists()


def test_a_crash_while_writing_temp_files_writes_nothing(
    settings: Settings, engine: Engine, root: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = tree(root)
    real_fsync, calls = os.fsync, []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    doc = tomledit.parse((root / "schedule.toml").read_text())
    tomledit.set_channels(doc, "show-support", ["x"])
    with pytest.raises(OSError, match="No space"):
        _save(settings, engine, root, {"messages/show-support.md": "New {link}\n", "schedule.toml": tomledit.dump(doc)})
    assert tree(root) == before
    assert not list(root.rglob("*.tmp"))


def test_a_crash_between_replaces_leaves_whole_files_and_the_old_schedule(
    settings: Settings, engine: Engine, root: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The documented order: message files first, schedule.toml last; each file is old or new, never half."""
    before = tree(root)
    real_replace, calls = os.replace, []

    def failing_replace(src: str | Path, dst: str | Path) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "I/O error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    doc = tomledit.parse((root / "schedule.toml").read_text())
    tomledit.set_channels(doc, "show-support", ["x"])
    with pytest.raises(OSError, match="I/O error"):
        _save(settings, engine, root, {"schedule.toml": tomledit.dump(doc),
                                       "messages/show-support.md": "New {link}\n"})
    assert [Path(d).name for d in calls] == ["show-support.md", "schedule.toml"]
    after = tree(root)
    assert after["messages/show-support.md"] == b"New {link}\n"  # whole new file
    assert after["schedule.toml"] == before["schedule.toml"]  # whole old file
    assert not list(root.rglob("*.tmp"))
    with Session(engine) as s:
        assert s.exec(select(WorkspaceRevision).where(WorkspaceRevision.author == AUTHOR)).all() == []


def test_two_concurrent_saves_of_one_version_one_wins(settings: Settings, engine: Engine, root: Path) -> None:
    version = revisions.version_of(root)
    campaign = campaign_at(root)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def run(text: str) -> None:
        barrier.wait()
        try:
            save_files(settings, engine, campaign, {"messages/show-support.md": text}, version=version,
                       author=AUTHOR, summary=text)
            outcomes.append("saved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=run, args=(f"Text {n} {{link}}\n",)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "saved"]
    assert [r.author for r in revisions.history(engine, "childrens-day")] == [AUTHOR, "disk"]
