"""The Mastodon publisher: Mastodon.py (unmodified) pointed at ``settings.mastodon_api_url`` with the account's token.

Images: ``POST /api/v2/media`` with the alt text as ``description``; a 202 answer means the server is still processing,
so ``GET /api/v1/media/:id`` is polled until the attachment has a ``url`` (at most :attr:`MastodonPublisher.media_wait`
seconds, then ``Transient``: nothing was posted). Then one ``POST /api/v1/statuses`` with an ``Idempotency-Key``
derived from the delivery, the same on every retry, so a retried create never posts twice (Mastodon remembers keys
for an hour).

Error classes: 429 → ``RateLimited`` (``X-RateLimit-Reset``); 5xx and unreachable → ``Transient``; 401/403 →
``AuthFailed`` (reconnect); 422 and other 4xx → ``Rejected`` with the server's own words; timeout or reset after the
status was sent → ``OutcomeUnknown``. The token only travels in the Authorization header, never in a message.
"""

from __future__ import annotations

import html
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIOError,
    MastodonNetworkError,
    MastodonRatelimitError,
)
from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.errors import AuthFailed, ConfigError, PublishError, RateLimited, Rejected, Transient
from social_campaign.publishers.base import Media, OutgoingPost, Publisher, PublishResult, normalise_for_match
from social_campaign.publishers.http import BaseURLSession, quiet_credential_loggers, transport_error
from social_campaign.publishers.mastodon_limits import (
    Limits,
    cached_limits,
    default_limits,
    html_to_text,
    limits_from_instance,
    remember_limits,
)

T = TypeVar("T")
NETWORK = "Mastodon"
#: Mastodon.py is told the server's version (it never asks), so it uses the v2 media endpoint.
ASSUMED_VERSION = "4.3.0"


class MastodonPublisher(Publisher):
    """Posts to the organisation's Mastodon account. Thread-safe: one instance serves all of a worker's threads."""

    name = "mastodon"
    #: Longest wait (seconds) for the server to process an uploaded image, and the first pause between polls.
    media_wait: float = 30.0
    media_poll: float = 0.25

    def __init__(self, *, settings: Settings, engine: Engine | None = None) -> None:
        if settings.mastodon_api_url is None or settings.mastodon_access_token is None:
            raise ConfigError(
                "Mastodon has no credentials: set SOCIAL_CAMPAIGN_MASTODON_API_URL and SOCIAL_CAMPAIGN_MASTODON_ACCESS_TOKEN"
            )
        quiet_credential_loggers()
        self.settings = settings
        self.api_url = settings.mastodon_api_url.rstrip("/")
        self.session = BaseURLSession(self.api_url, self.api_url, settings.request_timeout, settings.worker_threads)
        self.client = Mastodon(
            access_token=settings.mastodon_access_token.get_secret_value(), api_base_url=self.api_url,
            request_timeout=settings.request_timeout, ratelimit_method="throw", session=self.session,
            mastodon_version=ASSUMED_VERSION, version_check_mode="created",
        )  # fmt: skip
        self._account_id: str | None = None
        self._lock = threading.Lock()

    # --- the contract ------------------------------------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> PublishResult:
        media_ids = [self._upload(m) for m in post.media]
        key = post.idempotency_key or f"social-campaign-{post.delivery_id}"
        summary = f"POST /api/v1/statuses text={len(post.text)} chars" + (
            f" media_ids={','.join(media_ids)}" if media_ids else ""
        )
        status = self._call(
            lambda: self.client.status_post(post.text, media_ids=media_ids or None, idempotency_key=key), create=True
        )
        status_id = _get(status, "id")
        if not status_id:
            raise transport_error(ValueError("no id in the answer"), network=NETWORK, create=True)
        return PublishResult(remote_id=str(status_id), url=_get(status, "url"), http_status=200, request_summary=summary,
                             extra={"idempotency_key": key})  # fmt: skip

    def find_recent(self, post: OutgoingPost, since: datetime) -> PublishResult | None:
        account_id = self._account()
        wanted = _match_key(post.text)
        statuses = self._call(
            lambda: self.client.account_statuses(account_id, exclude_reblogs=True, limit=40), create=False
        )
        for status in statuses or []:
            created = _as_datetime(_get(status, "created_at"))
            if created is not None and created < since.replace(microsecond=since.microsecond // 1000 * 1000):
                continue
            if _match_key(html_to_text(str(_get(status, "content") or ""))) == wanted:
                sid = str(_get(status, "id"))
                return PublishResult(remote_id=sid, url=_get(status, "url"), http_status=200,
                                     request_summary=f"GET /api/v1/accounts/{account_id}/statuses")  # fmt: skip
        return None

    def close(self) -> None:
        self.session.close()

    # --- limits ------------------------------------------------------------------------------------------------------
    def limits(self) -> Limits:
        """The server's limits from ``GET /api/v2/instance``, cached per process and server."""
        if (hit := cached_limits(self.api_url)) is not None:
            return hit
        body = self._call(lambda: self.session.get(self.api_url + "/api/v2/instance"), create=False, raw=True)
        limits = limits_from_instance(body, default_limits(self.settings))
        remember_limits(self.api_url, limits)
        return limits

    # --- media -------------------------------------------------------------------------------------------------------
    def _upload(self, media: Media) -> str:
        try:
            data = media.path.read_bytes()
        except OSError as exc:
            raise Rejected(f"media file {media.path} cannot be read ({exc.strerror or type(exc).__name__})") from exc
        attachment = self._call(
            lambda: self.client.media_post(
                data, mime_type=media.mime_type, description=media.alt or None, file_name=media.path.name
            ),
            create=False,
        )
        media_id = _get(attachment, "id")
        if not media_id:
            raise Transient("Mastodon answered the media upload without an id; nothing was published")
        deadline, pause = time.monotonic() + self.media_wait, self.media_poll
        while not _get(attachment, "url"):
            if time.monotonic() + pause > deadline:
                raise Transient(
                    f"Mastodon was still processing image {media.path.name} after {self.media_wait:g} s; nothing was published"
                )
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
            attachment = self._call(lambda: self.client.media(media_id), create=False)
        return str(media_id)

    # --- account and error translation -------------------------------------------------------------------------------
    def _account(self) -> str:
        with self._lock:
            if self._account_id is None:
                me = self._call(self.client.account_verify_credentials, create=False)
                if not _get(me, "id"):
                    raise Transient("Mastodon verify_credentials answered without an account id")
                self._account_id = str(_get(me, "id"))
            return self._account_id

    def _call(self, fn: Callable[[], Any], *, create: bool, raw: bool = False) -> Any:
        """Run ``fn``; turn Mastodon.py and requests failures into exactly one ``PublishError``."""
        try:
            result = fn()
            if raw:
                response: requests.Response = result
                if not response.ok:
                    raise _error(response.status_code, _words(response), response)
                return response.json()
            return result
        except PublishError:
            raise
        except MastodonRatelimitError as exc:
            raise _error(429, "rate limit reached", self.session.last_response) from exc
        except MastodonAPIError as exc:
            status = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
            words = (
                str(exc.args[3])
                if len(exc.args) > 3 and exc.args[3]
                else str(exc.args[2] if len(exc.args) > 2 else exc)
            )
            raise _error(status, words, self.session.last_response) from exc
        except (MastodonNetworkError, requests.RequestException) as exc:
            cause = exc.__context__ if isinstance(exc.__context__, requests.RequestException) else exc
            raise transport_error(cause if isinstance(cause, requests.RequestException) else requests.ConnectionError(str(exc)),
                                  network=NETWORK, create=create) from exc  # fmt: skip
        except (MastodonIOError, MastodonError, ValueError) as exc:
            if create:
                raise transport_error(ValueError(str(exc)), network=NETWORK, create=True) from exc
            raise Transient(
                f"Mastodon answered with something unreadable ({type(exc).__name__}); nothing was published"
            ) from exc


def _error(status: int, words: str, response: requests.Response | None) -> PublishError:
    if status == 429:
        return RateLimited(f"Mastodon rate limit reached ({words})", reset_at=_reset_at(response), http_status=429)
    if status in (401, 403):
        return AuthFailed(
            f"Mastodon refused the account's token ({words}); reconnect the Mastodon account", http_status=status
        )
    if status >= 500 or status == 0:
        return Transient(f"Mastodon server error (HTTP {status}); nothing was accepted", http_status=status or None)
    if status == 422:
        return Rejected(f"Mastodon refused the post: {words}", http_status=422)
    return Rejected(f"Mastodon refused the request (HTTP {status}): {words}", http_status=status)


def _words(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    return (
        str(body.get("error") or f"HTTP {response.status_code}")
        if isinstance(body, dict)
        else f"HTTP {response.status_code}"
    )


def _reset_at(response: requests.Response | None) -> datetime | None:
    value = response.headers.get("X-RateLimit-Reset") if response is not None else None
    if not value:
        return None
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    return _as_datetime(value)


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


_MENTION = re.compile(r"(?<![\w/])@\w+(@[\w.-]+\w)?")


def _match_key(text: str) -> str:
    """Text as compared in reconciliation; mentions are dropped, since Mastodon shows ``@user@server`` as ``@user``."""
    return normalise_for_match(_MENTION.sub("", unicodedata.normalize("NFC", html.unescape(text))))
