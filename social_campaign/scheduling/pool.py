"""Publishers built once per process per channel, and delivery rows turned into ``OutgoingPost`` values."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.models import Delivery
from social_campaign.publishers.base import Media, OutgoingPost, Publisher


class PublisherPool:
    """Lazily builds ``build_publisher(channel, settings, engine)`` once per channel; publishers are thread-safe."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings, self.engine = settings, engine
        self._lock = threading.Lock()
        self._publishers: dict[str, Publisher] = {}

    def get(self, channel: str) -> Publisher:
        with self._lock:
            publisher = self._publishers.get(channel)
            if publisher is None:
                from social_campaign.publishers import build_publisher

                publisher = self._publishers[channel] = build_publisher(channel, self.settings, self.engine)
            return publisher

    def close(self) -> None:
        with self._lock:
            for publisher in self._publishers.values():
                publisher.close()
            self._publishers.clear()


def to_outgoing(row: Delivery) -> OutgoingPost:
    media = tuple(
        Media(path=Path(m["path"]), alt=m.get("alt") or "", mime_type=m.get("mime_type") or "image/png")
        for m in json.loads(row.media_json or "[]")
    )
    return OutgoingPost(
        delivery_id=row.id or 0,
        channel=row.channel,
        text=row.text,
        media=media,
        idempotency_key=f"{row.campaign}/{row.post_id}/{row.channel}/{row.occurrence}",
    )


def summary(post: OutgoingPost) -> str:
    """What was asked, for the attempt record (no secrets: only the content)."""
    media = ", ".join(m.path.name for m in post.media)
    text = post.text if len(post.text) <= 120 else post.text[:117] + "…"
    return f"create post on {post.channel}: {text!r}" + (f" with media [{media}]" if media else "")
