"""Commands of the pledges area: ``serve`` (the web app, plus scheduler and workers) and ``pledges`` (the funnel)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from social_campaign.cli.common import (
    ScheduleOption,
    SchedulesOption,
    configure_logging,
    console,
    get_settings,
    open_existing_engine,
    private_process,
    schedule_path,
    settings_with_schedules,
)


class Role(StrEnum):
    web = "web"
    all = "all"


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default SOCIAL_CAMPAIGN_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default SOCIAL_CAMPAIGN_PORT, 8000).")] = None,
    role: Annotated[Role, typer.Option(help="web: only the web app; all: also the scheduler and workers.")] = Role.all,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Web processes (uvicorn workers). The scheduler and workers run once.")
    ] = 1,
    schedule: SchedulesOption = None,
) -> None:
    """Serve the campaign pages, pledge intake and progress.json (and, unless --role web, run scheduler + workers)."""
    import os
    import threading

    import uvicorn

    from social_campaign.db import engine_for
    from social_campaign.web.app import create_app, settle_heap
    from social_campaign.web.server import uvicorn_options

    settings = settings_with_schedules(schedule)
    configure_logging(settings)
    private_process()
    engine = engine_for(settings)  # the schema is upgraded once, here, before any web process starts
    settings.key  # noqa: B018  (created now, once, so that every web process signs forms with the same key)
    options: dict[str, Any] = {
        "host": host or settings.host, "port": port or settings.port, "log_level": settings.log_level.lower(),
        "access_log": False, "server_header": False,
    }
    app = None
    if workers == 1:
        app = create_app(settings, engine)
    elif schedule:  # the worker processes build their settings from the environment
        os.environ["SOCIAL_CAMPAIGN_SCHEDULE"] = str(settings.schedule.resolve())
        os.environ["SOCIAL_CAMPAIGN_CAMPAIGNS"] = ",".join(str(p.resolve()) for p in settings.campaigns)
    handle = None
    if role == Role.all:
        from social_campaign.scheduling import roles

        handle = roles.start(settings, roles.ROLES, engine=engine)
    from social_campaign.scheduling.roles import on_signals

    try:
        with on_signals(handle.stop_event if handle is not None else threading.Event()):  # uvicorn re-raises its signal
            if app is not None:
                settle_heap()
                uvicorn.run(app, **options, **uvicorn_options(settings))
            else:
                uvicorn.run(
                    "social_campaign.web.app:app_from_environment", factory=True, workers=workers, **options,
                    **uvicorn_options(settings),
                )
    finally:
        if handle is not None:
            handle.stop()
            roles.leave_stragglers(handle)


def pledges(schedule: ScheduleOption = None) -> None:
    """Show the pledge funnel per campaign: pledged → confirmed → notified → clicked (per channel)."""
    from rich.table import Table
    from sqlmodel import Session

    from social_campaign.campaign.loader import load_campaign
    from social_campaign.pledges.share import funnel

    settings = get_settings()
    campaign = load_campaign(schedule_path(schedule, settings))
    engine = open_existing_engine(settings)
    try:
        with Session(engine) as session:
            numbers = funnel(session, campaign)
    finally:
        engine.dispose()
    goal = campaign.pledge.goal if campaign.pledge else 0
    table = Table(title=f"{campaign.slug}: goal {goal}")
    table.add_column("step")
    table.add_column("count", justify="right")
    for step in ("pledged", "confirmed", "withdrawn", "fraud", "notified"):
        table.add_row("fraud (never counted)" if step == "fraud" else step, str(numbers[step]))
    for channel, n in sorted(numbers["clicked"].items()):
        table.add_row(f"clicked: {channel}", f"{n} ({numbers['clicks'][channel]} taps)")
    console().print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(serve)
    app.command()(pledges)
