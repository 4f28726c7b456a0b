"""Badge benchmark: ``social-campaign badge`` against ImageMagick, and against Pillow's draft-mode decode (the floor).

``python -m benchmarks badge [--photos N] [--repeat R] [--no-write]``

On N (default 24) generated 12-megapixel phone-style JPEGs (4000x3000, quality 90, three in four with EXIF
orientation 6, 3 or 8), making 400x400 circle badges with the shipped frame (``infographics/frame-childrights.png``):

1. throughput of our batch (``graphics.batch.make_badges``: process pool over all cores) against the baseline
   ImageMagick ``convert photo.jpg -auto-orient -resize 400x400^ -gravity center -extent 400x400 overlay.png
   -composite out.png``, run two processes at a time (one per core, ``MAGICK_THREAD_LIMIT=1``) and, separately,
   one at a time with its own OpenMP threads; the faster of the two is the baseline;
2. per-photo time of our whole path (read, draft decode, orient, resize, composite, PNG encode, atomic write) in one
   process, against Pillow decoding the same photo in draft mode for 400x400 and nothing else.

Photos go to ``benchmarks/out/badge/`` (gitignored, reused between runs). Figures are printed and, unless
``--no-write``, written to the "Badges" section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import PIL
from PIL import Image, ImageDraw, ImageFilter

from social_campaign.graphics.badge import load_overlay, prepare_overlay
from social_campaign.graphics.batch import BadgeJob, make_badges, render_one

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out" / "badge"
OVERLAY = ROOT / "infographics" / "frame-childrights.png"
PERFORMANCE = ROOT / "docs" / "PERFORMANCE.md"
SIZE = 400


def phone_photo(seed: int) -> Image.Image:
    """A 4000x3000 photo-like picture: smooth light, shapes, and sensor-like noise (so JPEG has real work)."""
    w, h = 4000, 3000
    small = Image.effect_noise((w // 40, h // 40), 90).convert("RGB").filter(ImageFilter.GaussianBlur(3))
    im = small.resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(im)
    for i in range(12):
        x, y = (seed * 397 + i * 613) % w, (seed * 211 + i * 389) % h
        draw.ellipse((x - 300, y - 300, x + 300, y + 300), fill=((seed * 40 + i * 20) % 255, (i * 70) % 255, 140))
    noise = Image.effect_noise((w, h), 24).convert("RGB")
    return Image.blend(im, noise, 0.18)


def make_photos(n: int) -> list[Path]:
    folder = OUT / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"photo-{i:02d}.jpg"
        if not path.exists():
            exif = Image.Exif()
            exif[0x0112] = (6, 3, 8, 1)[i % 4]
            phone_photo(i).save(path, quality=90, exif=exif.tobytes())
        paths.append(path)
    return paths


def time_ours(photos: list[Path], repeat: int) -> float:
    best = float("inf")
    for r in range(repeat):
        out = OUT / f"ours-{r}"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        result = make_badges(photos, out, OVERLAY, size=SIZE, shape="circle", workers=os.cpu_count())
        best = min(best, time.perf_counter() - t0)
        assert not result.failures and len(result.written) == len(photos), result.failures
    return best


def convert_cmd(photo: Path, out: Path) -> list[str]:
    return [
        "convert", str(photo), "-auto-orient", "-resize", f"{SIZE}x{SIZE}^", "-gravity", "center",
        "-extent", f"{SIZE}x{SIZE}", str(OVERLAY), "-composite", str(out),
    ]  # fmt: skip


def time_magick(photos: list[Path], *, parallel: int, threads: int | None) -> float:
    out = OUT / f"magick-{parallel}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = dict(os.environ)
    if threads:
        env["MAGICK_THREAD_LIMIT"] = str(threads)

    def one(photo: Path) -> None:
        subprocess.run(convert_cmd(photo, out / f"{photo.stem}.png"), check=True, env=env)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, photos))
    return time.perf_counter() - t0


def per_photo(photos: list[Path], repeat: int) -> tuple[float, float]:
    """Median seconds per photo, single process: our whole path, and draft decode alone."""
    overlay = prepare_overlay(load_overlay(OVERLAY), SIZE)
    ours, floor = [], []
    for _ in range(repeat):
        for photo in photos:
            t0 = time.perf_counter()
            with Image.open(photo) as im:
                im.draft("RGB", (SIZE, SIZE))
                im.load()
            floor.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            render_one(BadgeJob(photo, OUT / "single" / f"{photo.stem}.png"), overlay, SIZE, "circle")
            ours.append(time.perf_counter() - t0)
    return statistics.median(ours), statistics.median(floor)


def magick_version() -> str:
    first = subprocess.run(["convert", "-version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    return first.split()[2]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks badge")
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    photos = make_photos(args.photos)
    load = os.getloadavg()
    n = len(photos)
    ours = time_ours(photos, args.repeat)
    magick_par = time_magick(photos, parallel=os.cpu_count() or 2, threads=1)
    magick_omp = time_magick(photos, parallel=1, threads=None)
    baseline = min(magick_par, magick_omp)
    mine, floor = per_photo(photos, args.repeat)
    cores = os.cpu_count()
    lines = [
        "## Badges",
        "",
        "`.venv/bin/python -m benchmarks badge`: "
        + f"{n} generated 12-megapixel phone-style JPEGs (4000x3000, quality 90, "
        "three in four with EXIF orientation 6, 3 or 8), 400x400 circle badges with `infographics/frame-childrights.png`.",
        f"Conditions: {cores} cores, {platform.python_implementation()} {platform.python_version()}, Pillow {PIL.__version__}, "
        f"ImageMagick {magick_version()}; best of {args.repeat} runs for ours; per-photo times are medians over {n * args.repeat} photos; "
        f"load average {load[0]:.1f} at the start (other work shares the machine: the ratios, measured in the same run, are the figures).",
        "",
        "| measure | ours | baseline | ratio |",
        "|---|---|---|---|",
        f"| batch throughput, photos/s (ours: process pool on {cores} cores; baseline: ImageMagick `convert`, the faster "
        f"of {cores} processes at a time ({n / magick_par:.1f}/s) and one process with its own threads ({n / magick_omp:.1f}/s)) "
        f"| {n / ours:.1f} | {n / baseline:.1f} | **{baseline / ours:.1f}x** faster (target ≥ 5x) |",
        f"| per photo, one process (ours: read, draft decode, orient, resize, frame, PNG encode, atomic write; baseline: "
        f"Pillow draft-mode decode alone, the floor) | {mine * 1000:.1f} ms | {floor * 1000:.1f} ms | "
        f"**{mine / floor:.2f}x** the floor (target ≤ 1.5x) |",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        write_section(section)
    return 0


def write_section(section: str, heading: str = r"## Badges\n") -> None:
    """Replace (or append) the section of docs/PERFORMANCE.md whose first line matches ``heading``, atomically."""
    text = PERFORMANCE.read_text(encoding="utf-8") if PERFORMANCE.exists() else "# Performance\n"
    pattern = re.compile(rf"^{heading}.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    tmp = PERFORMANCE.with_suffix(f".md.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, PERFORMANCE)


if __name__ == "__main__":
    raise SystemExit(main([]))
