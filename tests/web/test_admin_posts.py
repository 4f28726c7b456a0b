"""The posts pages of the workspace: list, edit (400 at the field, 409 with the diff, 404, 303), new, duplicate,
delete, roles; every save through workspace.save with a real SQLite file and a copy of the shipped campaign."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.models import AuditEntry, Delivery, WorkspaceRevision
from social_campaign.scheduling.sync import sync_campaign
from tests.web.workspace_support import login
from tests.workspace.support import campaign_at, copy_shipped, tree

EDIT = "/admin/c/childrens-day/posts/show-support"
VERSION = re.compile(r'name="version" value="([0-9a-f]{64})"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_shipped(tmp_path / "campaign")


@pytest.fixture
def shipped(root: Path) -> Campaign:
    return campaign_at(root)


@pytest.fixture
def app_client(client_for: Callable[..., TestClient], engine: Engine, shipped: Campaign) -> TestClient:
    return client_for(engine, [shipped])


def _form(client: TestClient, path: str = EDIT) -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    version = VERSION.search(page.text)
    token = CSRF.search(page.text)
    assert version and token
    return {"version": version.group(1), "csrf": token.group(1)}


def _edit_fields(client: TestClient, root: Path, **changes: str) -> dict[str, str]:
    fields = _form(client)
    fields.update(at="2027-11-16T10:00", channels_shown="1",
                  message=(root / "messages/show-support.md").read_text().rstrip("\n"))
    fields.update(changes)
    return fields


def _post(client: TestClient, path: str, fields: dict[str, str],
          channels: tuple[str, ...] = ("x", "facebook")) -> Response:
    """A multipart POST like the browser's (the form has enctype="multipart/form-data")."""
    data: dict[str, object] = dict(fields)
    data["channels"] = list(channels)
    response: Response = client.post(path, data=data, files={"_": ("", b"")}, follow_redirects=False)
    return response


def test_list_shows_posts_sorted_with_times_in_the_campaign_zone(app_client: TestClient, engine: Engine) -> None:
    login(app_client, engine, "viewer")
    page = app_client.get("/admin/c/childrens-day/posts")
    assert page.status_code == 200
    order = [page.text.index(f'/posts/{pid}"') for pid in ("show-support", "only-country", "infant-mortality",
                                                            "childrens-day")]
    assert order == sorted(order)
    assert "10:00" in page.text and "EST" in page.text
    assert "/duplicate" not in page.text  # a viewer gets no buttons


def test_edit_page_has_the_contract_fields(app_client: TestClient, engine: Engine, root: Path) -> None:
    login(app_client, engine, "editor")
    page = app_client.get(EDIT)
    assert page.status_code == 200
    html = page.text
    assert 'enctype="multipart/form-data"' in html
    assert 'name="message"' in html and 'name="at"' in html and 'type="datetime-local"' in html
    assert 'value="2027-11-16T10:00"' in html
    for channel in ("x", "facebook", "outbox"):
        assert f'name="channels" value="{channel}"' in html
        assert f'name="message_{channel}"' in html and f'data-channel="{channel}"' in html
    for lang in ("fr", "es", "ar"):
        assert f'name="message_{lang}"' in html
    assert '<output class="length" data-for="message"' in html
    assert '<script src="/static/admin-editor.js" defer></script>' in html
    default_text = (root / "messages/show-support.md").read_text().rstrip("\n")
    assert default_text.split("{link}")[0].replace("'", "&#39;") in html


def test_save_text_and_time_writes_files_revision_audit_and_303(
    app_client: TestClient, engine: Engine, root: Path,
) -> None:
    user = login(app_client, engine, "editor")
    before = (root / "schedule.toml").read_text()
    fields = _edit_fields(app_client, root, at="2027-11-16T11:30", message="New words for #childrights {link}")
    response = _post(app_client, EDIT, fields)
    assert response.status_code == 303, response.text
    assert re.fullmatch(rf"{EDIT}\?saved=\d+", response.headers["location"])
    assert (root / "messages/show-support.md").read_text() == "New words for #childrights {link}\n"
    after = (root / "schedule.toml").read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert changed == [("at = 2027-11-16T10:00:00", "at = 2027-11-16T11:30:00")]
    page = app_client.get(response.headers["location"])
    number = int(response.headers["location"].rsplit("=", 1)[1])
    assert f"Saved as revision {number}." in page.text
    with Session(engine) as s:
        rev = s.exec(select(WorkspaceRevision).where(WorkspaceRevision.number == number)).one()
        assert rev.author == user.email and "+at = 2027-11-16T11:30:00" in rev.diff
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "campaign.save")).one()
        assert entry.actor == user.email and "New words" in entry.details


def test_text_over_the_limit_is_400_at_the_field_and_writes_nothing(
    app_client: TestClient, engine: Engine, root: Path,
) -> None:
    login(app_client, engine, "editor")
    before = tree(root)
    response = _post(app_client, EDIT, _edit_fields(app_client, root, message="word " * 80))
    assert response.status_code == 400
    assert 'id="message" name="message"' in response.text
    assert re.search(r'id="message"[^>]*aria-invalid="true" aria-describedby="message-error', response.text)
    assert "too long for X" in response.text
    assert tree(root) == before


def test_dst_gap_is_shown_at_the_time_field(app_client: TestClient, engine: Engine, root: Path) -> None:
    login(app_client, engine, "editor")
    before = tree(root)
    response = _post(app_client, EDIT, _edit_fields(app_client, root, at="2027-03-14T02:30"))
    assert response.status_code == 400
    assert re.search(r'id="at"[^>]*aria-invalid="true" aria-describedby="at-error', response.text)
    assert "does not exist in America/New_York" in response.text
    assert tree(root) == before


def test_dst_fold_asks_which_and_the_choice_is_saved_with_its_offset(
    app_client: TestClient, engine: Engine, root: Path,
) -> None:
    login(app_client, engine, "editor")
    response = _post(app_client, EDIT, _edit_fields(app_client, root, at="2027-11-07T01:30"))
    assert response.status_code == 400
    assert 'name="at_fold" value="1"' in response.text and "happens twice" in response.text
    fields = _edit_fields(app_client, root, at="2027-11-07T01:30", at_fold="1")
    done = _post(app_client, EDIT, fields)
    assert done.status_code == 303, done.text
    assert "at = 2027-11-07T01:30:00-05:00" in (root / "schedule.toml").read_text()


def test_stale_form_is_409_with_the_diff_and_writes_nothing(app_client: TestClient, engine: Engine, root: Path) -> None:
    login(app_client, engine, "editor")
    fields = _edit_fields(app_client, root, message="Mine {link}")
    path = root / "messages/only-country.md"
    path.write_text(path.read_text().rstrip("\n") + " #handedit\n")  # someone edits on disk meanwhile
    before = tree(root)
    response = _post(app_client, EDIT, fields)
    assert response.status_code == 409
    assert "#handedit" in response.text and 'class="d-add"' in response.text
    assert tree(root) == before


def test_unknown_post_is_404(app_client: TestClient, engine: Engine) -> None:
    login(app_client, engine, "editor")
    assert app_client.get("/admin/c/childrens-day/posts/nope").status_code == 404
    fields = _form(app_client)
    assert _post(app_client, "/admin/c/childrens-day/posts/nope", fields).status_code == 404


def test_roles_viewer_cannot_save_and_anonymous_goes_to_login(
    app_client: TestClient, engine: Engine, root: Path,
) -> None:
    assert app_client.get(EDIT, follow_redirects=False).headers["location"].startswith("/login?next=")
    login(app_client, engine, "viewer")
    before = tree(root)
    response = _post(app_client, EDIT, _edit_fields(app_client, root, message="Viewer {link}"))
    assert response.status_code == 403
    assert tree(root) == before
    assert "disabled" in app_client.get(EDIT).text


def test_new_duplicate_delete(app_client: TestClient, engine: Engine, root: Path) -> None:
    login(app_client, engine, "editor")
    new = app_client.post("/admin/c/childrens-day/posts/new", data=_form(app_client, "/admin/c/childrens-day/posts"),
                          follow_redirects=False)
    assert new.status_code == 303, new.text
    assert new.headers["location"].startswith("/admin/c/childrens-day/posts/new-post?saved=")
    assert (root / "messages/new-post.md").is_file() and (root / "messages/new-post.ar.md").is_file()
    assert app_client.get(new.headers["location"]).status_code == 200
    dup = app_client.post("/admin/c/childrens-day/posts/only-country/duplicate",
                          data=_form(app_client, "/admin/c/childrens-day/posts"), follow_redirects=False)
    assert dup.status_code == 303, dup.text
    assert 'id = "only-country-copy"' in (root / "schedule.toml").read_text()
    gone = app_client.post("/admin/c/childrens-day/posts/only-country-copy/delete",
                           data=_form(app_client, "/admin/c/childrens-day/posts"), follow_redirects=False)
    assert gone.status_code == 303
    assert "only-country-copy" not in (root / "schedule.toml").read_text()
    stale = app_client.post("/admin/c/childrens-day/posts/only-country/delete",
                            data={**_form(app_client, "/admin/c/childrens-day/posts"), "version": "0" * 64},
                            follow_redirects=False)
    assert stale.status_code == 409
    assert 'id = "only-country"' in (root / "schedule.toml").read_text()


def test_the_scheduler_picks_a_saved_change_up(
    app_client: TestClient, engine: Engine, root: Path, web_settings: Settings,
) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    sync_campaign(web_settings, engine, root / "schedule.toml", now)
    login(app_client, engine, "editor")
    response = _post(app_client, EDIT, _edit_fields(app_client, root, at="2027-11-16T12:00",
                                                    message="Synced words #childrights {link}"))
    assert response.status_code == 303, response.text
    sync_campaign(web_settings, engine, root / "schedule.toml", now)
    with Session(engine) as s:
        row = s.exec(select(Delivery).where(Delivery.post_id == "show-support", Delivery.channel == "x")).one()
    assert row.text.startswith("Synced words #childrights https://example.org/crc")
    assert row.due_at == datetime(2027, 11, 16, 17, 0, tzinfo=UTC)
