"""Commands of the mail area: ``mail`` lists the mail folder (no SMTP set) and the queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from social_campaign.cli.common import console, echo, get_settings, open_existing_engine


def mail(
    queue: Annotated[bool, typer.Option("--queue", help="List the queue (every email and its state) instead of the mail folder.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many, newest first.")] = 50,
    show: Annotated[Path | None, typer.Option("--show", help="Print one .eml file of the mail folder (path or file name).")] = None,
) -> None:
    """List the emails written to the mail folder (DATA_DIR/mail, used when SOCIAL_CAMPAIGN_SMTP_URL is unset)."""
    from rich.table import Table

    from social_campaign.mail import listing

    settings = get_settings()
    if show is not None:
        echo(listing.read_eml(settings, show))
        return
    if queue:
        engine = open_existing_engine(settings)
        try:
            rows = listing.queue_rows(engine, limit)
        finally:
            engine.dispose()
        table = Table(title=f"mail queue ({len(rows)} shown)")
        for col in ("id", "kind", "to", "state", "attempts", "subject", "last error"):
            table.add_column(col)
        for r in rows:
            table.add_row(str(r.id), r.kind, r.to_addr, r.state, str(r.attempts), r.subject, r.last_error or "")
        console().print(table)
        return
    entries = listing.folder_entries(settings, limit)
    folder = settings.data_dir / "mail"
    if not entries:
        echo(f"no emails in {folder}")
        return
    table = Table(title=f"{folder} ({len(entries)} shown, newest first)")
    for col in ("file", "date", "to", "subject", "links"):
        table.add_column(col, overflow="fold")
    for e in entries:
        table.add_row(e.file, e.date, e.to, e.subject, "\n".join(e.links))
    console().print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(mail)
