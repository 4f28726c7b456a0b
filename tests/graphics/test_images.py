"""Safe decoding: every accepted format, every refused input, limits, orientation and metadata stripping."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from social_campaign.errors import ImageError
from social_campaign.graphics import images
from social_campaign.graphics.images import open_photo
from tests.graphics.imaging import accepted_images, bad_images, encode, exif_photo, png_header_only, scene


@pytest.mark.parametrize("name", sorted(accepted_images()))
def test_accepted_formats_decode_to_clean_rgb(name: str, tmp_path: Path) -> None:
    data = accepted_images()[name]
    path = tmp_path / name
    path.write_bytes(data)
    for source in (data, path):
        im = open_photo(source, name=name)
        assert im.size == (640, 480)
        assert im.mode == ("RGBA" if name == "transparent.png" else "RGB")
        assert im.info == {}
        if name != "sixteen.png":  # grey: the red marker is still the reddest corner
            r, g, b = im.convert("RGB").getpixel((10, 10))
            assert r > 150 and g < 90 and b < 90, (name, (r, g, b))
        else:
            assert 60 < im.getpixel((10, 10))[0] < 110  # 16-bit scaled to 8-bit, not clipped to white


def test_sixteen_bit_png_is_really_sixteen_bit() -> None:
    with Image.open(__import__("io").BytesIO(accepted_images()["sixteen.png"])) as im:
        assert im.mode.startswith("I;16")


def test_gif_gives_the_first_frame() -> None:
    im = open_photo(accepted_images()["anim.gif"], name="anim.gif")
    assert im.getpixel((10, 10))[0] > 150  # frame 2 is a flat colour 3 everywhere


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("truncated.jpg", "truncated.jpg: broken or truncated JPEG image"),
        ("notes.jpg", "notes.jpg: not an image, the file is text"),
        ("empty.png", "empty.png: empty file"),
        ("logo.svg", "logo.svg: SVG is not supported"),
        ("bomb.png", "bomb.png: image is too large (900 megapixels); the limit is 40 megapixels"),
        ("random.bin", "random.bin: not a supported image"),
    ],
)
def test_bad_inputs_get_one_line_naming_the_file(name: str, expected: str, tmp_path: Path) -> None:
    with pytest.raises(ImageError) as info:
        open_photo(bad_images(tmp_path)[name], name=name)
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_over_forty_megapixels_refused_from_the_header() -> None:
    # 8000x6000 = 48 MP: under Pillow's own bomb limit, over ours; the header alone decides
    with pytest.raises(ImageError, match=r"huge.png: image is 8000x6000 \(48 megapixels\); the limit is 40"):
        open_photo(png_header_only(8000, 6000), name="huge.png")


def test_bomb_warning_range_is_an_error_not_a_warning() -> None:
    # 12000x10000 = 120 MP: Pillow would only warn (DecompressionBombWarning); we refuse it cleanly
    with pytest.raises(ImageError, match="too large"):
        open_photo(png_header_only(12000, 10000), name="warn.png")


def test_file_over_twenty_megabytes_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    with path.open("wb") as fh:
        fh.truncate(images.MAX_BYTES + 1)
    with pytest.raises(ImageError, match=r"big.jpg: file is 20.0 MB; the limit is 20 MB"):
        open_photo(path, name="big.jpg")
    with pytest.raises(ImageError, match="limit is 20 MB"):
        open_photo(b"\xff\xd8\xff" + bytes(images.MAX_BYTES), name="upload")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"nope\.jpg: no such file"):
        open_photo(tmp_path / "nope.jpg", name="nope.jpg")
    with pytest.raises(ImageError, match="is a folder"):
        open_photo(tmp_path, name=str(tmp_path))


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_exif_orientation_applied_and_metadata_stripped(orientation: int) -> None:
    im = open_photo(exif_photo(orientation, (400, 300)), name="phone.jpg")
    upright = {1: (400, 300), 3: (400, 300), 6: (300, 400), 8: (300, 400)}[orientation]
    assert im.size == upright
    assert im.info == {} and len(im.getexif()) == 0
    # where the red top-left marker of the stored pixels ends up once upright
    corner = {1: (5, 5), 3: (395, 295), 6: (295, 5), 8: (5, 395)}[orientation]
    r, g, b = im.getpixel(corner)
    assert r > 150 and g < 90, (orientation, (r, g, b))


def test_draft_mode_decodes_jpeg_at_reduced_scale_but_never_below_target() -> None:
    data = encode(scene((4000, 3000)), "JPEG", quality=90)
    im = open_photo(data, name="big.jpg", target=400)
    assert min(im.size) >= 400
    assert im.size[0] <= 1000  # decoded at 1/4 (or reduced right after), not at full size
    full = open_photo(data, name="big.jpg")
    assert full.size == (4000, 3000)


def test_non_jpeg_large_images_are_reduced_early_but_not_below_target() -> None:
    im = open_photo(encode(scene((2000, 1500)), "PNG", compress_level=1), name="big.png", target=400)
    assert min(im.size) >= 400 and im.size[0] <= 1000
