"""History, revision diffs and revert; the pledge form; preview.json — through the real app, a real SQLite file and a
copy of the shipped campaign, every save through workspace.save."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.models import AuditEntry, WorkspaceRevision
from social_campaign.text import facebook_length, x_weighted_length
from tests.web.workspace_support import login
from tests.workspace.support import campaign_at, copy_shipped, tree

BASE = "/admin/c/childrens-day"
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


def _hidden(client: TestClient, path: str) -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    version, token = VERSION.search(page.text), CSRF.search(page.text)
    assert version and token
    return {"version": version.group(1), "csrf": token.group(1)}


def _pledge_fields(client: TestClient, **changes: str) -> dict[str, str | list[str]]:
    page = client.get(f"{BASE}/pledge")
    assert page.status_code == 200, page.text
    fields: dict[str, str | list[str]] = dict(_hidden(client, f"{BASE}/pledge"))
    for name in ("goal", "deadline", "fire_at", "message"):
        found = re.search(rf'name="{name}" type="[^"]+"[^>]*value="([^"]*)"', page.text)
        assert found, name
        fields[name] = found.group(1)
    for name, text in re.findall(r'<textarea id="(variant_[^"]+)" name="[^"]+"[^>]*>([^<]*)</textarea>', page.text):
        fields[name] = text.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"').replace("&lt;", "<")
    fields["channels"] = ["x", "facebook"]
    fields.update(changes)
    return fields


def _revisions(engine: Engine) -> list[WorkspaceRevision]:
    with Session(engine) as s:
        return list(s.exec(select(WorkspaceRevision).order_by(WorkspaceRevision.number)).all())  # type: ignore[arg-type]


def test_history_lists_revisions_and_a_revert_restores_the_exact_files(
    app_client: TestClient, engine: Engine, root: Path
) -> None:
    user = login(app_client, engine, "editor")
    before = tree(root)
    saved = app_client.post(f"{BASE}/pledge", data=_pledge_fields(app_client, goal="250"), follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert "goal = 250" in (root / "schedule.toml").read_text()
    page = app_client.get(f"{BASE}/history")
    assert page.status_code == 200
    assert "Revision 1" in page.text and "Revision 2" in page.text and user.email in page.text
    assert page.text.index("Revision 2") < page.text.index("Revision 1")  # newest first

    diff_page = app_client.get(f"{BASE}/history/2")
    assert diff_page.status_code == 200
    assert "goal = 250" in diff_page.text and "goal = 100" in diff_page.text
    assert ">Added<" in diff_page.text and ">Removed<" in diff_page.text  # words, not colour alone

    fields = _hidden(app_client, f"{BASE}/history/1")
    reverted = app_client.post(f"{BASE}/history/1/revert", data=fields, follow_redirects=False)
    assert reverted.status_code == 303, reverted.text
    assert tree(root) == before
    rows = _revisions(engine)
    assert [r.number for r in rows] == [1, 2, 3]
    assert rows[-1].summary == "Revert to revision 1" and rows[-1].author == user.email
    assert "-goal = 250" in rows[-1].diff and "+goal = 100" in rows[-1].diff
    with Session(engine) as s:
        actions = [e.action for e in s.exec(select(AuditEntry)).all()]
    assert actions.count("campaign.save") == 2


def test_revert_deletes_files_the_revision_did_not_have_and_restores_deleted_ones(
    app_client: TestClient, engine: Engine, root: Path
) -> None:
    login(app_client, engine, "editor")
    before = tree(root)
    fields = _pledge_fields(app_client, variant_4="A fourth text to share #childrights", variant_fr_4="Quatre",
                            variant_es_4="Cuatro", variant_ar_4="أربعة")
    fields["remove_variant"] = "3"
    assert app_client.post(f"{BASE}/pledge", data=fields, follow_redirects=False).status_code == 303
    assert (root / "messages/thunderclap.v4.md").read_text() == "A fourth text to share #childrights\n"
    assert not (root / "messages/thunderclap.v3.md").exists()
    assert not (root / "messages/thunderclap.v3.fr.md").exists()
    reverted = app_client.post(f"{BASE}/history/1/revert", data=_hidden(app_client, f"{BASE}/history/1"),
                               follow_redirects=False)
    assert reverted.status_code == 303, reverted.text
    assert tree(root) == before


def test_revert_on_a_stale_version_is_409_with_the_difference_and_writes_nothing(
    app_client: TestClient, engine: Engine, root: Path
) -> None:
    login(app_client, engine, "editor")
    assert app_client.post(f"{BASE}/pledge", data=_pledge_fields(app_client, goal="300"),
                           follow_redirects=False).status_code == 303
    fields = _hidden(app_client, f"{BASE}/history/1")
    schedule = root / "schedule.toml"
    schedule.write_text(schedule.read_text().replace("size = 400", "size = 420"))  # someone pushed meanwhile
    before = tree(root)
    answer = app_client.post(f"{BASE}/history/1/revert", data=fields)
    assert answer.status_code == 409
    assert "size = 420" in answer.text and "Nothing was reverted" in answer.text
    assert tree(root) == before
    assert len(_revisions(engine)) == 2


def test_unknown_revision_is_404_and_roles_are_enforced(app_client: TestClient, engine: Engine) -> None:
    assert app_client.get(f"{BASE}/history", follow_redirects=False).status_code == 303  # not logged in
    login(app_client, engine, "viewer")
    assert app_client.get(f"{BASE}/history").status_code == 200
    assert app_client.get(f"{BASE}/history/99").status_code == 404
    page = app_client.get(f"{BASE}/history/1")
    assert page.status_code == 200 and "/revert" not in page.text  # a viewer sees no revert button
    token = CSRF.search(page.text)
    assert token
    assert app_client.post(f"{BASE}/history/1/revert", data={"csrf": token.group(1), "version": "x"}).status_code == 403
    assert app_client.post(f"{BASE}/pledge", data={"csrf": token.group(1)}).status_code == 403


def test_revert_of_unknown_number_is_404(app_client: TestClient, engine: Engine) -> None:
    login(app_client, engine, "editor")
    fields = _hidden(app_client, f"{BASE}/pledge")
    assert app_client.post(f"{BASE}/history/42/revert", data=fields).status_code == 404


def test_pledge_edit_keeps_comments_and_changes_only_the_edited_lines(
    app_client: TestClient, engine: Engine, root: Path
) -> None:
    login(app_client, engine, "editor")
    old = (root / "schedule.toml").read_text()
    answer = app_client.post(f"{BASE}/pledge", data=_pledge_fields(app_client, deadline="2027-11-20T08:30"),
                             follow_redirects=False)
    assert answer.status_code == 303, answer.text
    new = (root / "schedule.toml").read_text()
    changed = [line for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-deadline = 2027-11-20T09:00:00    # pledges close",
                       "+deadline = 2027-11-20T08:30:00    # pledges close"]
    page = app_client.get(answer.headers["location"])
    assert "Saved as revision 2." in page.text


def test_pledge_errors_are_at_their_fields_and_nothing_is_written(
    app_client: TestClient, engine: Engine, root: Path
) -> None:
    login(app_client, engine, "editor")
    before = tree(root)
    late = app_client.post(f"{BASE}/pledge", data=_pledge_fields(app_client, deadline="2027-11-21T09:00"))
    assert late.status_code == 400
    assert re.search(r'id="deadline"[^>]*aria-invalid="true"', late.text)
    assert 'id="deadline-error"' in late.text
    gap = app_client.post(f"{BASE}/pledge", data=_pledge_fields(app_client, deadline="2027-03-14T02:30"))
    assert gap.status_code == 400 and "clocks spring forward" in gap.text
    assert re.search(r'id="deadline"[^>]*aria-invalid="true"', gap.text)
    too_long = app_client.post(f"{BASE}/pledge", data=_pledge_fields(app_client, variant_2="long words " * 40))
    assert too_long.status_code == 400
    assert re.search(r'id="variant_2"[^>]*aria-invalid="true"', too_long.text)
    assert "too long for X" in too_long.text
    assert tree(root) == before


def test_a_time_that_happens_twice_asks_which_one_and_saves_it_with_its_offset(
    app_client: TestClient, engine: Engine, root: Path
) -> None:
    login(app_client, engine, "editor")
    fields = _pledge_fields(app_client, deadline="2026-12-31T23:00", fire_at="2027-11-07T01:30")
    asked = app_client.post(f"{BASE}/pledge", data=fields)
    assert asked.status_code == 400 and "happens twice" in asked.text
    assert 'name="fire_at_fold" value="1"' in asked.text and "UTC-05:00" in asked.text
    fields["fire_at_fold"] = "1"
    saved = app_client.post(f"{BASE}/pledge", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert "fire_at = 2027-11-07T01:30:00-05:00" in (root / "schedule.toml").read_text()


def test_stale_pledge_form_is_409_with_the_diff(app_client: TestClient, engine: Engine, root: Path) -> None:
    login(app_client, engine, "editor")
    fields = _pledge_fields(app_client, goal="500")
    (root / "messages/thunderclap.v2.md").write_text("Changed in git meanwhile #childrights\n")
    before = tree(root)
    answer = app_client.post(f"{BASE}/pledge", data=fields)
    assert answer.status_code == 409
    assert "Changed in git meanwhile" in answer.text
    assert tree(root) == before


def test_add_a_variant_shows_empty_fields_in_every_language(app_client: TestClient, engine: Engine) -> None:
    login(app_client, engine, "editor")
    answer = app_client.post(f"{BASE}/pledge", data=_pledge_fields(app_client, action="add_variant"))
    assert answer.status_code == 200
    for name in ("variant_4", "variant_fr_4", "variant_es_4", "variant_ar_4"):
        assert f'name="{name}"' in answer.text


def test_preview_json_gives_text_py_numbers(app_client: TestClient, engine: Engine, shipped: Campaign) -> None:
    login(app_client, engine, "editor")
    token = _hidden(app_client, f"{BASE}/pledge")["csrf"]
    text = "Ratify the CRC now: {link} {hashtags} 🧑‍🧑‍🧒 مرحبا"
    answer = app_client.post(f"{BASE}/preview.json", headers={"X-CSRF-Token": token},
                             json={"items": [{"id": "message", "channels": ["x", "facebook", "mastodon"],
                                              "text": text}]})
    assert answer.status_code == 200, answer.text
    items = {item["channel"]: item for item in answer.json()["items"]}
    posted = text.replace("{link}", shipped.link or "").replace("{hashtags}", " ".join(shipped.hashtags))
    assert items["x"]["length"] == x_weighted_length(posted) and items["x"]["limit"] == 280
    assert items["facebook"]["length"] == facebook_length(posted)
    assert items["x"]["over"] is False
    assert '<span class="link">https://example.org/crc</span>' in items["x"]["html"]
    assert '<span class="tag">#ChildrensDay</span>' in items["x"]["html"]
    over = app_client.post(f"{BASE}/preview.json", headers={"X-CSRF-Token": token},
                           json={"items": [{"id": "m", "channels": ["x"], "text": "<b>" + "x" * 290}]})
    item = over.json()["items"][0]
    assert item["over"] is True and "over the limit" in item["label"] and "&lt;b&gt;" in item["html"]


def test_preview_json_needs_a_token_and_an_editor(app_client: TestClient, engine: Engine) -> None:
    login(app_client, engine, "viewer")
    token = _hidden(app_client, f"{BASE}/pledge")["csrf"]
    body = json.dumps({"items": [{"channels": ["x"], "text": "hi"}]})
    headers = {"Content-Type": "application/json", "X-CSRF-Token": token}
    assert app_client.post(f"{BASE}/preview.json", content=body, headers=headers).status_code == 403
    login(app_client, engine, "editor")
    assert app_client.post(f"{BASE}/preview.json", content=body,
                           headers={"Content-Type": "application/json"}).status_code == 400
    assert app_client.post(f"{BASE}/preview.json", content=body,
                           headers={**headers, "Origin": "https://evil.example"}).status_code == 400


def test_the_post_page_uploads_an_image_with_alt_text_and_refuses_a_bomb_at_the_field(
    app_client: TestClient, engine: Engine, root: Path
) -> None:
    from tests.workspace.test_media import bomb_png, png_with_metadata

    login(app_client, engine, "editor")
    edit = f"{BASE}/posts/only-country"
    page = app_client.get(edit)
    assert page.status_code == 200
    for name in ("media_file", "media_alt", "media_spec", "media_remove"):
        assert f'name="{name}"' in page.text
    assert "X 1200\u00d7675" in page.text and "Facebook 1200\u00d7630" in page.text
    fields = _hidden(app_client, edit)
    fields.update(at="2027-11-18T10:00", channels_shown="1",
                  message=(root / "messages/only-country.md").read_text().rstrip("\n"))
    data: dict[str, str | list[str]] = {**fields, "channels": ["x", "facebook"], "media_alt": "A bomb"}
    before = tree(root)
    bomb = app_client.post(edit, data=data, files={"media_file": ("bomb.png", bomb_png(), "image/png")})
    assert bomb.status_code == 400
    assert re.search(r'id="media_file"[^>]*aria-invalid="true"', bomb.text)
    assert 'id="media_file-error"' in bomb.text and "too large to process" in bomb.text
    text = app_client.post(edit, data=data, files={"media_file": ("notes.png", b"just text\n" * 50, "text/plain")})
    assert text.status_code == 415 and 'id="media_file-error"' in text.text
    no_alt = app_client.post(edit, data={**data, "media_alt": ""},
                             files={"media_file": ("map.png", png_with_metadata(), "image/png")})
    assert no_alt.status_code == 400 and 'id="media_alt-error"' in no_alt.text
    assert tree(root) == before
    saved = app_client.post(edit, data={**data, "media_alt": "A map of the world"},
                            files={"media_file": ("map.png", png_with_metadata(), "image/png")},
                            follow_redirects=False)
    assert saved.status_code == 303, saved.text
    schedule = (root / "schedule.toml").read_text()
    uploads = list((root / "infographics/uploads").glob("map-*.png"))
    assert len(uploads) == 1 and f'infographics/uploads/{uploads[0].name}' in schedule
    assert '"A map of the world"' in schedule
