"""Helpers shared by the command modules: output, settings, the --schedule option and read-only database access.

Start-up is kept short: this module imports only Typer and the standard library. Rich, the settings (pydantic) and
the database (SQLAlchemy) are imported by the functions that need them, when a command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from social_campaign.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.engine import Engine

    from social_campaign.config import Settings

#: Width of a Rich console that does not write to a terminal: wide enough that paths, links and ids stay whole.
PIPE_WIDTH = 10_000

ScheduleOption = Annotated[
    Path | None,
    typer.Option("--schedule", "-s", help="Campaign file (default: ./schedule.toml or SOCIAL_CAMPAIGN_SCHEDULE).", show_default=False),
]

SchedulesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--schedule", "-s", show_default=False,
        help="Campaign file; repeat it to serve several campaigns (default: SOCIAL_CAMPAIGN_CAMPAIGNS, else "
        "./schedule.toml or SOCIAL_CAMPAIGN_SCHEDULE).",
    ),
]


def echo(line: str) -> None:
    """Print one line to stdout as it is (no markup, no wrapping)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def echo_err(line: str) -> None:
    """Print one line to stderr as it is (no markup, no wrapping)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _console(stderr: bool) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = getattr(stream, "isatty", lambda: False)()
    # not a terminal: never wrap at 80 columns (tables size to their content)
    return Console(stderr=stderr, highlight=False, width=None if tty else PIPE_WIDTH)


def console() -> Console:
    """A Rich console on stdout, for tables (imports Rich; built at call time so it sees the current stdout)."""
    return _console(stderr=False)


def console_err() -> Console:
    """A Rich console on stderr (progress displays)."""
    return _console(stderr=True)


def configure_logging(settings: Settings) -> None:
    """Log lines at SOCIAL_CAMPAIGN_LOG_LEVEL; the libraries' per-run chatter (APScheduler, Alembic) only at WARNING."""
    import logging

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def private_process() -> None:
    """Files this process creates (renders, outbox, mail) are 0600 in 0700 folders, whatever the caller's umask."""
    from social_campaign.files import private_process as set_umask

    set_umask()


def get_settings() -> Settings:
    """Settings from the environment; a bad one exits with one line (ConfigError)."""
    from social_campaign.config import load_settings

    return load_settings()


def schedule_path(option: Path | None, settings: Settings | None = None) -> Path:
    """The campaign file: ``--schedule`` or the setting. A given ``--schedule`` that does not exist is an error."""
    if option is not None:
        return existing_schedule(option)
    return (settings or get_settings()).schedule


def existing_schedule(path: Path) -> Path:
    """``path`` if it is a file, else :class:`InputError` naming it (one line, exit 1)."""
    if not path.is_file():
        raise InputError(f"{path}: no such campaign file (--schedule)")
    return path


def settings_with_schedule(option: Path | None) -> Settings:
    """Settings from the environment, with ``--schedule`` (checked to exist) in place of the setting when given."""
    settings = get_settings()
    if option is not None:
        settings = settings.model_copy(update={"schedule": existing_schedule(option)})
    return settings


def settings_with_schedules(options: list[Path] | None) -> Settings:
    """Settings from the environment; a repeated ``--schedule`` (each checked to exist) replaces SCHEDULE and CAMPAIGNS:
    the first is ``schedule``, all of them ``campaigns``."""
    settings = get_settings()
    if options:
        paths = list(dict.fromkeys(existing_schedule(p) for p in options))
        settings = settings.model_copy(update={"schedule": paths[0], "campaigns": paths})
    return settings


def open_existing_engine(settings: Settings) -> Engine:
    """The database for a viewing command: never created or migrated here (DatabaseError in one line if missing)."""
    from social_campaign.db import open_existing

    return open_existing(settings)
