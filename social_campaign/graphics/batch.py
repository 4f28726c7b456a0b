"""Many badges at once, spread over the cores: the service behind ``social-campaign badge``.

Each input becomes ``OUT/<stem>.png`` (written atomically) or one failure line naming the input; a bad input never
leaves an output file. Two inputs with the same stem would write the same file: the later one fails instead of
silently replacing the first. Work runs in a process pool (one process per core, the frame loaded once per process);
each photo is decoded by ``images.decode_photo``, so within the byte budget and through the decode gate of
``graphics.memory`` (one decode at a time per worker), and a large decode's memory is handed back before the next.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from social_campaign.errors import SocialCampaignError
from social_campaign.graphics.badge import decode_target, encode_png, load_overlay, make_badge, prepare_overlay
from social_campaign.graphics.files import write_atomic
from social_campaign.graphics.images import decode_photo


@dataclass(frozen=True)
class BadgeJob:
    source: Path
    target: Path


@dataclass
class BatchResult:
    written: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # one line each, naming the input


_overlay: Image.Image | None = None  # per worker process: the frame already at the output size


def _init_worker(overlay_path: str, size: int) -> None:
    global _overlay
    _overlay = prepare_overlay(load_overlay(Path(overlay_path)), size)


def render_one(job: BadgeJob, overlay: Image.Image, size: int, shape: str) -> Path:
    """Decode, compose, encode and atomically write one badge; :class:`SocialCampaignError` names the input."""
    photo, orientation = decode_photo(job.source, name=str(job.source), target=decode_target(size, None))
    data = encode_png(make_badge(photo, overlay, size, shape, orientation=orientation))
    return write_atomic(job.target, data)


def _run(job: BadgeJob, size: int, shape: str) -> tuple[Path | None, str | None]:
    assert _overlay is not None
    try:
        return render_one(job, _overlay, size, shape), None
    except SocialCampaignError as exc:
        return None, str(exc)
    except OSError as exc:  # writing the output
        return None, f"{job.target}: cannot write ({exc.strerror or exc})"


def plan_jobs(photos: Sequence[Path], out_dir: Path) -> tuple[list[BadgeJob], list[str]]:
    """One job per input, named ``<stem>.png``; an input whose name collides with an earlier one is refused."""
    jobs: list[BadgeJob] = []
    failures: list[str] = []
    taken: dict[Path, Path] = {}
    for photo in photos:
        target = out_dir / f"{photo.stem}.png"
        if target in taken:
            failures.append(f"{photo}: skipped, its badge {target.name} would replace the one from {taken[target]}")
            continue
        taken[target] = photo
        jobs.append(BadgeJob(photo, target))
    return jobs, failures


def make_badges(
    photos: Sequence[Path],
    out_dir: Path,
    overlay_path: Path,
    *,
    size: int,
    shape: str,
    workers: int | None = None,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[BadgeJob, str | None], None] | None = None,
) -> BatchResult:
    """Make a badge per photo into ``out_dir``.

    ``on_start(n_jobs)`` is called once the workers exist (start progress displays there: no thread is running when
    the pool forks); ``on_done(job, error)`` as each input finishes.
    """
    overlay = load_overlay(overlay_path)  # a bad frame fails the whole command once, before any work
    make_badge(Image.new("RGB", (size, size)), overlay, size, shape)  # validates size and shape up front
    jobs, failures = plan_jobs(photos, out_dir)
    result = BatchResult(failures=list(failures))
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))

    def record(job: BadgeJob, written: Path | None, error: str | None) -> None:
        if written is not None:
            result.written.append(written)
        if error is not None:
            result.failures.append(error)
        if on_done is not None:
            on_done(job, error)

    if workers == 1:
        _init_worker(str(overlay_path), size)
        if on_start is not None:
            on_start(len(jobs))
        for job in jobs:
            record(job, *_run(job, size, shape))
        return result
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(workers, context, initializer=_init_worker, initargs=(str(overlay_path), size)) as pool:
        futures = {pool.submit(_run, job, size, shape): job for job in jobs}
        if on_start is not None:
            on_start(len(jobs))
        for future in as_completed(futures):
            record(futures[future], *future.result())
    return result
