"""Round trip: for generated valid campaigns (ids, times, channels, comments sprinkled around), change one field
through tomledit + save_files; the files differ only in that field."""

from __future__ import annotations

import difflib
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.workspace import revisions, tomledit
from social_campaign.workspace.save import save_files
from tests.workspace.support import campaign_at

CHANNELS = ["x", "facebook", "outbox"]
ZONES = ["UTC", "America/New_York", "Europe/Paris", "Asia/Kolkata"]
ids = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6})?", fullmatch=True)
comments = st.one_of(st.just(""), st.from_regex(r"# [A-Za-z ,.]{0,30}", fullmatch=True))
times = st.datetimes(min_value=datetime(2031, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(hour=d.hour if 4 <= d.hour <= 22 else 12, second=0, microsecond=0))
channel_sets = st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=3, unique=True)


@st.composite
def campaigns(draw: st.DrawFn) -> tuple[str, dict[str, str], list[str]]:
    post_ids = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    zone = draw(st.sampled_from(ZONES))
    lines = [draw(comments), "[campaign]", 'slug = "gen"', 'name = "Generated"  ' + draw(comments),
             f'timezone = "{zone}"', 'link = "https://example.org/x"', ""]
    files: dict[str, str] = {}
    for n, pid in enumerate(post_ids):
        note = draw(comments)
        if note:
            lines.append(note)
        lines.append("[[post]]")
        lines.append(f'id = "{pid}"' + (("   " + c) if (c := draw(comments)) else ""))
        at = draw(times)
        lines.append(f"at = {at:%Y-%m-%dT%H:%M:%S}" + (("  " + c) if (c := draw(comments)) else ""))
        chans = draw(channel_sets)
        lines.append("channels = [" + ", ".join(f'"{c}"' for c in chans) + "]")
        lines.append(f'message = "{pid}"' + (("    " + c) if (c := draw(comments)) else ""))
        lines.append("")
        files[f"messages/{pid}.md"] = f"Post number {n} about {pid}: {{link}}\n"
    return "\n".join(lines), files, post_ids


def _write(root: Path, schedule: str, files: dict[str, str]) -> None:
    (root / "messages").mkdir(parents=True)
    (root / "schedule.toml").write_text(schedule)
    for rel, text in files.items():
        (root / rel).write_text(text)


def _changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=campaigns(), field=st.sampled_from(["at", "channels", "text"]), pick=st.integers(0, 5),
       new_time=times, new_channels=channel_sets)
def test_one_changed_field_changes_only_that_field(
    settings: Settings, engine: Engine, generated: tuple[str, dict[str, str], list[str]], field: str, pick: int,
    new_time: datetime, new_channels: list[str],
) -> None:
    schedule, files, post_ids = generated
    post_id = post_ids[pick % len(post_ids)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "campaign"
        _write(root, schedule, files)
        campaign = campaign_at(root)
        doc = tomledit.parse(schedule)
        changes: dict[str, str | bytes | None] = {}
        if field == "at":
            tomledit.set_at(doc, post_id, new_time, ZoneInfo(campaign.timezone.key))
        elif field == "channels":
            tomledit.set_channels(doc, post_id, new_channels)
        else:
            changes[f"messages/{post_id}.md"] = f"Changed words for {post_id} {{link}}\n"
        new_text = tomledit.dump(doc)
        if new_text != schedule:
            changes["schedule.toml"] = new_text
        before = {rel: (root / rel).read_text() for rel in [*files, "schedule.toml"]}
        if changes:
            save_files(settings, engine, campaign, changes, version=revisions.version_of(root), author="a@example.org",
                       summary="round trip")
        after = {rel: (root / rel).read_text() for rel in before}
        changed_files = sorted(rel for rel in before if before[rel] != after[rel])
        table = next(t for t in tomledit.parse(schedule)["post"] if t["id"] == post_id)
        if field == "text":
            assert changed_files == [f"messages/{post_id}.md"]
            return
        lines = schedule.splitlines()
        start = next(n for n, line in enumerate(lines) if line.startswith(f'id = "{post_id}"'))
        old_line = next(line for line in lines[start:] if line.startswith(f"{field} ="))
        if (field == "at" and new_time == table["at"]) or (field == "channels" and new_channels == list(table["channels"])):
            assert changed_files == []
            return
        assert changed_files == ["schedule.toml"]
        diff = _changed_lines(before["schedule.toml"], after["schedule.toml"])
        assert len(diff) == 2 and diff[0] == f"-{old_line}"
        assert diff[1].startswith(f"+{field} = ")
        assert diff[1].split("#")[1:] == old_line.split("#")[1:]  # the line's comment is kept
