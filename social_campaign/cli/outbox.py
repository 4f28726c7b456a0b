"""``social-campaign outbox``: what the outbox publisher recorded (what would have been posted), newest first."""

from __future__ import annotations

from typing import Annotated

import typer

from social_campaign.cli.common import console, echo, get_settings, open_existing_engine

__all__ = ["outbox", "register"]


def outbox(
    channel: Annotated[str | None, typer.Option("--channel", "-c", help="Only this channel (x, facebook, outbox, …).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many items to show.")] = 20,
) -> None:
    """List the posts recorded in the outbox: time, channel, text and media with alt text."""
    from rich.table import Table

    from social_campaign.publishers.outbox import item_media, list_outbox

    settings = get_settings()
    engine = open_existing_engine(settings)
    try:
        items = list_outbox(engine, channel=channel, limit=limit)
    finally:
        engine.dispose()
    if not items:
        echo(f"the outbox is empty{f' for {channel}' if channel else ''} ({settings.data_dir / 'outbox'})")
        return
    table = Table(title=f"outbox ({len(items)} newest)", show_lines=True)
    for name in ("time (UTC)", "channel", "delivery", "text", "media (alt)"):
        table.add_column(name, overflow="fold")
    for item in items:
        text = item.text if len(item.text) <= 140 else item.text[:139] + "…"
        media = "\n".join(f"{m['path'].rsplit('/', 1)[-1]} ({m.get('alt') or 'no alt'})" for m in item_media(item))
        table.add_row(item.created_at.strftime("%Y-%m-%d %H:%M:%S"), item.channel, str(item.delivery_id), text, media or "-")
    console().print(table, markup=False)
    echo(f"files: {settings.data_dir / 'outbox'}")


def register(app: typer.Typer) -> None:
    app.command("outbox")(outbox)
