"""Bounded image memory, in process: the decode budget computed from the header, draft and reduce before convert,
the decode gate. Peak RSS of real badge requests is measured in subprocesses in tests/graphics/test_badge_memory.py."""

from __future__ import annotations

import io
import re
import threading

import pytest
from PIL import Image

from social_campaign.errors import ImageError
from social_campaign.graphics import memory
from social_campaign.graphics.images import decode_photo
from social_campaign.graphics.memory import MAX_DECODE_BYTES, DecodeGate, decode_cost, jpeg_coefficients, standardise
from tests.graphics.imaging import encode, image_bombs, png_bomb, textured


@pytest.mark.parametrize(
    ("name", "pixels", "at_least_mb"),
    [("wide.webp", "16383x2400", 600), ("square-rgba.png", "6300x6300", 151), ("progressive.jpg", "7000x5700", 110)],
)
def test_bombs_over_the_byte_budget_are_refused_from_the_header_with_one_line(
    name: str, pixels: str, at_least_mb: int
) -> None:
    with pytest.raises(ImageError) as info:
        decode_photo(image_bombs()[name], name=name, target=400)
    message = str(info.value)
    found = re.fullmatch(
        rf"{re.escape(name)}: the image is too large to process \({pixels} pixels needs (\d+) MB to decode; "
        r"the limit is 48 MB\); please use a smaller photo",
        message,
    )
    assert found is not None, message
    assert int(found.group(1)) >= at_least_mb  # width x height x bytes per pixel, at the least


def test_a_header_over_the_pixel_limit_is_refused_first() -> None:
    with pytest.raises(ImageError, match=r"^huge-header.png: image is too large \(4295 megapixels\); the limit is 40"):
        decode_photo(image_bombs()["huge-header.png"], name="huge-header.png", target=400)


def test_a_large_baseline_jpeg_is_decoded_at_a_reduced_scale_even_for_an_extreme_zoom() -> None:
    data = image_bombs()["baseline.jpg"]  # 7000 x 5700: 160 MB at full size
    small, _ = decode_photo(data, name="b.jpg", target=400)
    assert small.size == (875, 713)  # 1/8 (the draft floor keeps the short side >= 400)
    zoomed, _ = decode_photo(data, name="b.jpg", target=21600)  # 1080 px at scale 20 wants full size: budget wins
    assert zoomed.size == (3500, 2850)  # 1/2: 40 MB, within the budget
    assert zoomed.size[0] * zoomed.size[1] * 4 <= MAX_DECODE_BYTES


def test_a_zero_filled_greyscale_bomb_within_the_budget_is_processed() -> None:
    im, _ = decode_photo(image_bombs()["grey.png"], name="grey.png", target=400)  # 6000 x 6000 L: 36 MB
    assert im.size == (400, 400) and im.mode == "RGB" and im.getpixel((10, 10)) == (0, 0, 0)


def test_decode_cost_is_read_from_the_header() -> None:
    with Image.open(io.BytesIO(image_bombs()["wide.webp"])) as im:
        assert decode_cost(im) == 16383 * 2400 * 16  # Pillow's 4 bytes a pixel plus libwebp's canvases and copy
    with Image.open(io.BytesIO(png_bomb(100, 50, color_type=0))) as im:
        assert decode_cost(im) == 100 * 50
    with Image.open(io.BytesIO(image_bombs()["progressive.jpg"])) as im:  # 4:2:0: Y full, Cb and Cr quarter size
        assert jpeg_coefficients(im) == (875 * 713 + 2 * 438 * 357) * 64 * 2
    with Image.open(io.BytesIO(image_bombs()["baseline.jpg"])) as im:
        assert jpeg_coefficients(im) == 0


@pytest.mark.parametrize("mode", ["P", "L", "LA", "RGBA", "CMYK", "I;16"])
@pytest.mark.parametrize("factor", [1, 3, 8])
def test_reduce_before_convert_in_strips_gives_the_whole_image_result(mode: str, factor: int) -> None:
    base = textured((901, 1337))  # odd sizes: the last strip and the last reduced row are partial
    if mode == "I;16":
        im = base.convert("L").point(lambda v: v * 256, mode="I").convert("I;16")
        whole = im.convert("I").point(lambda v: v * (255.0 / 65535)).convert("L").convert("RGB")
    else:
        im = base.convert(mode) if mode != "P" else base.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
        whole = im.convert("RGBA" if mode in ("LA", "RGBA") else "RGB")
    if factor > 1:
        whole = whole.reduce(factor)
    memory_strips = memory.STRIP_BYTES
    memory.STRIP_BYTES = 64 * 1024  # many strips
    try:
        got = standardise(im, factor)
    finally:
        memory.STRIP_BYTES = memory_strips
    assert got.mode == whole.mode and got.size == whole.size
    assert got.tobytes() == whole.tobytes()


def test_gate_lets_n_in_refuses_after_the_timeout_and_is_reentrant() -> None:
    gate = DecodeGate(2)
    entered, release = threading.Barrier(3), threading.Event()

    def hold() -> None:
        with gate.slot() as free:
            assert free
            entered.wait()
            release.wait()

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for t in holders:
        t.start()
    entered.wait()
    try:
        assert gate.in_flight == 2
        with gate.slot(timeout=0) as free:
            assert free is False  # full: nothing held, nothing counted
        assert gate.in_flight == 2 and gate.entered == 2
    finally:
        release.set()
        for t in holders:
            t.join()
    with gate.slot() as outer, gate.slot() as inner:  # the same thread decoding inside its own slot
        assert outer and inner and gate.in_flight == 1
    assert gate.in_flight == 0 and gate.peak == 2 and gate.entered == 3
    gate.configure(None)
    assert gate.limit == memory.default_concurrency()


def test_a_large_decode_hands_its_memory_back() -> None:
    data = encode(textured((2600, 2000)), "PNG", compress_level=1)  # 20 MB of pixels: over TRIM_ABOVE
    memory.GATE.reset_counts()
    decode_photo(data, name="big.png", target=400)
    trims = 1 if memory.release_memory() else 0  # glibc's malloc_trim; elsewhere there is nothing to call
    assert memory.GATE.trims == trims
    decode_photo(encode(textured((300, 200)), "PNG"), name="small.png", target=100)
    assert memory.GATE.trims == trims  # a small decode does not
