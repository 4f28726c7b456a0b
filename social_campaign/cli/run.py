"""Commands of the run area: ``run``, ``worker``, ``scheduler``, ``db upgrade``, ``status`` and ``demo``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from social_campaign.cli.common import (
    ScheduleOption,
    SchedulesOption,
    configure_logging,
    console,
    echo,
    existing_schedule,
    get_settings,
    open_existing_engine,
    private_process,
    settings_with_schedule,
    settings_with_schedules,
)

if TYPE_CHECKING:
    from social_campaign.config import Settings

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


def _settings(schedule: list[Path] | None) -> Settings:
    settings = settings_with_schedules(schedule)
    configure_logging(settings)
    return settings


def _run(schedule: list[Path] | None, roles: set[str]) -> None:
    from social_campaign.scheduling.roles import run_forever

    settings = _settings(schedule)
    private_process()
    run_forever(settings, roles)


def run(schedule: SchedulesOption = None) -> None:
    """Run the scheduler and the workers in one process (the default deployment) until SIGTERM/Ctrl-C."""
    _run(schedule, {"scheduler", "worker"})


def worker(schedule: SchedulesOption = None) -> None:
    """Run only a worker: send due deliveries and emails. Start several on PostgreSQL to scale out."""
    _run(schedule, {"worker"})


def scheduler(schedule: SchedulesOption = None) -> None:
    """Run only the scheduler: sync every campaign's schedule.toml, sweep, mark missed posts, run the pledge jobs."""
    _run(schedule, {"scheduler"})


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (also done automatically at every start)."""
    from social_campaign.db import engine_for

    settings = get_settings()
    engine_for(settings).dispose()
    echo(f"database is up to date ({_safe_url(settings.resolved_database_url)})")


def status(schedule: SchedulesOption = None) -> None:
    """Show every campaign's deliveries for a manager: counts per state, what is next, failures, reconnects, refused
    edits."""
    from rich.markup import escape
    from rich.table import Table

    from social_campaign.models import utcnow
    from social_campaign.scheduling.status import get_status
    from social_campaign.workspace.campaigns import campaign_paths

    settings = settings_with_schedules(schedule)
    engine = open_existing_engine(settings)
    try:
        st = get_status(engine, utcnow(), stale_seconds=settings.heartbeat_stale_seconds,
                        retention_days=settings.retention_days, paths=campaign_paths(settings))
    finally:
        engine.dispose()
    out = console()
    if not st.counts:
        out.print("nothing scheduled yet: run `social-campaign run` (or `scheduler`) to sync schedule.toml")
    for line in st.campaigns:
        where = f" ({line.path})" if line.path is not None else " (no longer served)"
        counts = ", ".join(f"{state} {n}" for state, n in sorted(line.counts.items())) or "nothing synced yet"
        out.print(f"[bold]{escape(line.slug)}[/bold]{escape(where)}: {counts}")
    if st.next_due:
        table = Table("due (UTC)", "post", "channel", "note", title="Next due")
        for row in st.next_due:
            note = f"held until {row.next_attempt_at:%H:%M:%S}" if row.next_attempt_at else ""
            table.add_row(f"{row.due_at:%Y-%m-%d %H:%M:%S}", row.post_id, row.channel, note)
        out.print(table)
    if st.problems:
        table = Table("state", "post", "channel", "due (UTC)", "reason", title="Needs attention")
        for row in st.problems:
            table.add_row(row.state, row.post_id, row.channel, f"{row.due_at:%Y-%m-%d %H:%M}", row.last_error or "")
        out.print(table)
    for account in st.reconnect:
        out.print(
            f"[red]reconnect[/red] the {account.channel} account: {account.reason or 'token no longer valid'}"
        )
    for rev in st.refused:
        out.print(
            f"[yellow]refused edit[/yellow] of {rev.campaign} at {rev.refused_at:%Y-%m-%d %H:%M} UTC: {rev.last_refused}"
        )
    for due in st.purges:
        out.print(f"next purge of {due.campaign}: {due.due_at:%Y-%m-%d %H:%M} UTC, erases {due.count} supporter"
                  f"{'s' if due.count != 1 else ''} not on an organisation's list (SOCIAL_CAMPAIGN_RETENTION_DAYS)",
                  markup=False)
    if st.notices:
        out.print("[bold]Recent notices[/bold]")
        for notice in st.notices:
            out.print(f"  {notice.created_at:%Y-%m-%d %H:%M} {notice.kind}: {notice.message}", markup=False)
    if st.loops:
        table = Table("process", "loop", "state", "last beat", "errors", "last error", title="Background loops")
        for view in st.loops:
            hb = view.row
            table.add_row(hb.process, hb.loop, view.state, f"{view.age_seconds:.0f} s ago", str(hb.errors),
                          hb.last_error or "")  # fmt: skip
        out.print(table)
    for view in st.stalled:
        out.print(f"stalled: {view.row.loop} in {view.row.process}: no heartbeat for {view.age_seconds:.0f} s"
                  + (f" (last error: {view.row.last_error})" if view.row.last_error else ""), markup=False)


def demo(
    minutes: Annotated[
        float, typer.Option("--minutes", help="Stop after this many minutes even if posts are pending.")
    ] = 3.0,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep running after every post went out (until Ctrl-C).")
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Also serve the campaign's pages while the demo runs.")
    ] = True,
    schedule: ScheduleOption = None,
) -> None:
    """Run the shipped campaign on the outbox with its posts a few seconds apart, and show them arriving."""
    from social_campaign.scheduling.demo import run_demo

    settings = get_settings()
    if schedule is not None:
        existing_schedule(schedule)
    private_process()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", force=True)
    run_demo(settings, source=schedule, minutes=minutes, keep=keep, serve=serve, out=console())


def reconnect(
    channel: Annotated[str, typer.Argument(help="The channel whose account was reconnected: x, facebook, mastodon or bluesky.")],
    schedule: ScheduleOption = None,
) -> None:
    """After new credentials are set: check them, use the account again and requeue the posts it held."""
    from social_campaign.db import engine_for
    from social_campaign.models import utcnow
    from social_campaign.scheduling.accounts import reconnect as reconnect_account

    settings = settings_with_schedule(schedule)
    configure_logging(settings)
    engine = engine_for(settings)
    requeued = reconnect_account(settings, engine, channel, utcnow())
    engine.dispose()
    echo(f"{channel}: account in use again; {requeued} held post{'s' if requeued != 1 else ''} requeued")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("run")(run)
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
    app.command("status")(status)
    app.command("reconnect")(reconnect)
    app.command("demo")(demo)
    app.add_typer(db_app, name="db")
