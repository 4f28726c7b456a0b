"""Publishers by channel name, through the ``social_campaign.publishers`` entry-point group.

Built-ins register through the same group as third-party ones (see ``pyproject.toml``). A channel whose account has no
credentials falls back to the outbox, which records exactly what would have been posted.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from social_campaign.publishers.base import (
    Media,
    OutgoingPost,
    Publisher,
    PublishResult,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from social_campaign.config import Settings

__all__ = ["Media", "OutgoingPost", "PublishResult", "Publisher", "build_publisher", "publisher_class", "uses_outbox"]

GROUP = "social_campaign.publishers"


@cache
def publisher_class(name: str) -> type[Publisher]:
    """The class registered as ``name``; ``LookupError`` naming the known ones otherwise."""
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    if name not in found:
        raise LookupError(f"no publisher named {name!r}; known: {', '.join(sorted(found))}")
    cls = found[name].load()
    if not (isinstance(cls, type) and issubclass(cls, Publisher)):
        raise LookupError(f"publisher {name!r} ({found[name].value}) is not a Publisher subclass")
    return cls


def uses_outbox(channel: str, settings: Settings) -> bool:
    """True when ``channel`` has no credentials configured and therefore posts to the outbox."""
    if channel == "outbox":
        return True
    if channel == "x":
        return not (settings.x_oauth1_configured or settings.x_oauth2_configured)
    if channel == "facebook":
        return not settings.facebook_configured
    if channel == "mastodon":
        return not settings.mastodon_configured
    if channel == "bluesky":
        return not settings.bluesky_configured
    return False


def build_publisher(channel: str, settings: Settings, engine: Engine) -> Publisher:
    """The publisher that posts ``channel`` for this deployment (the outbox when the channel has no credentials)."""
    if uses_outbox(channel, settings):
        from social_campaign.publishers.outbox import OutboxPublisher

        return OutboxPublisher(settings=settings, engine=engine, channel=channel)
    return publisher_class(channel)(settings=settings, engine=engine)  # type: ignore[call-arg]
