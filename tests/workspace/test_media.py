"""Media from the post form: a real upload decoded safely, re-encoded, saved with its alt text through save_files;
bombs, non-images and missing alt text refused at their fields with nothing written."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest
import tomlkit
from PIL import Image
from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, WebError
from social_campaign.graphics.images import MAX_BYTES
from social_campaign.workspace import media, revisions
from social_campaign.workspace.save import save_files
from tests.workspace.support import campaign_at, copy_shipped, tree


def png_with_metadata(size: tuple[int, int] = (800, 450)) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    image = Image.new("RGB", size, (200, 40, 40))
    info = PngInfo()
    info.add_text("Comment", "secret GPS 51.5,-0.1")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (640, 480), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010E] = "private description"  # ImageDescription
    exif[0x0112] = 6  # Orientation: turn 90°
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def bomb_png() -> bytes:
    """A 10,000 x 5,000 (50 megapixel) PNG of one colour: tiny on disk, huge once decoded."""
    out = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_shipped(tmp_path / "campaign")


def test_a_png_upload_lands_reencoded_with_its_alt_text(root: Path, settings: Settings, engine: Engine) -> None:
    campaign = campaign_at(root)
    post = next(p for p in campaign.posts if p.id == "only-country")
    version = revisions.version_of(root)
    found = media.apply_media_fields(
        campaign, post, {"media_alt": "  A map:\nthe United States  ", "media_remove": []},
        {"media_file": ("Map of the WORLD.png", png_with_metadata())},
    )
    assert found.media == [media.MediaItem("infographics/us-stands-alone.toml"),
                           media.MediaItem(next(iter(found)), "A map: the United States")]
    (path, data), = found.items()
    assert path.startswith("infographics/uploads/map-of-the-world-") and path.endswith(".png")
    decoded = Image.open(io.BytesIO(data))  # type: ignore[arg-type]
    assert decoded.size == (800, 450) and "Comment" not in decoded.info
    doc = tomlkit.parse(campaign.source.read_text())
    found.apply_to(doc, post.id)
    changes: dict[str, str | bytes | None] = {**found, "schedule.toml": tomlkit.dumps(doc)}
    revision = save_files(settings, engine, campaign, changes, version=version, author="ed@example.org",
                          summary="Add an image")
    assert (root / path).read_bytes() == data
    table = next(t for t in tomllib.loads((root / "schedule.toml").read_text())["post"] if t["id"] == "only-country")
    assert table["media"] == ["infographics/us-stands-alone.toml", path]
    assert table["alt"] == ["", "A map: the United States"]
    assert "# a card spec: each channel gets its own size" in (root / "schedule.toml").read_text()
    assert revisions.version_of(root) == revision.version


def test_a_jpeg_loses_its_exif_and_is_turned_upright(root: Path) -> None:
    campaign = campaign_at(root)
    path, data = media.encode_upload("photo.jpg", jpeg_with_exif())
    assert path.endswith(".jpg")
    decoded = Image.open(io.BytesIO(data))
    assert decoded.size == (480, 640)  # orientation 6 applied
    assert not decoded.getexif() and "exif" not in decoded.info
    assert campaign.slug  # the campaign is untouched: encode_upload writes nothing


@pytest.mark.parametrize(
    ("name", "data", "error", "status"),
    [
        ("huge.png", bomb_png(), BadRequest, 400),
        ("notes.png", b"These are my notes, not an image.\n" * 20, UnsupportedMediaType, 415),
        ("drawing.png", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', UnsupportedMediaType, 415),
        ("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_BYTES + 1), PayloadTooLarge, 413),
        ("broken.png", png_with_metadata()[:200], BadRequest, 400),
    ],
)
def test_unusable_uploads_are_refused_at_the_file_field(
    root: Path, name: str, data: bytes, error: type[WebError], status: int
) -> None:
    campaign = campaign_at(root)
    post = campaign.posts[0]
    before = tree(root)
    with pytest.raises(error) as caught:
        media.apply_media_fields(campaign, post, {"media_alt": "A picture"}, {"media_file": (name, data)})
    assert caught.value.field == "media_file" and caught.value.status == status
    assert tree(root) == before


def test_alt_text_is_required_with_a_file(root: Path) -> None:
    campaign = campaign_at(root)
    with pytest.raises(BadRequest) as caught:
        media.apply_media_fields(campaign, campaign.posts[0], {"media_alt": "   "},
                                 {"media_file": ("a.png", png_with_metadata())})
    assert caught.value.field == "media_alt"


def test_pick_a_card_and_remove_an_item(root: Path) -> None:
    campaign = campaign_at(root)
    post = next(p for p in campaign.posts if p.id == "show-support")
    picked = media.apply_media_fields(campaign, post, {"media_spec": "infographics/infant-mortality.toml"}, {})
    assert [i.path for i in picked.media or []] == ["infographics/show-support.toml",
                                                    "infographics/infant-mortality.toml"]
    assert dict(picked) == {}
    removed = media.apply_media_fields(campaign, post, {"media_remove": ["infographics/show-support.toml"]}, {})
    assert removed.media == []
    doc = tomlkit.parse(campaign.source.read_text())
    removed.apply_to(doc, "show-support")
    table = next(t for t in doc["post"] if t["id"] == "show-support")
    assert "media" not in table
    unchanged = media.apply_media_fields(campaign, post, {}, {})
    assert unchanged.media is None
    with pytest.raises(BadRequest) as caught:
        media.apply_media_fields(campaign, post, {"media_spec": "../secret.toml"}, {})
    assert caught.value.field == "media_spec"
    assert "infographics/show-support.fr.toml" not in media.card_specs(campaign)
