"""Users: lower-cased unique addresses, argon2id hashes (rehashed when parameters change), roles, the last owner,
and an audit entry for every change."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign import audit
from social_campaign.db import session_scope
from social_campaign.errors import BadRequest, NotFound
from social_campaign.models import User, UserSession
from social_campaign.workspace import accounts, sessions

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PASSWORD = "a long enough passphrase"


def _add(engine: Engine, email: str = "Amina@Example.org", role: str = "editor", password: str | None = PASSWORD) -> User:
    with session_scope(engine) as s:
        return accounts.add(s, email, role, password, actor="owner@example.org", now=NOW)


def test_add_stores_a_lower_cased_address_and_an_argon2id_hash(engine: Engine) -> None:
    user = _add(engine)
    assert user.email == "amina@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    with Session(engine) as s:
        entry = audit.entries(s, action="user.add")[0]
    assert (entry.actor, entry.target, json.loads(entry.details)) == ("owner@example.org", "user:amina@example.org",
                                                                     {"role": "editor"})


def test_addresses_are_unique_whatever_their_case(engine: Engine) -> None:
    _add(engine)
    with pytest.raises(BadRequest) as exc:
        _add(engine, "AMINA@example.org")
    assert exc.value.field == "email"


@pytest.mark.parametrize(("password", "why"), [("short", "at least 12"), ("amina@example.org", "not your email"),
                                               ("AMINA@EXAMPLE.ORG", "not your email")])
def test_weak_passwords_are_refused(engine: Engine, password: str, why: str) -> None:
    with pytest.raises(BadRequest, match=why) as exc:
        _add(engine, password=password)
    assert exc.value.field == "password"
    with Session(engine) as s:
        assert s.exec(select(User)).all() == []


def test_a_bad_role_or_address_is_refused(engine: Engine) -> None:
    with pytest.raises(BadRequest) as exc:
        _add(engine, role="admin")
    assert exc.value.field == "role"
    with pytest.raises(BadRequest) as exc:
        _add(engine, email="not an address")
    assert exc.value.field == "email"


def test_authenticate_checks_the_password_and_records_the_login(engine: Engine) -> None:
    _add(engine)
    with session_scope(engine) as s:
        assert accounts.authenticate(s, "amina@example.org", "wrong password!!", NOW) is None
        assert accounts.authenticate(s, "nobody@example.org", PASSWORD, NOW) is None
        user = accounts.authenticate(s, " AMINA@example.org ", PASSWORD, NOW)
        assert user is not None
    with Session(engine) as s:
        assert s.exec(select(User)).one().last_login_at == NOW


def test_an_unknown_address_takes_as_long_as_a_wrong_password(engine: Engine) -> None:
    _add(engine)

    def timed(email: str) -> float:
        start = time.perf_counter()
        with session_scope(engine) as s:
            accounts.authenticate(s, email, "wrong password!!", NOW)
        return time.perf_counter() - start

    timed("nobody@example.org")  # the dummy hash is made once
    known = min(timed("amina@example.org") for _ in range(3))
    unknown = min(timed("nobody@example.org") for _ in range(3))
    assert unknown > known * 0.5 and known > unknown * 0.5


def test_an_old_hash_is_rehashed_at_login(engine: Engine) -> None:
    user = _add(engine)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with session_scope(engine) as s:
        row = s.get(User, user.id)
        assert row is not None
        row.password_hash = weak
    with session_scope(engine) as s:
        assert accounts.authenticate(s, "amina@example.org", PASSWORD, NOW) is not None
    with Session(engine) as s:
        stored = s.exec(select(User)).one().password_hash
    assert stored != weak and not accounts.hasher().check_needs_rehash(stored)
    with session_scope(engine) as s:
        assert accounts.authenticate(s, "amina@example.org", PASSWORD, NOW) is not None


def test_a_user_without_a_password_cannot_log_in(engine: Engine) -> None:
    _add(engine, password=None)
    with session_scope(engine) as s:
        assert accounts.authenticate(s, "amina@example.org", "", NOW) is None
        assert accounts.authenticate(s, "amina@example.org", accounts.UNUSABLE, NOW) is None


def test_the_last_owner_can_be_neither_demoted_nor_removed(engine: Engine) -> None:
    _add(engine, "boss@example.org", "owner")
    with session_scope(engine) as s, pytest.raises(BadRequest, match="last owner"):
        accounts.set_role(s, "boss@example.org", "editor", actor="cli:test", now=NOW)
    with session_scope(engine) as s, pytest.raises(BadRequest, match="last owner"):
        accounts.remove(s, "boss@example.org", actor="cli:test", now=NOW)
    _add(engine, "second@example.org", "owner")
    with session_scope(engine) as s:
        accounts.set_role(s, "boss@example.org", "viewer", actor="second@example.org", now=NOW)
    with Session(engine) as s:
        entry = audit.entries(s, action="user.role")[0]
        assert json.loads(entry.details)["diff"] == "-role = owner\n+role = viewer\n"
        assert accounts.get(s, "boss@example.org").role == "viewer"


def test_remove_ends_the_sessions_and_is_audited(engine: Engine) -> None:
    user = _add(engine)
    with session_scope(engine) as s:
        token = sessions.open_session(s, user, hours=1, now=NOW)
    assert sessions.lookup(engine, token, hours=1, now=NOW) is not None
    with session_scope(engine) as s:
        accounts.remove(s, "amina@example.org", actor="cli:test", now=NOW)
    with Session(engine) as s:
        assert s.exec(select(UserSession)).all() == []
        assert s.exec(select(User)).all() == []
        assert audit.entries(s, action="user.remove")[0].target == "user:amina@example.org"
    with session_scope(engine) as s, pytest.raises(NotFound):
        accounts.remove(s, "amina@example.org", actor="cli:test", now=NOW)


def test_set_password_ends_every_session(engine: Engine) -> None:
    user = _add(engine)
    with session_scope(engine) as s:
        sessions.open_session(s, user, hours=1, now=NOW)
        sessions.open_session(s, user, hours=1, now=NOW)
    with session_scope(engine) as s:
        row = s.get(User, user.id)
        assert row is not None
        accounts.set_password(s, row, "another long passphrase", actor=row.email, now=NOW)
    with Session(engine) as s:
        assert s.exec(select(UserSession)).all() == []
    with session_scope(engine) as s:
        assert accounts.authenticate(s, "amina@example.org", "another long passphrase", NOW) is not None
