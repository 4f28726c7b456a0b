"""Peak memory of badge requests, measured in processes of their own (issue 7: under 150 MB whatever the photo).

- ``social-campaign badge`` (the badge service): the whole command's peak RSS, through the launcher of
  ``test_badge_cli`` (``wait4``), for each image bomb;
- the web route (``tests/graphics/badge_probe.py``, the real app): how far one request raises the process' resident
  memory above what it held just before (the kernel's high-water mark), for each bomb; and eight bombs at once with
  two decode slots: the gate's own count says at most two decoded at a time, and the memory is handed back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.graphics.imaging import frame, image_bombs
from tests.graphics.test_badge_cli import ROOT, run_cli

pytestmark = pytest.mark.slow
LIMIT_MB = 150
REFUSED = {
    "wide.webp": "the image is too large to process (16383x2400 pixels",
    "square-rgba.png": "the image is too large to process (6300x6300 pixels",
    "progressive.jpg": "the image is too large to process (7000x5700 pixels",
    "huge-header.png": "image is too large (4295 megapixels)",
}
PROCESSED = ("grey.png", "baseline.jpg")


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bombs")
    for name, data in image_bombs().items():
        (folder / name).write_bytes(data)
    (folder / "infographics").mkdir()
    frame(1080).save(folder / "infographics" / "frame.png")
    (folder / "schedule.toml").write_text('[badge]\noverlay = "infographics/frame.png"\nsize = 1080\nshape = "circle"\n')
    return folder


@pytest.mark.parametrize("name", [*REFUSED, *PROCESSED])
def test_badge_command_stays_under_150_mb_for_every_bomb(bombs: Path, name: str) -> None:
    run = run_cli(["badge", name, "--out", f"out-{name}"], bombs)
    if name in REFUSED:
        lines = run.err.strip().splitlines()
        assert run.code == 1 and len(lines) == 1 and lines[0].startswith(f"{name}: {REFUSED[name]}"), run.err
    else:
        assert run.code == 0, run.err
        assert (bombs / f"out-{name}" / f"{Path(name).stem}.png").is_file()
    assert run.max_rss_mb < LIMIT_MB, f"{name}: {run.max_rss_mb:.0f} MB"


def probe(photo: Path, *args: str) -> dict[str, object]:
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux /proc/self/clear_refs to reset the peak")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIAL_CAMPAIGN_")}
    done = subprocess.run(
        [sys.executable, "-m", "tests.graphics.badge_probe", str(photo), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("name", [*REFUSED, *PROCESSED])
def test_one_web_request_raises_memory_by_less_than_150_mb(bombs: Path, name: str) -> None:
    got = probe(bombs / name, "--size", "1080")
    assert got["statuses"] == ([400] if name in REFUSED else [200])
    if name in REFUSED:
        assert got["errors"] == ["This photo is too large to process. Please choose a smaller one."]  # at the field
    assert float(got["peak_mb"]) - float(got["before_mb"]) < LIMIT_MB, got  # type: ignore[arg-type]


def test_eight_bombs_at_once_decode_two_at_a_time_and_give_the_memory_back(bombs: Path) -> None:
    got = probe(bombs / "grey.png", "--copies", "8", "--concurrency", "2")  # each decode: 36 MB of pixels
    assert got["statuses"] == [200] * 8
    assert got["gate_peak"] == 2 or got["gate_peak"] == 1
    assert got["trims"] == 8
    peak, before, after = (float(got[k]) for k in ("peak_mb", "before_mb", "after_mb"))  # type: ignore[arg-type]
    assert peak - before < LIMIT_MB, got  # eight at once: within one request's budget of memory, not eight
    assert after - before < 48, got  # handed back: less than one decode's budget is still held
