"""The owners' pages: adding users with a one-time link, roles, removal, the last owner, and the audit log."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign import audit
from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.models import User, UserSession
from social_campaign.workspace import auditlog
from tests.web.workspace_support import csrf_from, login, make_user


@pytest.fixture
def owner_client(engine: Engine, campaign: Campaign, web_settings: Settings,
                 client_for: Callable[..., TestClient]) -> TestClient:
    client = client_for(engine, [campaign], web_settings, follow_redirects=False, base_url="https://testserver")
    login(client, engine, "owner", email="boss@example.org")
    return client


def _post(client: TestClient, path: str, **fields: str) -> Any:
    return client.post(path, data={"csrf": csrf_from(client, "/admin/users"), **fields})


def test_the_users_page_lists_users_without_secrets(owner_client: TestClient, engine: Engine) -> None:
    make_user(engine, "amina@example.org", "editor")
    page = owner_client.get("/admin/users")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "amina@example.org" in page.text and "boss@example.org" in page.text
    assert "$argon2" not in page.text


def test_adding_a_user_shows_a_one_time_link_that_works(owner_client: TestClient, engine: Engine,
                                                        client_for: Callable[..., TestClient]) -> None:
    page = _post(owner_client, "/admin/users", email="New.Person@Example.org", role="editor")
    assert page.status_code == 200
    link = re.search(r"https://pledge\.example\.org(/login/reset/[A-Za-z0-9_-]+)", page.text)
    assert link, "the page shows the link once"
    with Session(engine) as s:
        user = s.exec(select(User).where(User.email == "new.person@example.org")).one()
        assert user.role == "editor"
        entry = audit.entries(s, action="user.add")[0]
        assert entry.actor == "boss@example.org" and json.loads(entry.details) == {"role": "editor"}
        assert audit.entries(s, action="user.reset_link")[0].actor == "boss@example.org"
    assert link.group(1) not in owner_client.get("/admin/users").text  # shown once
    other = owner_client
    form = other.get(link.group(1))
    assert form.status_code == 200 and "new.person@example.org" in form.text


def test_a_bad_address_is_shown_at_its_field(owner_client: TestClient, engine: Engine) -> None:
    page = _post(owner_client, "/admin/users", email="not-an-address", role="viewer")
    assert page.status_code == 400
    assert 'id="new-email-error"' in page.text and 'aria-invalid="true"' in page.text
    duplicate = _post(owner_client, "/admin/users", email="BOSS@example.org", role="viewer")
    assert duplicate.status_code == 400 and "already" in duplicate.text


def test_changing_a_role_is_audited_with_a_diff(owner_client: TestClient, engine: Engine) -> None:
    make_user(engine, "amina@example.org", "viewer")
    answer = _post(owner_client, "/admin/users/role", email="amina@example.org", role="editor")
    assert answer.status_code == 303
    with Session(engine) as s:
        assert s.exec(select(User).where(User.email == "amina@example.org")).one().role == "editor"
        details = json.loads(audit.entries(s, action="user.role")[0].details)
    assert details["diff"] == "-role = viewer\n+role = editor\n"


def test_the_last_owner_stays(owner_client: TestClient, engine: Engine) -> None:
    demote = _post(owner_client, "/admin/users/role", email="boss@example.org", role="viewer")
    remove = _post(owner_client, "/admin/users/remove", email="boss@example.org")
    assert demote.status_code == remove.status_code == 400
    assert "last owner" in remove.text
    with Session(engine) as s:
        assert s.exec(select(User).where(User.email == "boss@example.org")).one().role == "owner"


def test_removing_a_user_ends_their_sessions(owner_client: TestClient, engine: Engine, campaign: Campaign,
                                             web_settings: Settings, client_for: Callable[..., TestClient]) -> None:
    them = client_for(engine, [campaign], web_settings, follow_redirects=False, base_url="https://testserver")
    login(them, engine, "editor", email="amina@example.org")
    assert them.get("/admin").status_code == 200
    assert _post(owner_client, "/admin/users/remove", email="amina@example.org").status_code == 303
    assert them.get("/admin").status_code == 303
    with Session(engine) as s:
        assert len(s.exec(select(UserSession)).all()) == 1  # the owner's
        assert audit.entries(s, action="user.remove")[0].target == "user:amina@example.org"


def test_a_new_link_for_an_existing_user(owner_client: TestClient, engine: Engine) -> None:
    make_user(engine, "amina@example.org", "viewer")
    page = _post(owner_client, "/admin/users/link", email="amina@example.org")
    assert page.status_code == 200 and "/login/reset/" in page.text


def test_the_audit_log_is_newest_first_filtered_and_shows_diffs(owner_client: TestClient, engine: Engine) -> None:
    with session_scope(engine) as s:
        audit.record(s, actor="amina@example.org", action="post.edit", campaign="childrens-day", target="post:1",
                     details={"diff": "--- a/schedule.toml\n+++ b/schedule.toml\n@@ -1 +1 @@\n-at = \"09:00\"\n"
                                      "+at = \"10:00\"\n keep\n"}, at=datetime(2026, 11, 1, tzinfo=UTC))
        audit.record(s, actor="cli:ops", action="supporters.export", campaign="other", target="other",
                     at=datetime(2026, 11, 2, tzinfo=UTC))
    page = owner_client.get("/admin/audit")
    assert page.status_code == 200
    entries = page.text[page.text.index('<ol class="audit"'):]
    assert entries.index("supporters.export") < entries.index("post.edit")
    assert '<span class="sign" aria-hidden="true">+</span><span class="visually-hidden">Added: </span> at = "10:00"' \
        in page.text.replace("&#34;", '"')
    assert '<span class="del"><span class="sign" aria-hidden="true">-</span>' in page.text
    filtered = owner_client.get("/admin/audit?campaign=childrens-day")
    assert "post.edit" in filtered.text and "cli:ops" not in filtered.text
    by_action = owner_client.get("/admin/audit?action=supporters.export")
    assert "cli:ops" in by_action.text and "amina@example.org" not in by_action.text


def test_the_audit_log_is_paged(owner_client: TestClient, engine: Engine) -> None:
    with session_scope(engine) as s:
        for n in range(auditlog.PAGE + 5):
            audit.record(s, actor="cli:ops", action="bulk", target=f"t{n:03d}")
    first = owner_client.get("/admin/audit?action=bulk")
    assert "t054" in first.text and "t004" not in first.text and 'rel="next"' in first.text
    second = owner_client.get("/admin/audit?action=bulk&page=2")
    assert "t004" in second.text and "t054" not in second.text and 'rel="prev"' in second.text


def test_diff_lines_are_marked() -> None:
    lines = auditlog.diff_lines("--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n same\n")
    assert [(d.kind, d.sign, d.text) for d in lines] == [
        ("ctx", " ", "--- a"), ("ctx", " ", "+++ b"), ("ctx", " ", "@@ -1 +1 @@"), ("del", "-", "old"),
        ("add", "+", "new"), ("ctx", " ", "same")]
