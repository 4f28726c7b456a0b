"""Commands of the graphics area: ``badge`` and ``infographics build``. Thin: the work is in ``graphics/``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from social_campaign.cli.common import (
    ScheduleOption,
    console,
    console_err,
    echo,
    echo_err,
    get_settings,
    private_process,
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
    progress = _progress()
    try:
        result = make_badges(
            photos,
            out,
            overlay,
            size=size,
            shape=shape,
            on_start=progress.start if progress else None,
            on_done=progress.advance if progress else None,
        )
    finally:
        if progress:
            progress.stop()
    for line in result.failures:
        echo_err(line)
    n = len(result.written)
    summary = f"{n} badge{'s' if n != 1 else ''} written to {out}"
    if result.failures:
        summary += f", {len(result.failures)} failed"
    echo(summary)
    if result.failures:
        raise typer.Exit(1)


class _Bar:
    """A progress bar on stderr while badges are made (Rich, imported only when stderr is a terminal)."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("badges"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console_err(),
            transient=True,
        )  # fmt: skip

    def start(self, total: int) -> None:
        self.bar.start()
        self.bar.add_task("badges", total=total)

    def advance(self, _job: object, _error: str | None) -> None:
        if self.bar.task_ids:
            self.bar.advance(self.bar.task_ids[0])

    def stop(self) -> None:
        if self.bar.task_ids:  # started (stopping a display that never started prints an empty line)
            self.bar.stop()


def _progress() -> _Bar | None:
    """A bar for a person watching; none when stderr is a pipe or a file (nothing would be shown)."""
    return _Bar() if sys.stderr.isatty() else None


@infographics_app.command("build")
def infographics_build(
    schedule: ScheduleOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder (default: DATA_DIR/infographics).")
    ] = None,
) -> None:
    """Render every infographics/*.toml spec for every target size (X, Facebook, square, portrait)."""
    from rich.table import Table

    from social_campaign.graphics.specs import build_all

    settings = get_settings()
    source = schedule_path(schedule, settings)
    if out is None:
        private_process()  # the renders go into the data dir
    out_dir = out or settings.data_dir / "infographics"
    built = build_all(source.parent / "infographics", out_dir)
    table = Table("spec", "target", "size", "file", "alt text")
    for item in built:
        alt = item.alt if len(item.alt) <= 60 else item.alt[:59] + "…"
        table.add_row(item.spec.name, item.target, f"{item.width}x{item.height}", str(item.path), alt)
    console().print(table)
    echo(f"{len(built)} cards written to {out_dir}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("badge")(badge)
    app.add_typer(infographics_app, name="infographics")
