"""Commands of the graphics area: ``badge`` and ``infographics build``. Thin: the work is in ``graphics/``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from social_campaign.cli.common import (
    ScheduleOption,
    console,
    console_err,
    get_settings,
    schedule_path,
)

infographics_app = typer.Typer(help="Infographic cards rendered from infographics/*.toml specs.", no_args_is_help=True)


def badge(
    photos: Annotated[list[Path], typer.Argument(help="Photos (JPEG, PNG, WebP, GIF, BMP, TIFF).", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the badges (<photo stem>.png).")],
    size: Annotated[
        int | None, typer.Option("--size", help="Badge size in pixels (default: [badge] size, 400).")
    ] = None,
    overlay: Annotated[
        Path | None, typer.Option("--overlay", help="Frame PNG (default: the campaign's [badge] overlay).")
    ] = None,
    shape: Annotated[str | None, typer.Option("--shape", help="circle or square (default: [badge] shape).")] = None,
    schedule: ScheduleOption = None,
) -> None:
    """Put the campaign's frame over each photo: one PNG per good photo; exit 1 if any failed."""
    from social_campaign.graphics.badge import badge_defaults
    from social_campaign.graphics.batch import make_badges

    defaults = badge_defaults(schedule_path(schedule), required=overlay is None)
    overlay = overlay or defaults.overlay
    size = size or defaults.size
    shape = shape or defaults.shape
    progress = Progress(
        TextColumn("badges"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console_err,
        transient=True,
    )

    def start(total: int) -> None:
        progress.start()
        progress.add_task("badges", total=total)

    try:
        result = make_badges(
            photos,
            out,
            overlay,
            size=size,
            shape=shape,
            on_start=start,
            on_done=lambda job, error: progress.advance(progress.task_ids[0]) if progress.task_ids else None,
        )
    finally:
        progress.stop()
    for line in result.failures:
        console_err.print(line, markup=False, highlight=False, soft_wrap=True)
    n = len(result.written)
    summary = f"{n} badge{'s' if n != 1 else ''} written to {out}"
    if result.failures:
        summary += f", {len(result.failures)} failed"
    console.print(summary, markup=False, highlight=False, soft_wrap=True)
    if result.failures:
        raise typer.Exit(1)


@infographics_app.command("build")
def infographics_build(
    schedule: ScheduleOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder (default: DATA_DIR/infographics).")
    ] = None,
) -> None:
    """Render every infographics/*.toml spec for every target size (X, Facebook, square, portrait)."""
    from social_campaign.graphics.cards import build_all

    settings = get_settings()
    source = schedule_path(schedule, settings)
    out_dir = out or settings.data_dir / "infographics"
    built = build_all(source.parent / "infographics", out_dir)
    table = Table("spec", "target", "size", "file", "alt text")
    for item in built:
        alt = item.alt if len(item.alt) <= 60 else item.alt[:59] + "…"
        table.add_row(item.spec.name, item.target, f"{item.width}x{item.height}", str(item.path), alt)
    console.print(table)
    console.print(f"{len(built)} cards written to {out_dir}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("badge")(badge)
    app.add_typer(infographics_app, name="infographics")
