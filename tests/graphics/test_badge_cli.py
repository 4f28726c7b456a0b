"""``social-campaign badge`` checked from outside: real subprocesses, exit codes, files, one-line errors, memory."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from social_campaign.graphics.badge import make_badge
from tests.graphics.imaging import bad_images, encode, exif_photo, frame, scene
from tests.graphics.test_badge import mean_abs_diff

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
MAX_RSS_MB = 150  # issue 7: a badge stays under 150 MB of peak RSS whatever the photo


@dataclass
class Run:
    code: int
    out: str
    err: str
    max_rss_mb: float


#: Starts the CLI and reports its peak resident memory. It runs in a small process of its own because Linux carries a
#: parent's peak RSS over into a forked child (``ru_maxrss`` survives exec): measured straight from the pytest process,
#: the child would report pytest's own size.
LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:], stdout=open(sys.argv[1] + ".stdout", "wb"), stderr=open(sys.argv[1] + ".stderr", "wb"))
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def run_cli(args: list[str], cwd: Path) -> Run:
    """Run the CLI in a real subprocess and measure that process' own peak resident memory (``wait4``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
    env["COLUMNS"] = "200"
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(cwd / ".run"), sys.executable, "-m", "social_campaign", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=True,
    )
    code, maxrss_kb = (int(v) for v in launched.stdout.split())
    return Run(code, (cwd / ".run.stdout").read_text(), (cwd / ".run.stderr").read_text(), maxrss_kb / 1024)


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    (tmp_path / "infographics").mkdir()
    frame(1080).save(tmp_path / "infographics" / "frame.png")
    (tmp_path / "schedule.toml").write_text(
        '[badge]\noverlay = "infographics/frame.png"\nsize = 400\nshape = "circle"\n'
    )
    return tmp_path


def test_phone_photo_with_orientation_6_becomes_an_upright_400_png_without_exif(campaign: Path) -> None:
    (campaign / "phone.jpg").write_bytes(exif_photo(6))
    run = run_cli(["badge", "phone.jpg", "--out", "badges"], campaign)
    assert run.code == 0, run.err
    assert run.out.strip() == "1 badge written to badges"
    assert list((campaign / "badges").iterdir()) == [campaign / "badges" / "phone.png"]
    with Image.open(campaign / "badges" / "phone.png") as im:
        assert im.format == "PNG" and im.size == (400, 400) and im.mode == "RGBA"
        assert "exif" not in im.info and len(im.getexif()) == 0
        assert not any(k in im.info for k in ("icc_profile", "XML:com.adobe.xmp", "comment"))
        out = im.convert("RGBA")
    # upright: it matches the badge made from a full decode turned by its EXIF, and not the unturned photo
    with Image.open(io.BytesIO(exif_photo(6))) as stored:
        stored = stored.convert("RGB")
    overlay = frame(1080)
    upright = make_badge(ImageOps.exif_transpose(stored), overlay, 400, "circle")
    sideways = make_badge(stored, overlay, 400, "circle")
    assert mean_abs_diff(out, upright) < 2
    assert mean_abs_diff(out, sideways) > 10  # about 19; upright about 0.5
    assert run.max_rss_mb < MAX_RSS_MB


@pytest.mark.parametrize("name", ["truncated.jpg", "notes.jpg", "empty.png", "logo.svg", "bomb.png"])
def test_bad_input_one_line_no_output_bounded_memory(name: str, campaign: Path) -> None:
    (campaign / name).write_bytes(bad_images(campaign)[name])
    run = run_cli(["badge", name, "--out", "badges"], campaign)
    assert run.code == 1
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{name}: "), run.err
    assert "Traceback" not in run.err + run.out
    assert run.out.strip() == "0 badges written to badges, 1 failed"
    out = campaign / "badges"
    assert not out.exists() or list(out.iterdir()) == []
    assert run.max_rss_mb < MAX_RSS_MB, f"{run.max_rss_mb:.0f} MB"


def test_mixed_batch_writes_the_good_ones_and_exits_1(campaign: Path) -> None:
    good = ["a.jpg", "b.png", "c.webp", "d.gif"]
    for n, fmt in zip(good, ["JPEG", "PNG", "WEBP", "GIF"], strict=True):
        (campaign / n).write_bytes(encode(scene((900, 700)), fmt))
    bad = bad_images(campaign)
    for n in ("truncated.jpg", "logo.svg"):
        (campaign / n).write_bytes(bad[n])
    (campaign / "sub").mkdir()
    (campaign / "sub" / "a.png").write_bytes(encode(scene((300, 300)), "PNG"))  # same stem as a.jpg
    run = run_cli(["badge", *good, "truncated.jpg", "logo.svg", "sub/a.png", "--out", "out", "--size", "256"], campaign)
    assert run.code == 1
    assert run.out.strip() == "4 badges written to out, 3 failed"
    err = sorted(run.err.strip().splitlines())
    assert len(err) == 3
    assert (
        err[0].startswith("logo.svg: ")
        and err[1].startswith("sub/a.png: skipped")
        and err[2].startswith("truncated.jpg: ")
    )
    assert sorted(p.name for p in (campaign / "out").iterdir()) == ["a.png", "b.png", "c.png", "d.png"]
    with Image.open(campaign / "out" / "c.png") as im:
        assert im.size == (256, 256)


def test_overlay_option_and_bad_overlay(campaign: Path) -> None:
    (campaign / "p.jpg").write_bytes(encode(scene(), "JPEG"))
    Image.new("RGB", (500, 500)).save(campaign / "flat.png")
    run = run_cli(["badge", "p.jpg", "--out", "o", "--overlay", "flat.png", "--shape", "square"], campaign)
    assert run.code == 1
    assert run.err.strip() == "error: flat.png: overlay must be a PNG with an alpha channel (mode is RGB)"
    assert not (campaign / "o").exists()
    run = run_cli(
        ["badge", "p.jpg", "--out", "o", "--overlay", "infographics/frame.png", "--shape", "square"], campaign
    )
    assert run.code == 0, run.err
    with Image.open(campaign / "o" / "p.png") as im:
        assert im.getpixel((0, 0))[3] == 255  # square: corners kept


def test_no_schedule_and_no_overlay_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "p.jpg").write_bytes(encode(scene(), "JPEG"))
    run = run_cli(["badge", "p.jpg", "--out", "o"], tmp_path)
    assert run.code == 1
    assert run.err.strip() == "error: schedule.toml: no such file (give --overlay, or --schedule with a [badge] table)"
