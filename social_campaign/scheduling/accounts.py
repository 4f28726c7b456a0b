"""Reconnecting an account after an auth failure (``social-campaign reconnect CHANNEL``).

An auth failure parks the channel (``Account.status = needs_reconnect``): its posts are held, not sent. After the
manager has put new credentials in the settings, :func:`reconnect` first proves they work with a read-only call (the
same recent-posts read reconciliation uses; for OAuth 2.0 on X this also spends the new refresh token and stores the
rotated pair), then puts the account back in use and requeues the held rows. A post that is by then later than the
grace window is marked missed by the next claim, as any late post is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from social_campaign.campaign.model import CHANNELS
from social_campaign.config import Settings
from social_campaign.errors import AuthFailed, ConfigError, InputError, PublishError
from social_campaign.publishers import OutgoingPost, build_publisher, uses_outbox
from social_campaign.scheduling.outcome import account_reconnected


def reconnect(settings: Settings, engine: Engine, channel: str, now: datetime) -> int:
    """Check ``channel``'s credentials, then use the account again. Returns how many held posts were requeued."""
    if channel not in CHANNELS:
        raise InputError(f"{channel!r} is not a channel; choose one of {', '.join(CHANNELS)}")
    if not uses_outbox(channel, settings):
        probe = OutgoingPost(delivery_id=0, channel=channel, text="social-campaign reconnect check")
        with build_publisher(channel, settings, engine) as publisher:
            try:
                publisher.find_recent(probe, since=now)
            except AuthFailed as exc:
                raise ConfigError(
                    f"{channel}: the network still refuses the credentials ({exc.reason}); update them and try again"
                ) from None
            except PublishError as exc:
                raise InputError(f"{channel}: the credentials could not be checked now ({exc.reason}); try again") from None
    return account_reconnected(engine, channel, now)
