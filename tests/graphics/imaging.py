"""Test images made with Pillow (and by hand for the ones Pillow will not write): every accepted and refused kind."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw


def scene(size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A photo-like test scene with an unmistakable top-left marker (red) and smooth gradients."""
    w, h = size
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    im = Image.merge(
        "RGB",
        (
            im.getchannel(0),
            im.getchannel(0).transpose(Image.Transpose.ROTATE_90).resize(size),
            Image.new("L", size, 120),
        ),
    )
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, w // 4, h // 4), fill=(230, 20, 20))
    draw.ellipse((w // 3, h // 3, 2 * w // 3, 2 * h // 3), fill=(20, 200, 60))
    return im


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **params)
    return buf.getvalue()


@cache
def accepted_images() -> dict[str, bytes]:
    """One file of each accepted kind, keyed by a file name with the usual extension."""
    base = scene()
    rgba = base.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(base.size))
    return {
        "cmyk.jpg": encode(base.convert("CMYK"), "JPEG", quality=90),
        "progressive.jpg": encode(base, "JPEG", quality=90, progressive=True),
        "palette.png": encode(base.convert("P", palette=Image.Palette.ADAPTIVE, colors=64), "PNG"),
        "sixteen.png": encode(base.convert("L").point(lambda v: v * 256, mode="I").convert("I;16"), "PNG"),
        "transparent.png": encode(rgba, "PNG"),
        "photo.webp": encode(base, "WEBP", quality=85),
        "anim.gif": encode(
            base.convert("P"), "GIF", save_all=True, append_images=[Image.new("P", base.size, 3)], duration=100
        ),
        "photo.bmp": encode(base, "BMP"),
        "photo.tiff": encode(base, "TIFF", compression="tiff_deflate"),
    }


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width``x``height`` (a decompression bomb) with a tiny zlib stream: never allocated."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def bad_images(tmp: Path) -> dict[str, bytes]:
    """Every kind of input that must be refused."""
    jpeg = encode(scene((800, 600)), "JPEG", quality=90)
    return {
        "truncated.jpg": jpeg[: len(jpeg) // 2],
        "notes.jpg": b"Dear supporter,\nthis is a text file, not a photo.\n",
        "empty.png": b"",
        "logo.svg": b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>\n',
        "bomb.png": png_header_only(30000, 30000),
        "random.bin": bytes(range(256)) * 4,
    }


def textured(size: tuple[int, int]) -> Image.Image:
    """:func:`scene` with fine detail (noise and thin lines), so resampling quality shows in a difference."""
    im = scene(size)
    noise = Image.effect_noise(size, 60).convert("RGB")
    im = Image.blend(im, noise, 0.35)
    draw = ImageDraw.Draw(im)
    for x in range(0, size[0], 37):
        draw.line((x, 0, x + size[1] // 3, size[1]), fill=(255, 255, 255), width=3)
    return im


def exif_photo(orientation: int, size: tuple[int, int] = (4000, 3000), *, detail: bool = False) -> bytes:
    """A JPEG whose stored pixels need EXIF ``orientation`` to be upright; carries GPS too (must be stripped)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    gps = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    exif[0x8825] = gps
    return encode(textured(size) if detail else scene(size), "JPEG", quality=90, exif=exif.tobytes())


def frame(size: int = 1080, hole: float = 0.8) -> Image.Image:
    """A simple valid overlay: an opaque ring colour with a transparent circle of ``hole`` x the side."""
    im = Image.new("RGBA", (size, size), (11, 61, 145, 255))
    r = size * hole / 2
    c = size / 2
    ImageDraw.Draw(im).ellipse((c - r, c - r, c + r, c + r), fill=(0, 0, 0, 0))
    return im


def png_bomb(width: int, height: int, color_type: int = 6) -> bytes:
    """A real, fully decodable PNG of ``width``x``height`` zero pixels (RGBA by default) that is only a few hundred KB:
    the rows are streamed through zlib, so making it costs no memory either."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    row = b"\x00" * (1 + width * channels)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@cache
def image_bombs() -> dict[str, bytes]:
    """Small files that decode to very many bytes, each under the 40-megapixel limit (issue 7's image bomb), plus a
    header that claims far more. Made once per test session (the WebP and JPEGs pass through Pillow's encoders)."""
    flat = Image.new("RGB", (7000, 5700), (90, 140, 200))
    bombs = {
        "wide.webp": encode(Image.new("RGB", (16383, 2400), (200, 30, 30)), "WEBP", quality=50, method=0),
        "square-rgba.png": png_bomb(6300, 6300),
        "huge-header.png": png_header_only(65535, 65535),
        "grey.png": png_bomb(6000, 6000, color_type=0),
        "progressive.jpg": encode(flat, "JPEG", quality=80, progressive=True),
        "baseline.jpg": encode(flat, "JPEG", quality=80),
    }
    del flat
    return bombs
