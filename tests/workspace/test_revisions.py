"""Versions (content hashes of the campaign folder), snapshots, baselines and the history of revisions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.workspace import revisions
from social_campaign.workspace.save import save_files
from tests.workspace.support import campaign_at, copy_shipped


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_shipped(tmp_path / "campaign")


def test_version_is_stable_and_follows_every_campaign_file(root: Path, tmp_path: Path) -> None:
    first = revisions.version_of(root)
    assert len(first) == 64 and revisions.version_of(root) == first
    twin = shutil.copytree(root, tmp_path / "twin")
    assert revisions.version_of(twin) == first  # content, not paths or times
    (root / "notes.txt").write_text("not a campaign file")
    (root / ".social-campaign.lock").write_text("")
    assert revisions.version_of(root) == first
    for rel in ("schedule.toml", "messages/show-support.fr.md", "infographics/show-support.toml"):
        path = root / rel
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert revisions.version_of(root) != first, rel
        path.write_bytes(original)
    assert revisions.version_of(root) == first
    (root / "messages/extra.md").write_text("a new file counts too")
    assert revisions.version_of(root) != first


def test_version_follows_the_bytes_of_referenced_media(root: Path) -> None:
    source = root / "schedule.toml"
    source.write_text(source.read_text().replace('media = ["infographics/us-stands-alone.toml"]',
                                                 'media = ["photos/kids.png"]'))
    (root / "photos").mkdir()
    (root / "photos/kids.png").write_bytes(b"\x89PNG one")
    before = revisions.version_of(root)
    assert revisions.media_paths(root) == ["infographics/frame-childrights.png", "photos/kids.png"]
    (root / "photos/kids.png").write_bytes(b"\x89PNG two")
    assert revisions.version_of(root) != before
    assert "photos/kids.png" not in revisions.snapshot(root)  # snapshots hold the text files only


def test_snapshot_lists_the_text_files(root: Path) -> None:
    snap = revisions.snapshot(root)
    assert "schedule.toml" in snap and "messages/thunderclap.v3.ar.md" in snap
    assert "infographics/infant-mortality.es.toml" in snap
    assert not any(rel.endswith(".png") or rel.startswith("infographics/fonts") for rel in snap)
    assert snap["schedule.toml"] == (root / "schedule.toml").read_text()


def test_baseline_once_per_version_and_history(settings: Settings, engine: Engine, root: Path) -> None:
    campaign = campaign_at(root)
    first = revisions.ensure_baseline(engine, campaign)
    assert (first.number, first.author, first.version) == (1, "disk", revisions.version_of(root))
    assert revisions.ensure_baseline(engine, campaign).id == first.id
    (root / "messages/show-support.md").write_text("Changed by hand #childrights {link}\n")
    second = revisions.ensure_baseline(engine, campaign)
    assert (second.number, second.parent_version) == (2, first.version)
    assert "+Changed by hand" in second.diff
    saved = save_files(settings, engine, campaign, {"messages/show-support.md": "Saved #childrights {link}\n"},
                       version=second.version, author="a@example.org", summary="s")
    assert saved.number == 3 and saved.parent_version == second.version
    assert [r.number for r in revisions.history(engine, campaign.slug)] == [3, 2, 1]
    got = revisions.get(engine, campaign.slug, 2)
    assert got is not None and revisions.files_of(got)["messages/show-support.md"].startswith("Changed by hand")
    assert revisions.get(engine, campaign.slug, 9) is None
    assert revisions.history(engine, "other") == []


def test_diff_of_snapshots_names_added_and_removed_files() -> None:
    diff = revisions.diff_snapshots({"a.md": "one\n", "gone.md": "x"}, {"a.md": "two\n", "new.md": "y\n"})
    assert "--- a/a.md\n+++ b/a.md\n" in diff and "-one\n+two\n" in diff
    assert "--- a/gone.md\n+++ /dev/null\n" in diff and "--- /dev/null\n+++ b/new.md\n" in diff
    assert revisions.diff_snapshots({"a": "1"}, {"a": "1"}) == ""
