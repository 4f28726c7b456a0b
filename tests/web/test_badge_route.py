"""The badge maker on the web: page, PNG API, limits and one-line errors, photo kept in memory, makers counted."""

from __future__ import annotations

import dataclasses
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageOps
from sqlalchemy.engine import Engine
from sqlmodel import Session

from social_campaign.campaign.model import BadgeSpec, Campaign
from social_campaign.graphics.badge import make_badge
from social_campaign.web.routes.badge import badge_maker_count
from tests.graphics.imaging import bad_images, encode, exif_photo, frame, scene, textured
from tests.graphics.test_badge import mean_abs_diff
from tests.web.conftest import make_campaign

URL = "/c/childrens-day/badge"


@pytest.fixture
def badge_campaign(tmp_path: Path) -> Campaign:
    (tmp_path / "infographics").mkdir()
    frame(1080).save(tmp_path / "infographics" / "frame.png")
    spec = BadgeSpec(overlay=tmp_path / "infographics" / "frame.png", size=400, download_size=1080, shape="circle")
    return dataclasses.replace(make_campaign(tmp_path), badge=spec)


@pytest.fixture
def web(client_for: Callable[..., TestClient], engine: Engine, badge_campaign: Campaign) -> TestClient:
    """The app on a real SQLite file (the counting test also runs on PostgreSQL)."""
    return client_for(engine, [badge_campaign])


def post(client: TestClient, data: bytes, name: str = "me.jpg", ua: str = "test-agent", **fields: str):  # type: ignore[no-untyped-def]
    return client.post(
        URL, files={"photo": (name, data, "application/octet-stream")}, data=fields, headers={"user-agent": ua}
    )


def test_page_has_a_form_that_works_without_javascript(web: TestClient) -> None:
    page = web.get(URL)
    assert page.status_code == 200
    html = page.text
    assert 'enctype="multipart/form-data"' in html and 'name="photo"' in html and 'type="file"' in html
    assert 'name="x" id="x" value="0.5"' in html and 'name="scale" id="scale" value="1"' in html  # centre crop
    assert '<script src="/static/badge.js" defer>' in html and "<canvas" in html
    assert web.get("/static/badge.js").status_code == 200
    frame_png = web.get(f"{URL}/frame.png")
    assert frame_png.status_code == 200 and frame_png.headers["content-type"] == "image/png"


def test_campaign_without_badge_is_404(client_for: Callable[..., TestClient], engine: Engine, tmp_path: Path) -> None:
    plain = client_for(engine, [make_campaign(tmp_path)])
    assert plain.get(URL).status_code == 404
    assert post(plain, encode(scene(), "JPEG")).status_code == 404


def test_post_returns_an_upright_png_without_exif_not_cached(web: TestClient) -> None:
    data = exif_photo(6, (1600, 1200))
    res = post(web, data)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "image/png"
    assert res.headers["cache-control"] == "no-store"
    with Image.open(io.BytesIO(res.content)) as im:
        assert im.size == (400, 400) and im.mode == "RGBA"
        assert "exif" not in im.info and len(im.getexif()) == 0
        got = im.copy()
    with Image.open(io.BytesIO(data)) as stored:
        upright = ImageOps.exif_transpose(stored.convert("RGB"))
    assert mean_abs_diff(got, make_badge(upright, frame(1080), 400, "circle")) < 2


def test_crop_and_download_size(web: TestClient) -> None:
    data = encode(textured((1200, 800)), "PNG", compress_level=1)
    res = post(web, data, "me.png", x="0.1", y="0.9", scale="2", size="1080")
    assert res.status_code == 200, res.text
    with Image.open(io.BytesIO(res.content)) as im:
        assert im.size == (1080, 1080)
        got = im.copy()
    want = make_badge(Image.open(io.BytesIO(data)).convert("RGB"), frame(1080), 1080, "circle", (0.1, 0.9, 2.0))
    assert mean_abs_diff(got, want) < 1.5
    assert post(web, data, "me.png", size="999").status_code == 400


@pytest.mark.parametrize(
    ("name", "status", "start"),
    [
        ("logo.svg", 415, "photo: SVG is not supported"),
        ("notes.jpg", 415, "photo: not an image, the file is text"),
        ("random.bin", 415, "photo: not a supported image"),
        ("truncated.jpg", 400, "photo: broken or truncated JPEG image"),
        ("bomb.png", 400, "photo: image is too large (900 megapixels)"),
        ("empty.png", 400, "photo: the file is empty"),
    ],
)
def test_bad_images_get_one_line(web: TestClient, tmp_path: Path, name: str, status: int, start: str) -> None:
    res = web.post(URL, files={"photo": (name, bad_images(tmp_path)[name])}, headers={"accept": "application/json"})
    assert res.status_code == status
    message = res.json()["error"]
    assert message.startswith(start) and "\n" not in message


def test_bad_crop_missing_photo_and_wrong_content_type(web: TestClient) -> None:
    jpeg = encode(scene(), "JPEG")
    headers = {"accept": "application/json"}
    res = web.post(URL, files={"photo": ("a.jpg", jpeg)}, data={"x": "2"}, headers=headers)
    assert res.status_code == 400 and res.json()["error"] == "x: must be a number between 0 and 1"
    res = web.post(URL, files={"photo": ("a.jpg", jpeg)}, data={"scale": "zoom"}, headers=headers)
    assert res.status_code == 400 and res.json()["error"] == "scale: must be a number between 1 and 20"
    res = web.post(URL, files={"other": ("a.jpg", jpeg)}, headers=headers)
    assert res.status_code == 400 and res.json()["error"].startswith("photo: choose a photo")
    res = web.post(URL, content=jpeg, headers={**headers, "content-type": "image/jpeg"})
    assert res.status_code == 415 and "multipart/form-data" in res.json()["error"]


@pytest.mark.parametrize("extra", [10, 2 * 1024 * 1024])  # just over (photo part check), far over (body check)
def test_over_twenty_megabytes_is_413(web: TestClient, extra: int) -> None:
    big = b"\xff\xd8\xff" + os.urandom(20 * 1024 * 1024 + extra)
    res = web.post(URL, files={"photo": ("big.jpg", big)}, headers={"accept": "application/json"})
    assert res.status_code == 413
    assert res.json()["error"] == "photo: the file is over the 20 MB limit"


def test_photo_never_touches_disk_database_or_logs(
    web: TestClient, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    marker = b"SECRET-PHOTO-MARKER-4d1f"
    photo = encode(textured((2000, 1500)), "PNG", compress_level=0) + marker  # ~9 MB: any spooling would hit disk
    assert len(photo) > 5 * 1024 * 1024
    tmp_dir = Path(tempfile.gettempdir())
    before = set(tmp_dir.iterdir())
    caplog.set_level("DEBUG")
    res = post(web, photo, "me.png")
    assert res.status_code == 200, res.text
    assert set(tmp_dir.iterdir()) - before == set()
    for path in tmp_path.rglob("*"):  # data dir, SQLite file and WAL included
        if path.is_file():
            assert marker not in path.read_bytes(), path
    assert marker.decode() not in caplog.text


def test_unique_makers_are_counted_without_photos(
    client_for: Callable[..., TestClient], any_engine: Engine, badge_campaign: Campaign
) -> None:
    web = client_for(any_engine, [badge_campaign])
    jpeg = encode(scene(), "JPEG")
    assert post(web, jpeg, ua="phone-a").status_code == 200
    assert post(web, jpeg, ua="phone-a").status_code == 200  # same person again
    assert post(web, jpeg, ua="phone-b").status_code == 200
    assert post(web, b"not an image", ua="phone-c").status_code == 415  # a failed try is not a badge
    with Session(any_engine) as session:
        assert badge_maker_count(session, "childrens-day") == 2
        assert badge_maker_count(session, "other") == 0
    page = web.get("/c/childrens-day").text
    assert "2 people have made a badge" in page and 'href="/c/childrens-day/badge"' in page
