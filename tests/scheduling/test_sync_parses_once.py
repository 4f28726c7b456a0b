"""One sync reads and checks the campaign's files once: the parse that builds the campaign also gives its warnings.

The reads are counted by the interpreter itself (an audit hook on ``open``), not by replacing any of our functions.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from social_campaign.campaign.check import run_check
from social_campaign.errors import CampaignError
from social_campaign.scheduling.sync import sync_campaign

NOW = datetime(2027, 11, 18, 16, 0, tzinfo=UTC)  # after post "a" (10:00 New York), before post "b"
SCHEDULE = """
[campaign]
slug = "childrens-day"
name = "Children's Day"
timezone = "America/New_York"
hashtags = ["#ChildrensDay"]

[[post]]
id = "a"
at = 2027-11-18T10:00:00
channels = ["outbox"]
message = "a"

[[post]]
id = "b"
at = 2027-11-19T10:00:00
channels = ["outbox", "x"]
message = "b"
"""

_opened: Counter[str] = Counter()
_watching = threading.Event()


def _on_audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _watching.is_set() and isinstance(args[0], str | Path):
        _opened[str(Path(args[0]).resolve())] += 1


sys.addaudithook(_on_audit)  # audit hooks cannot be removed; it counts only while a test watches


@pytest.fixture
def opened() -> Any:
    _opened.clear()
    _watching.set()
    yield _opened
    _watching.clear()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "messages").mkdir()
    (tmp_path / "messages" / "a.md").write_text("Show your support for {hashtags}\n")
    (tmp_path / "messages" / "b.md").write_text("US only country that has not ratified the CRC\n")
    (tmp_path / "schedule.toml").write_text(SCHEDULE)
    return tmp_path.resolve()


def _campaign_files(counts: Counter[str], folder: Path) -> dict[str, int]:
    return {name: counts[str(folder / name)] for name in ("schedule.toml", "messages/a.md", "messages/b.md")}


def test_a_sync_reads_the_files_as_one_check_does_and_keeps_its_warnings(settings, engine, folder, opened):
    run_check(folder / "schedule.toml", NOW)
    one_parse = _campaign_files(opened, folder)
    assert one_parse["schedule.toml"] == 1
    opened.clear()
    report = sync_campaign(settings, engine, folder / "schedule.toml", NOW)
    assert report.created == 3
    assert [p.message for p in report.warnings] == [
        "post 'a' is in the past (2027-11-18T10:00:00-05:00); it will not be posted"
    ]
    assert _campaign_files(opened, folder) == one_parse


def test_unchanged_files_are_not_read_again(settings, engine, folder, opened):
    sync_campaign(settings, engine, folder / "schedule.toml", NOW)
    opened.clear()
    report = sync_campaign(settings, engine, folder / "schedule.toml", NOW, skip_unchanged=True)
    assert report.skipped and _campaign_files(opened, folder) == {"schedule.toml": 0, "messages/a.md": 0, "messages/b.md": 0}


def test_an_edited_message_is_read_and_synced(settings, engine, folder, opened):
    sync_campaign(settings, engine, folder / "schedule.toml", NOW)
    message = folder / "messages" / "b.md"
    mtime = message.stat().st_mtime_ns
    message.write_text("The US is the only country that has not ratified the CRC\n")
    os.utime(message, ns=(mtime + 10**9, mtime + 10**9))  # a new mtime even on a coarse clock
    opened.clear()
    report = sync_campaign(settings, engine, folder / "schedule.toml", NOW, skip_unchanged=True)
    assert not report.skipped and opened[str(folder / "schedule.toml")] == 1
    assert report.updated >= 1


def test_a_refused_file_is_read_once_and_every_error_is_raised(settings, engine, folder, opened):
    path = folder / "schedule.toml"
    path.write_text(SCHEDULE.replace('channels = ["outbox", "x"]', 'channels = ["outbox", "myspace"]\nbogus = 1'))
    opened.clear()
    with pytest.raises(CampaignError) as info:
        sync_campaign(settings, engine, path, NOW)
    assert sorted(p.message.split(" ")[0] for p in info.value.problems) == ["unknown", "unknown"]
    assert all(p.severity == "error" for p in info.value.problems)
    assert opened[str(path)] == 1
