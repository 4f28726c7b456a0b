"""Manager notices by email: each new notice is queued once to SOCIAL_CAMPAIGN_MANAGER_EMAIL, old ones are not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from social_campaign.config import Settings, load_settings
from social_campaign.db import session_scope
from social_campaign.errors import ConfigError
from social_campaign.mail.worker import drain
from social_campaign.models import EmailMessage, ManagerNotice, utcnow
from social_campaign.scheduling.jobs import call
from social_campaign.scheduling.notices import mail_manager, notify


def _notice(engine, key: str, *, age: timedelta = timedelta(0)) -> None:
    with session_scope(engine) as session:
        assert notify(session, campaign="childrens-day", kind="reconnect", message=f"the x account needs reconnecting ({key})", dedupe_key=key)
        session.flush()
        if age:
            notice = session.exec(select(ManagerNotice).where(ManagerNotice.dedupe_key == key)).one()
            notice.created_at = utcnow() - age
            session.add(notice)


def _emails(engine) -> list[EmailMessage]:
    with Session(engine) as session:
        return list(session.exec(select(EmailMessage).order_by(EmailMessage.id)).all())


def test_each_new_notice_is_emailed_once(settings: Settings, engine) -> None:
    manager = settings.model_copy(update={"manager_email": "manager@example.org", "public_url": "https://pledge.example.org"})
    _notice(engine, "a")
    _notice(engine, "old", age=timedelta(days=3))
    assert mail_manager(manager, engine, utcnow()) == 1
    _notice(engine, "b")
    assert call("social_campaign.scheduling.jobs:manager_mail", manager, engine) == 1  # through the scheduler's job
    assert mail_manager(manager, engine, utcnow()) == 0
    emails = _emails(engine)
    assert [e.to_addr for e in emails] == ["manager@example.org"] * 2 and {e.state for e in emails} == {"queued"}
    assert "[childrens-day] reconnect: the x account needs reconnecting (a)" == emails[0].subject
    assert "https://pledge.example.org/admin" in emails[0].body_text
    with Session(engine) as session:
        assert all(n.emailed_at is not None for n in session.exec(select(ManagerNotice)).all())
    assert drain(manager, engine) == 2  # no SMTP set: into the mail folder
    [first, _second] = sorted((manager.data_dir / "mail").glob("*.eml"))
    assert b"To: manager@example.org" in first.read_bytes()


def test_no_manager_address_no_email(settings: Settings, engine) -> None:
    _notice(engine, "a")
    assert mail_manager(settings, engine, utcnow()) == 0 and _emails(engine) == []


def test_manager_email_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIAL_CAMPAIGN_MANAGER_EMAIL", "not an address")
    with pytest.raises(ConfigError, match="SOCIAL_CAMPAIGN_MANAGER_EMAIL: 'not an address' is not an email address"):
        load_settings(_env_file=None)
