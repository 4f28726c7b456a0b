"""The badge: crop semantics, compositing, circle shape, speed-path quality, and the overlay rules."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from social_campaign.errors import ImageError, InputError
from social_campaign.graphics.badge import (
    badge_defaults,
    check_overlay,
    crop_box,
    decode_target,
    encode_png,
    load_overlay,
    make_badge,
)
from social_campaign.graphics.images import decode_photo, open_photo
from tests.graphics.imaging import encode, exif_photo, frame, scene

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_FRAME = ROOT / "infographics" / "frame-childrights.png"


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def test_crop_box_centre_default_zoom_and_clamping() -> None:
    assert crop_box((4000, 3000), None) == (500.0, 0.0, 3500.0, 3000.0)
    assert crop_box((3000, 4000), (0.5, 0.5, 2.0)) == (750.0, 1250.0, 2250.0, 2750.0)
    # centre near the left edge: the square is moved back inside the photo
    assert crop_box((4000, 3000), (0.0, 0.5, 2.0)) == (0.0, 750.0, 1500.0, 2250.0)
    assert crop_box((4000, 3000), (1.0, 1.0, 1.0)) == (1000.0, 0.0, 4000.0, 3000.0)
    with pytest.raises(InputError, match="scale"):
        crop_box((10, 10), (0.5, 0.5, 0.5))
    with pytest.raises(InputError, match=r"within 0\.\.1"):
        crop_box((10, 10), (1.5, 0.5, 1.0))
    assert decode_target(400, None) == 400 and decode_target(400, (0.5, 0.5, 2.5)) == 1000


def test_badge_is_rgba_circle_transparent_outside_frame_on_top() -> None:
    photo = Image.new("RGB", (800, 600), (250, 0, 0))
    badge = make_badge(photo, frame(), 400, "circle")
    assert badge.mode == "RGBA" and badge.size == (400, 400)
    assert badge.getpixel((0, 0))[3] == 0  # corner outside the circle
    assert badge.getpixel((200, 200)) == (250, 0, 0, 255)  # the photo shows in the middle
    assert badge.getpixel((200, 4))[:3] == (11, 61, 145)  # the ring covers the photo at the edge
    square = make_badge(photo, frame(), 400, "square")
    assert square.getpixel((0, 0)) == (11, 61, 145, 255)


def test_transparent_photo_is_laid_on_white() -> None:
    logo = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    badge = make_badge(logo, frame(), 200, "square")
    assert badge.getpixel((100, 100)) == (255, 255, 255, 255)


def test_crop_moves_the_visible_part() -> None:
    photo = Image.new("RGB", (1000, 500), (0, 0, 255))
    photo.paste((255, 0, 0), (0, 0, 500, 500))  # left half red, right half blue
    left = make_badge(photo, frame(hole=0.9), 100, "square", (0.0, 0.5, 1.0))
    right = make_badge(photo, frame(hole=0.9), 100, "square", (1.0, 0.5, 1.0))
    assert left.getpixel((50, 50))[:3] == (255, 0, 0)
    assert right.getpixel((50, 50))[:3] == (0, 0, 255)


def test_bad_shape_and_size_refused() -> None:
    with pytest.raises(InputError, match="shape"):
        make_badge(Image.new("RGB", (10, 10)), frame(100), 50, "hexagon")
    with pytest.raises(InputError, match="size"):
        make_badge(Image.new("RGB", (10, 10)), frame(100), 5, "circle")


def test_encode_png_round_trips_without_metadata() -> None:
    badge = make_badge(scene((600, 600)), frame(), 400, "circle")
    data = encode_png(badge)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG" and im.mode == "RGBA" and im.size == (400, 400)
        assert "exif" not in im.info and not im.getexif()
        assert ImageChops.difference(im, badge).getbbox() is None  # lossless


@pytest.mark.parametrize("orientation", [1, 6])
def test_draft_path_matches_full_decode_lanczos_reference(orientation: int) -> None:
    """The fast path (DCT-scaled decode + reduce + LANCZOS) stays close to a full decode resized with LANCZOS."""
    data = exif_photo(orientation, detail=True)  # a 12 MP phone photo
    overlay = frame()
    fast = make_badge(open_photo(data, name="p.jpg", target=decode_target(400, None)), overlay, 400, "square")
    with Image.open(io.BytesIO(data)) as ref:
        from PIL import ImageOps

        full = ImageOps.exif_transpose(ref.convert("RGB"))
    reference = make_badge(full, overlay, 400, "square")
    assert mean_abs_diff(fast, reference) < 2.5  # of 255; a NEAREST resize is about 50
    assert (
        mean_abs_diff(full.resize((400, 400), Image.Resampling.NEAREST, box=crop_box(full.size, None)), reference) > 10
    )


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("crop", [None, (0.2, 0.7, 1.8)])
def test_turning_the_small_result_equals_turning_the_photo(
    orientation: int, crop: tuple[float, float, float] | None
) -> None:
    """The batch path crops the stored pixels and turns only the badge: same picture as turning the photo first."""
    data = exif_photo(orientation, (900, 600))
    stored, found = decode_photo(data, name="p.jpg")
    assert found == orientation
    fast = make_badge(stored, frame(), 200, "square", crop, orientation=orientation)
    slow = make_badge(open_photo(data, name="p.jpg"), frame(), 200, "square", crop)
    assert mean_abs_diff(fast, slow) < 0.5
    assert fast.info == {}


def test_check_overlay_rules(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    frame(1080).save(good)
    assert check_overlay(good, 400) == []
    opaque = tmp_path / "opaque.png"
    Image.new("RGB", (1080, 1080), "blue").save(opaque)
    assert any("alpha channel" in p for p in check_overlay(opaque, 400))
    nearly = tmp_path / "nearly.png"
    frame(1080, hole=0.2).save(nearly)  # about 3% transparent
    assert any("transparent; at least 5%" in p for p in check_overlay(nearly, 400))
    oblong = tmp_path / "oblong.png"
    frame(1080).resize((1080, 900)).save(oblong)
    assert any("square" in p for p in check_overlay(oblong, 400))
    small = tmp_path / "small.png"
    frame(300).save(small)
    assert any("smaller than the badge size 400" in p for p in check_overlay(small, 400))
    jpeg = tmp_path / "frame.png"
    jpeg.write_bytes(encode(Image.new("RGB", (500, 500)), "JPEG"))
    assert any("not a readable PNG" in p for p in check_overlay(jpeg, 400))
    assert check_overlay(tmp_path / "missing.png", 400) == ["overlay not found"]
    with pytest.raises(ImageError, match=r"opaque\.png: overlay must be a PNG with an alpha channel"):
        load_overlay(opaque)


def test_shipped_frame_meets_the_badge_rules() -> None:
    assert check_overlay(SHIPPED_FRAME, 1080) == []
    with Image.open(SHIPPED_FRAME) as im:
        assert im.format == "PNG" and im.mode == "RGBA" and im.size == (1080, 1080)
        alpha = im.getchannel("A")
        clear = alpha.histogram()[0] / (1080 * 1080)
        assert 0.3 < clear < 0.7  # the middle shows the photo
        assert alpha.getpixel((540, 540)) == 0 and alpha.getpixel((540, 5)) == 255
        # lettering on the ring: the bottom of the ring has accent-coloured (#childrights) pixels
        ring = im.crop((300, 960, 780, 1060)).convert("RGB")
        colours = {c for _, c in ring.getcolors(1_000_000) or []}
        assert any(r > 200 and g > 160 and b < 120 for r, g, b in colours)


def test_badge_defaults_from_schedule(tmp_path: Path) -> None:
    schedule = tmp_path / "schedule.toml"
    schedule.write_text('[badge]\noverlay = "infographics/f.png"\nsize = 512\nshape = "square"\n')
    d = badge_defaults(schedule)
    assert d.overlay == tmp_path / "infographics" / "f.png" and d.size == 512 and d.shape == "square"
    schedule.write_text('[campaign]\nname = "x"\n')
    with pytest.raises(InputError, match=r"schedule.toml: no \[badge\] table"):
        badge_defaults(schedule)
    assert badge_defaults(schedule, required=False).size == 400
    schedule.write_text('[badge]\noverlay = "f.png"\nshape = "star"\n')
    with pytest.raises(InputError, match="shape must be one of circle, square"):
        badge_defaults(schedule)
