"""The badge maker on the web: page, PNG API, CSRF, limits and one-line errors, photo kept in memory, makers counted,
decode slots (memory per request: tests/web/test_badge_memory.py)."""

from __future__ import annotations

import dataclasses
import html
import io
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageOps
from sqlalchemy.engine import Engine
from sqlmodel import Session

from social_campaign.campaign.model import BadgeSpec, Campaign
from social_campaign.config import Settings
from social_campaign.graphics.badge import make_badge
from social_campaign.graphics.memory import GATE, release_memory
from social_campaign.pledges import tokens
from social_campaign.web.app import create_app
from social_campaign.web.routes.badge import badge_maker_count
from tests.graphics.imaging import bad_images, encode, exif_photo, frame, scene, textured
from tests.graphics.test_badge import mean_abs_diff
from tests.web.conftest import free_port, live_server, make_campaign

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


def csrf(client: TestClient) -> str:
    """The token the badge page's form carries (as a browser would submit it)."""
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(URL).text)
    assert found is not None
    return found.group(1)


def post(client: TestClient, data: bytes, name: str = "me.jpg", ua: str = "test-agent", **fields: str):  # type: ignore[no-untyped-def]
    if "csrf" not in fields:
        fields["csrf"] = csrf(client)
    return client.post(
        URL, files={"photo": (name, data, "application/octet-stream")}, data=fields, headers={"user-agent": ua}
    )


JSON = {"accept": "application/json"}


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
    assert post(plain, encode(scene(), "JPEG"), csrf="").status_code == 404


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
        ("logo.svg", 415, "SVG drawings cannot be used. Please choose a photo"),
        ("notes.jpg", 415, "This file is not an image we can use."),
        ("random.bin", 415, "This file is not an image we can use."),
        ("truncated.jpg", 400, "This photo could not be read: the file may be damaged."),
        ("bomb.png", 400, "This photo is too large to process."),
        ("empty.png", 400, "This file is empty. Please choose a photo."),
    ],
)
def test_bad_images_get_one_line(web: TestClient, tmp_path: Path, name: str, status: int, start: str) -> None:
    data = {"csrf": csrf(web)}
    res = web.post(URL, files={"photo": (name, bad_images(tmp_path)[name])}, data=data, headers=JSON)
    assert res.status_code == status
    message = res.json()["error"]
    assert message.startswith(start) and "\n" not in message
    page = web.post(URL, files={"photo": (name, bad_images(tmp_path)[name])}, data={"csrf": csrf(web)})
    assert page.status_code == status  # a browser gets the badge page again, the error at the photo field
    assert_error_at_photo(page.text, start)


def assert_error_at_photo(html_text: str, start: str) -> None:
    error = re.search(r'<p id="photo-error" class="error badge-error" role="alert">([^<]*)</p>', html_text)
    assert error is not None and html.unescape(error.group(1)).startswith(start)
    photo_input = re.search(r'<input id="photo"[^>]*>', html_text)
    assert photo_input is not None
    assert 'aria-invalid="true"' in photo_input.group(0) and "photo-error" in photo_input.group(0)
    assert 'id="badge-form"' in html_text and 'name="csrf" value="' in html_text  # a fresh form to try again
    assert 'id="badge-drop"' in html_text and html_text.index('id="badge-drop"') < html_text.index('id="photo-error"')


def test_page_without_error_marks_nothing_invalid(web: TestClient) -> None:
    page = web.get(URL).text
    assert '<p id="photo-error" class="error badge-error" role="alert"></p>' in page
    assert 'aria-invalid' not in page


def test_oversized_photo_from_a_browser_gets_the_error_at_the_field(web: TestClient) -> None:
    big = b"\xff\xd8\xff" + os.urandom(20 * 1024 * 1024 + 10)
    page = web.post(URL, files={"photo": ("big.jpg", big)}, data={"csrf": csrf(web)})
    assert page.status_code == 413
    assert_error_at_photo(page.text, "This photo is over the 20 MB limit. Please choose a smaller one.")


def test_download_is_named_after_the_campaign_and_the_size(web: TestClient) -> None:
    jpeg = encode(scene((300, 200)), "JPEG")
    small = post(web, jpeg)
    assert small.headers["content-disposition"] == 'attachment; filename="childrens-day-badge-400.png"'
    large = post(web, jpeg, size="1080")
    assert large.headers["content-disposition"] == 'attachment; filename="childrens-day-badge-1080.png"'


@pytest.mark.parametrize("extra", [10, 2 * 1024 * 1024])  # just over (photo part check), far over (body check)
def test_over_twenty_megabytes_is_413(web: TestClient, extra: int) -> None:
    big = b"\xff\xd8\xff" + os.urandom(20 * 1024 * 1024 + extra)
    res = web.post(URL, files={"photo": ("big.jpg", big)}, data={"csrf": csrf(web)}, headers=JSON)
    assert res.status_code == 413
    assert res.json()["error"] == "This photo is over the 20 MB limit. Please choose a smaller one."


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
    assert post(web, b"not an image", ua="phone-c").status_code == 415  # a failed try is not a badge
    with Session(any_engine) as session:
        assert badge_maker_count(session, "childrens-day") == 1
        assert badge_maker_count(session, "other") == 0
    page = web.get("/c/childrens-day").text
    assert "1 person has made a badge" in page
    assert 'href="/c/childrens-day/badge"' in page


def test_changing_headers_does_not_raise_the_maker_count(
    client_for: Callable[..., TestClient], any_engine: Engine, badge_campaign: Campaign
) -> None:
    web = client_for(any_engine, [badge_campaign])
    jpeg = encode(scene((200, 200)), "JPEG")
    for n in range(6):
        headers = {
            "user-agent": f"agent-{n}", "x-forwarded-for": f"203.0.113.{n}", "x-real-ip": f"198.51.100.{n}",
            "forwarded": f"for=192.0.2.{n}", "accept-language": f"l{n}", "cookie": f"c={n}",
        }
        res = web.post(URL, files={"photo": ("me.jpg", jpeg)}, data={"csrf": csrf(web)}, headers=headers)
        assert res.status_code == 200, res.text
    with Session(any_engine) as session:
        assert badge_maker_count(session, "childrens-day") == 1


def test_a_second_address_is_a_second_maker(engine: Engine, badge_campaign: Campaign, web_settings: Settings) -> None:
    """Real HTTP from two loopback addresses (127.0.0.1 and 127.0.0.2): two people, whatever their headers say."""
    app = create_app(web_settings, engine, campaigns=[badge_campaign])
    jpeg = encode(scene((200, 200)), "JPEG")
    with live_server(app, free_port()) as url:
        for source in ("127.0.0.1", "127.0.0.2", "127.0.0.2"):
            transport = httpx.HTTPTransport(local_address=source)
            with httpx.Client(base_url=url, transport=transport) as http:
                token = re.search(r'name="csrf" value="([^"]+)"', http.get(URL).text)
                assert token is not None
                res = http.post(URL, files={"photo": ("me.jpg", jpeg)}, data={"csrf": token.group(1)})
                assert res.status_code == 200, res.text
    with Session(engine) as session:
        assert badge_maker_count(session, "childrens-day") == 2


def test_page_carries_a_fresh_csrf_token_and_is_not_cached(web: TestClient, web_settings: Settings) -> None:
    page = web.get(URL)
    assert page.headers["cache-control"] == "no-store"
    token = csrf(web)
    assert tokens.csrf_ok(web_settings.key, token) and token != csrf(web)


@pytest.mark.parametrize("token", ["", "garbage", "1.2.3", "EXPIRED", "OTHER-KEY"])
def test_missing_or_invalid_csrf_token_is_400(web: TestClient, web_settings: Settings, token: str) -> None:
    if token == "EXPIRED":
        token = tokens.new_csrf_token(web_settings.key, now=time.time() - 2 * 86400)
    elif token == "OTHER-KEY":
        token = tokens.new_csrf_token(b"k" * 32)
    jpeg = encode(scene((200, 200)), "JPEG")
    res = web.post(URL, files={"photo": ("me.jpg", jpeg)}, data={"csrf": token} if token else {}, headers=JSON)
    assert res.status_code == 400
    expired = "This form has expired or did not come from the badge page. Please choose your photo again."
    assert res.json()["error"] == expired
    page = web.post(URL, files={"photo": ("me.jpg", jpeg)})  # a browser: the badge page again, the line on top
    assert page.status_code == 400 and "Traceback" not in page.text
    assert f'<p class="error" id="form-error" role="alert">{html.escape(expired)}</p>' in page.text
    assert 'id="badge-form"' in page.text


def test_cross_site_origin_is_refused_even_with_a_token(web: TestClient) -> None:
    jpeg = encode(scene((200, 200)), "JPEG")
    for origin in ("https://evil.example", "http://pledge.example.org.evil.example"):
        res = web.post(
            URL, files={"photo": ("me.jpg", jpeg)}, data={"csrf": csrf(web)}, headers={**JSON, "origin": origin}
        )
        assert res.status_code == 400 and "sent from another site" in res.json()["error"]
    for origin in ("https://pledge.example.org", "http://testserver", "null"):  # this site; a privacy-null Origin
        res = web.post(URL, files={"photo": ("me.jpg", jpeg)}, data={"csrf": csrf(web)}, headers={"origin": origin})
        assert res.status_code == 200, (origin, res.text)


def test_eight_concurrent_requests_never_decode_more_than_n_at_once(
    engine: Engine, badge_campaign: Campaign, web_settings: Settings
) -> None:
    settings = web_settings.model_copy(update={"image_decode_concurrency": 2})
    app = create_app(settings, engine, campaigns=[badge_campaign])
    photo = encode(textured((2400, 1800)), "PNG", compress_level=1)  # a real decode (17 MB of pixels) per request
    with live_server(app, free_port()) as url, httpx.Client(base_url=url, timeout=120) as http:
        token = re.search(r'name="csrf" value="([^"]+)"', http.get(URL).text)
        assert token is not None
        GATE.configure(2)
        GATE.reset_counts()
        barrier = threading.Barrier(8)

        def one(_: int) -> int:
            barrier.wait()
            return http.post(URL, files={"photo": ("me.png", photo)}, data={"csrf": token.group(1)}).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(one, range(8)))
    assert statuses == [200] * 8
    assert GATE.entered == 8  # every request decoded, through the gate
    assert 1 <= GATE.peak <= 2  # never more than N at once, as the gate counted them
    assert GATE.in_flight == 0 and GATE.waiting == 0
    assert GATE.trims == (8 if release_memory() else 0)  # each large decode handed its memory back (glibc)


def test_all_slots_taken_answers_503_with_retry_after(
    client_for: Callable[..., TestClient], engine: Engine, badge_campaign: Campaign, web_settings: Settings
) -> None:
    settings = web_settings.model_copy(update={"image_decode_concurrency": 1, "image_decode_wait_seconds": 0.0})
    web = client_for(engine, [badge_campaign], settings)
    token = csrf(web)
    GATE.configure(1)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with GATE.slot():
            holding.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        jpeg = encode(scene((200, 200)), "JPEG")
        res = web.post(URL, files={"photo": ("me.jpg", jpeg)}, data={"csrf": token}, headers=JSON)
        assert res.status_code == 503 and res.headers["retry-after"] == "5"
        assert res.json()["error"] == "Many badges are being made right now. Please try again in a few seconds."
    finally:
        release.set()
        holder.join()
    res = web.post(URL, files={"photo": ("me.jpg", jpeg)}, data={"csrf": token})
    assert res.status_code == 200  # the slot is free again


def test_more_photos_than_the_slots_can_queue_get_503_before_their_body_is_read(
    engine: Engine, badge_campaign: Campaign, web_settings: Settings
) -> None:
    settings = web_settings.model_copy(update={"image_decode_concurrency": 1, "image_decode_wait_seconds": 600.0})
    app = create_app(settings, engine, campaigns=[badge_campaign])
    jpeg = encode(scene((200, 200)), "JPEG")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with GATE.slot():
            holding.set()
            release.wait()

    with live_server(app, free_port()) as url, httpx.Client(base_url=url, timeout=120) as http:
        token = re.search(r'name="csrf" value="([^"]+)"', http.get(URL).text)
        assert token is not None
        GATE.configure(1)
        holder = threading.Thread(target=hold)
        holder.start()
        pool = ThreadPoolExecutor(4)
        queued: list[Future[httpx.Response]] = []
        try:
            assert holding.wait(30)
            queued = [
                pool.submit(http.post, URL, files={"photo": ("me.jpg", jpeg)}, data={"csrf": token.group(1)})
                for _ in range(4)  # 4 x N photos: all admitted, all waiting for the one slot
            ]
            deadline = time.monotonic() + 60
            while GATE.waiting < 4:
                assert time.monotonic() < deadline, f"only {GATE.waiting} requests reached the gate"
                time.sleep(0.01)
            res = http.post(URL, files={"photo": ("me.jpg", jpeg)}, data={"csrf": token.group(1)}, headers=JSON)
            assert res.status_code == 503 and res.headers["retry-after"] == "5"
            assert GATE.waiting == 4  # refused at the door: it never queued
        finally:
            release.set()
            holder.join()
            statuses = [f.result().status_code for f in queued]
            pool.shutdown()
    assert statuses == [200] * 4
