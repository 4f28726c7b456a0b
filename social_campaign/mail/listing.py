"""Reading the mail folder and the queue for ``social-campaign mail`` (so the demo works offline)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage as MimeMessage
from email.policy import default as default_policy
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.errors import InputError
from social_campaign.models import EmailMessage

_LINK = re.compile(r"https?://[^\s<>\"]+")


@dataclass(frozen=True)
class Entry:
    file: str
    date: str
    to: str
    subject: str
    links: list[str]


def _parse(path: Path) -> MimeMessage:
    try:
        msg = message_from_bytes(path.read_bytes(), policy=default_policy)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    assert isinstance(msg, MimeMessage)
    return msg


def _text(msg: MimeMessage) -> str:
    part = msg.get_body(("plain",))
    return part.get_content() if part is not None else ""


def folder_entries(settings: Settings, limit: int) -> list[Entry]:
    """The newest ``limit`` ``.eml`` files with their recipient, subject and the links in the text part."""
    folder = settings.data_dir / "mail"
    files = sorted(folder.glob("*.eml"), key=lambda p: p.name, reverse=True)[:limit] if folder.is_dir() else []
    out = []
    for path in files:
        msg = _parse(path)
        links = list(dict.fromkeys(_LINK.findall(_text(msg))))
        out.append(Entry(path.name, str(msg.get("Date", "")), str(msg.get("To", "")), str(msg.get("Subject", "")), links))
    return out


def read_eml(settings: Settings, name: Path) -> str:
    """Headers and the text part of one file of the mail folder, for reading in a terminal."""
    path = name if name.exists() else settings.data_dir / "mail" / name.name
    if not path.is_file() or path.suffix != ".eml":
        raise InputError(f"{name}: no such email in {settings.data_dir / 'mail'}")
    msg = _parse(path)
    head = "\n".join(f"{k}: {v}" for k, v in msg.items() if k in ("From", "To", "Subject", "Date", "List-Unsubscribe"))
    return f"{head}\n\n{_text(msg)}"


def queue_rows(engine: Engine, limit: int) -> list[EmailMessage]:
    with Session(engine) as session:
        return list(session.exec(select(EmailMessage).order_by(EmailMessage.id.desc()).limit(limit)).all())  # type: ignore[union-attr]
