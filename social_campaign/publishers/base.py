"""The publisher contract: one small class per network, looked up by channel name.

A publisher turns one :class:`OutgoingPost` into one post on one account, and can look for that post afterwards.

Contract
--------
``publish(post) -> PublishResult``
    Make exactly one create request for ``post`` (after any media uploads it needs). On success return the remote id.
    On failure raise exactly one :mod:`social_campaign.errors` ``PublishError`` subclass, chosen by what is known:

    * ``RateLimited(reset_at=…)`` - refused for rate; nothing was created. ``reset_at`` from the API's headers.
    * ``Transient`` - nothing was created (connection refused, DNS, 5xx answered *before* acceptance, a media upload
      that failed). Safe to retry.
    * ``Rejected`` - final (duplicate, validation, policy, permission on the content). ``reason`` in plain words.
    * ``AuthFailed`` - token revoked/expired/insufficient: the account needs reconnecting.
    * ``OutcomeUnknown`` - the create request was sent and no answer was read (timeout, reset): it may exist.

    Foreign exceptions never escape: translate them here, at the edge, with ``raise … from exc``.
    ``publish`` must not retry the create request itself; the scheduler owns retries.

``find_recent(post, since) -> PublishResult | None``
    Reconciliation: read the account's recent posts (X ``GET /2/users/:id/tweets``, Facebook ``/{page-id}/feed``)
    and return the one that is ``post`` (matched on its text, links normalised) created at or after ``since``, or
    ``None`` when it is certainly not there. Raise ``Transient``/``RateLimited``/``AuthFailed`` when the answer
    cannot be known now.

``close()``
    Release connections. Publishers are also context managers.

Publishers are built by :func:`social_campaign.publishers.build_publisher` from settings alone (base URLs, credentials,
timeouts), so tests point the real client libraries at fake servers on 127.0.0.1. They must be thread-safe: one
instance serves all of a worker's sending threads.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self


@dataclass(frozen=True)
class Media:
    """An image ready to upload: a file path, its MIME type and alt text (always set: ``check`` requires it)."""

    path: Path
    alt: str
    mime_type: str = "image/png"


@dataclass(frozen=True)
class OutgoingPost:
    delivery_id: int
    channel: str
    text: str
    media: tuple[Media, ...] = ()
    idempotency_key: str = ""  # stable per delivery; sent where the API supports it (Mastodon)


@dataclass(frozen=True)
class PublishResult:
    remote_id: str
    url: str | None = None
    http_status: int | None = None
    request_summary: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class Publisher(ABC):
    """Base class for a network publisher. See the module docstring for the contract."""

    #: The channel name in schedule.toml (``x``, ``facebook``, …).
    name: ClassVar[str]

    @abstractmethod
    def publish(self, post: OutgoingPost) -> PublishResult: ...

    @abstractmethod
    def find_recent(self, post: OutgoingPost, since: datetime) -> PublishResult | None: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (default: nothing to release)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.close()


_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")


def normalise_for_match(text: str) -> str:
    """Text as compared during reconciliation: links (which networks shorten) removed, white space folded."""
    return _SPACE.sub(" ", _URL.sub("", text)).strip()
