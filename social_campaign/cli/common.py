"""Helpers shared by the command modules: consoles, settings, the engine, and the --schedule option."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from social_campaign.config import Settings, load_settings

console = Console(highlight=False)
console_err = Console(stderr=True, highlight=False)

ScheduleOption = Annotated[
    Path | None,
    typer.Option("--schedule", "-s", help="Campaign file (default: ./schedule.toml or SOCIAL_CAMPAIGN_SCHEDULE).", show_default=False),
]


def configure_logging(settings: Settings) -> None:
    """Log lines at SOCIAL_CAMPAIGN_LOG_LEVEL; the libraries' per-run chatter (APScheduler, Alembic) only at WARNING."""
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_settings() -> Settings:
    """Settings from the environment; a bad one exits with one line (ConfigError)."""
    return load_settings()


def schedule_path(option: Path | None, settings: Settings | None = None) -> Path:
    if option is not None:
        return option
    return (settings or get_settings()).schedule
