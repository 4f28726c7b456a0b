"""The outbox publisher: the default for every channel without credentials.

It records exactly what a network would have been sent - text, media and alt text - in the database (one
``OutboxItem`` per delivery, never two) and as a readable Markdown file
``DATA_DIR/outbox/<channel>/<UTC time>-<delivery id>.md`` with the media copied next to it under ``media/``.
Files are written atomically (temp file + ``os.replace``). Publishing the same delivery again returns the item already
recorded. ``find_recent`` looks the delivery up. :func:`list_outbox` is the service behind ``social-campaign outbox``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.errors import Rejected
from social_campaign.files import private_dir, write_private
from social_campaign.models import OutboxItem, utcnow
from social_campaign.publishers.base import OutgoingPost, Publisher, PublishResult


class OutboxPublisher(Publisher):
    """Records posts instead of sending them. Thread- and process-safe (the delivery id is unique in the table)."""

    name = "outbox"

    def __init__(self, *, settings: Settings, engine: Engine, channel: str = "outbox") -> None:
        self.settings = settings
        self.engine = engine
        self.channel = channel
        self.folder = settings.data_dir / "outbox" / channel

    def publish(self, post: OutgoingPost) -> PublishResult:
        with session_scope(self.engine) as session:
            found = _by_delivery(session, post.delivery_id)
            if found is not None:
                return _result(found, "already in the outbox")
            now = utcnow()
            existing = sorted(self.folder.glob(f"*-{post.delivery_id}.md"))
            path = existing[0] if existing else self.folder / f"{now.strftime('%Y%m%dT%H%M%SZ')}-{post.delivery_id}.md"
            media = self._copy_media(post)
            _atomic_write(path, _render(post, self.channel, now, media))
            item = OutboxItem(delivery_id=post.delivery_id, channel=self.channel, text=post.text, media_json=json.dumps(media), file=str(path), created_at=now)
            try:
                session.add(item)
                session.flush()
            except IntegrityError:  # a concurrent publish of the same delivery won (PostgreSQL)
                session.rollback()
                found = _by_delivery(session, post.delivery_id)
                if found is None:
                    raise
                if found.file != str(path):
                    path.unlink(missing_ok=True)
                return _result(found, "already in the outbox")
        return _result(item, f"wrote {path.name}")

    def find_recent(self, post: OutgoingPost, since: datetime) -> PublishResult | None:
        with session_scope(self.engine) as session:
            found = _by_delivery(session, post.delivery_id)
        return None if found is None else _result(found, "found in the outbox")

    def _copy_media(self, post: OutgoingPost) -> list[dict[str, str]]:
        out = []
        for n, media in enumerate(post.media, start=1):
            target = self.folder / "media" / f"{post.delivery_id}-{n}-{media.path.name}"
            try:
                if not target.exists():
                    private_dir(target.parent)
                    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")  # 0600
                    with os.fdopen(fd, "wb") as dst, media.path.open("rb") as src:
                        shutil.copyfileobj(src, dst)
                    os.replace(tmp, target)
            except OSError as exc:
                raise Rejected(f"media file {media.path} cannot be read ({exc.strerror or type(exc).__name__})") from exc
            out.append({"path": str(target), "source": str(media.path), "alt": media.alt, "mime_type": media.mime_type})
        return out


def list_outbox(engine: Engine, *, channel: str | None = None, limit: int = 50) -> list[OutboxItem]:
    """The newest ``limit`` outbox items (optionally of one channel), newest first."""
    with session_scope(engine) as session:
        stmt = select(OutboxItem)
        if channel:
            stmt = stmt.where(OutboxItem.channel == channel)
        return list(session.exec(stmt.order_by(col(OutboxItem.created_at).desc(), col(OutboxItem.id).desc()).limit(limit)).all())


def item_media(item: OutboxItem) -> list[dict[str, str]]:
    return list(json.loads(item.media_json or "[]"))


def _by_delivery(session: object, delivery_id: int) -> OutboxItem | None:
    return session.exec(select(OutboxItem).where(OutboxItem.delivery_id == delivery_id)).first()  # type: ignore[attr-defined, no-any-return]


def _result(item: OutboxItem, summary: str) -> PublishResult:
    return PublishResult(remote_id=f"outbox-{item.id}", url=Path(item.file).as_uri() if item.file else None, request_summary=summary)


def _render(post: OutgoingPost, channel: str, when: datetime, media: list[dict[str, str]]) -> str:
    lines = [f"# {channel} · delivery {post.delivery_id}", "", f"posted: {when.isoformat(timespec='seconds')}", "", "## text", "", post.text, ""]
    if media:
        lines += ["## media", ""]
        lines += [f"{n}. media/{Path(m['path']).name} — alt: {m['alt']}" for n, m in enumerate(media, start=1)]
        lines.append("")
    return "\n".join(lines)


def _atomic_write(path: Path, text: str) -> None:
    write_private(path, text.encode("utf-8"))  # 0600 in a 0700 folder, whatever the umask
