"""diffview.parse: the unified diffs save.py stores, read into rows with their kinds and line numbers."""

from __future__ import annotations

from social_campaign.workspace.diffview import parse
from social_campaign.workspace.revisions import diff_snapshots


def test_rows_kinds_and_line_numbers() -> None:
    before = {"schedule.toml": "a = 1\nb = 2\nc = 3\n", "messages/old.md": "gone\n"}
    after = {"schedule.toml": "a = 1\nb = 20\nc = 3\n-- not a header\n", "messages/new.md": "hello\n"}
    files = parse(diff_snapshots(before, after))
    assert [(f.path, f.status) for f in files] == [
        ("messages/new.md", "added"), ("messages/old.md", "deleted"), ("schedule.toml", "changed")]
    schedule = files[2]
    rows = [(r.kind, r.old, r.new, r.text) for r in schedule.lines if r.kind != "hunk"]
    assert rows == [("ctx", 1, 1, "a = 1"), ("del", 2, None, "b = 2"), ("add", None, 2, "b = 20"),
                    ("ctx", 3, 3, "c = 3"), ("add", None, 4, "-- not a header")]
    assert (schedule.added, schedule.removed) == (2, 1)
    assert files[0].lines[-1].text == "hello" and files[1].lines[-1].kind == "del"


def test_a_deleted_line_that_looks_like_a_header_stays_in_its_file() -> None:
    before = {"a.md": "--- x\n+++ y\nkeep\n"}
    after = {"a.md": "keep\n", "b.md": "new\n"}
    files = parse(diff_snapshots(before, after))
    assert [f.path for f in files] == ["a.md", "b.md"]
    assert [(r.kind, r.text) for r in files[0].lines if r.kind != "hunk"] == [
        ("del", "--- x"), ("del", "+++ y"), ("ctx", "keep")]


def test_empty_diff() -> None:
    assert parse("") == []
