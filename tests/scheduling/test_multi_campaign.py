"""Several campaigns in one deployment: every campaign is synced and ticked, each with its own lock; one campaign's
refused edit never blocks another; two files with one slug are refused at start; a campaign created in the
workspace is synced by the running scheduler within SYNC_SECONDS; ``--schedule`` may be repeated on the CLI."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from social_campaign.config import Settings
from social_campaign.errors import ConfigError, InputError
from social_campaign.models import CampaignRevision, PledgeRelease, TaskRun, utcnow
from social_campaign.scheduling import jobs
from social_campaign.scheduling.roles import initial_sync
from social_campaign.scheduling.scheduler import CampaignScheduler
from social_campaign.workspace.campaigns import campaign_paths, create_from_template
from tests.scheduling.helpers import rows
from tests.scheduling.procs import ROOT


def write_campaign(folder: Path, slug: str, posts: int = 2, *, pledge: bool = False) -> Path:
    """A small valid campaign in ``folder`` (posts an hour from now, on x and facebook)."""
    (folder / "messages").mkdir(parents=True, exist_ok=True)
    at = (utcnow() + timedelta(hours=1)).replace(microsecond=0).isoformat()
    text = f'[campaign]\nslug = "{slug}"\nname = "Campaign {slug}"\ntimezone = "Europe/Paris"\n\n'
    for k in range(posts):
        (folder / "messages" / f"p{k}.md").write_text(f"Post {k} of {slug}: ratify the CRC #childrights\n")
        text += f'[[post]]\nid = "p{k}"\nat = {at}\nchannels = ["x", "facebook"]\nmessage = "p{k}"\n\n'
    if pledge:
        (folder / "messages" / "clap.md").write_text(f"I pledged for {slug} #childrights\n")
        text += ('[pledge]\ngoal = 10\ndeadline = 2030-11-20T09:00:00\nfire_at = 2030-11-20T12:00:00\n'
                 'message = "clap"\nchannels = ["x"]\n')
    (folder / "schedule.toml").write_text(text, encoding="utf-8")
    return folder / "schedule.toml"


def two(settings: Settings, tmp_path: Path, **kw: Any) -> tuple[Settings, Path, Path]:
    a, b = write_campaign(tmp_path / "a", "alpha", **kw), write_campaign(tmp_path / "b", "beta", **kw)
    return settings.model_copy(update={"campaigns": [a, b], "schedule": a}), a, b


def slugs(engine: Engine) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows(engine):
        out[row.campaign] = out.get(row.campaign, 0) + 1
    return out


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_sync_job_syncs_every_campaign_with_its_own_lock(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    s, a, b = two(settings, tmp_path)
    assert jobs.call("social_campaign.scheduling.jobs:sync", s, engine) is not None
    assert slugs(engine) == {"alpha": 4, "beta": 4}
    with Session(engine) as session:
        locks = sorted(r.name for r in session.exec(select(TaskRun)).all())
    assert locks == sorted(f"sync:{jobs.campaign_key(p)}" for p in (a, b))  # one lock per campaign and period


def test_a_refused_edit_in_one_campaign_leaves_the_other_syncing(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    s, a, _b = two(settings, tmp_path)
    initial_sync(s, engine)
    a.write_text(a.read_text().replace('channels = ["x", "facebook"]', 'channels = ["myspace"]', 1))  # refused
    write_campaign(tmp_path / "b", "beta", posts=3)  # a new post in the other campaign
    later = s.model_copy(update={"sync_seconds": 0.001})  # a new period: the locks do not hold the second run
    time.sleep(0.01)
    assert jobs.call("social_campaign.scheduling.jobs:sync", later, engine) is None  # the refusal is logged, not raised
    assert slugs(engine) == {"alpha": 4, "beta": 6}
    with Session(engine) as session:
        refused = {r.campaign: r.last_refused for r in session.exec(select(CampaignRevision)).all()}
    assert refused["beta"] is None and "myspace" in (refused["alpha"] or "")


def test_two_campaign_files_with_one_slug_are_refused_at_start(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    a = write_campaign(tmp_path / "a", "same")
    b = write_campaign(tmp_path / "b", "same")
    s = settings.model_copy(update={"campaigns": [a, b], "schedule": a})
    with pytest.raises(ConfigError) as caught:
        initial_sync(s, engine)
    message = str(caught.value)
    assert "'same'" in message and str(a) in message and str(b) in message and "\n" not in message
    assert rows(engine) == []


def test_the_release_tick_runs_for_every_campaign(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    s, _a, _b = two(settings, tmp_path, pledge=True)
    reports = jobs.call("social_campaign.scheduling.jobs:pledge_release", s, engine)
    assert sorted(r.campaign for r in reports) == ["alpha", "beta"]
    with Session(engine) as session:
        assert sorted(r.campaign for r in session.exec(select(PledgeRelease)).all()) == ["alpha", "beta"]


def test_a_campaign_created_in_the_workspace_is_synced_within_sync_seconds(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    template = write_campaign(tmp_path / "template", "template")
    s = settings.model_copy(update={"schedule": template, "sync_seconds": 0.5})
    scheduler = CampaignScheduler(s, engine)
    scheduler.start()
    try:
        wait_for(lambda: slugs(engine).get("template") == 4, "the first sync")
        path = create_from_template(s, engine, slug="second", name="Second", timezone="Asia/Tokyo", actor="o@example.org",
                                    taken={"template"}, template=template)
        assert path in campaign_paths(s)
        created = time.monotonic()
        wait_for(lambda: slugs(engine).get("second") == 4, "the new campaign's rows", timeout=10)
        assert time.monotonic() - created < 0.5 + 2.0  # one SYNC_SECONDS period, plus a busy machine's slack
        assert 'timezone = "Asia/Tokyo"' in path.read_text() and len(rows(engine, campaign="template")) == 4
    finally:
        scheduler.stop()


def test_status_takes_repeated_schedules_and_lists_every_campaign(
    settings: Settings, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from social_campaign.cli import typer_app as app

    s, a, b = two(settings, tmp_path)
    initial_sync(s, engine)
    c = write_campaign(tmp_path / "c", "gamma")  # given but never synced: listed all the same
    monkeypatch.setenv("SOCIAL_CAMPAIGN_DATA_DIR", str(settings.data_dir))
    result = CliRunner().invoke(app, ["status", "--schedule", str(a), "-s", str(b), "--schedule", str(c)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith(f"alpha ({a}): ") and "scheduled 4" in line for line in lines), result.output
    assert any(line.startswith(f"beta ({b}): ") and "scheduled 4" in line for line in lines), result.output
    assert f"gamma ({c}): nothing synced yet" in lines
    missing = CliRunner().invoke(app, ["status", "-s", str(a), "-s", str(tmp_path / "nope.toml")])
    assert isinstance(missing.exception, InputError) and "nope.toml: no such campaign file" in str(missing.exception)


@pytest.mark.slow
def test_the_scheduler_process_syncs_every_repeated_schedule(settings: Settings, tmp_path: Path) -> None:
    from social_campaign.db import make_engine

    _s, a, b = two(settings, tmp_path)
    data = tmp_path / "data"
    env = {"PATH": "/usr/bin:/bin", "SOCIAL_CAMPAIGN_DATA_DIR": str(data), "PYTHONPATH": str(ROOT),
           "SOCIAL_CAMPAIGN_CAMPAIGNS": str(tmp_path / "ignored.toml")}  # the option overrides the setting
    proc = subprocess.Popen([sys.executable, "-m", "social_campaign", "scheduler", "-s", str(a), "--schedule", str(b)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        engine = make_engine(f"sqlite:///{data / 'social-campaign.db'}")
        wait_for(lambda: (data / "social-campaign.db").exists() and _synced(engine), "both campaigns synced", 60)
        engine.dispose()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode()


def _synced(engine: Engine) -> bool:
    try:
        return slugs(engine) == {"alpha": 4, "beta": 4}
    except Exception:  # the schema is still being created
        return False


def test_a_folder_added_later_with_a_served_slug_is_not_synced(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    s, a, _b = two(settings, tmp_path)
    initial_sync(s, engine)
    twin = write_campaign(s.data_dir / "campaigns" / "twin", "alpha", posts=1)  # made by hand, same slug as a
    assert twin in campaign_paths(s)
    later = s.model_copy(update={"sync_seconds": 0.001})
    time.sleep(0.01)
    jobs.call("social_campaign.scheduling.jobs:sync", later, engine)
    assert slugs(engine) == {"alpha": 4, "beta": 4}  # alpha's rows stay the first file's, none cancelled
    assert {r.state for r in rows(engine, campaign="alpha")} == {"scheduled"}
    with Session(engine) as session:
        assert session.get(CampaignRevision, "alpha").source == str(a.resolve())  # type: ignore[union-attr]
