"""The Facebook Page publisher: facebook-sdk's ``GraphAPI``, pinned to ``settings.facebook_graph_version``.

facebook-sdk 3.1.0 accepts only versions up to 3.1 in its constructor, so the version attribute is set afterwards. Its
requests go through a :class:`~.http.BaseURLSession` that sends them to ``settings.facebook_graph_url`` (no global is
patched) and refuses answers that are not JSON (facebook-sdk ignores HTTP status and would otherwise fail obscurely
on an HTML 502 from a proxy).

* text (and link) → ``POST /{page-id}/feed`` with ``message`` and, when the text has a URL, ``link`` (the preview card)
* one image → ``POST /{page-id}/photos`` with the file as multipart ``source``, ``caption`` and ``alt_text_custom``
* several images → each uploaded unpublished (``published=false``, with its alt text), then one ``/feed`` post with
  ``attached_media``; only that last request creates the post.

Graph error codes → error classes: 4, 17, 32, 341, 613, 80001 → ``RateLimited`` (reset from
``X-Business-Use-Case-Usage`` ``estimated_time_to_regain_access`` when given); 1, 2 and HTTP 5xx → ``Transient``;
190 → ``AuthFailed``; 10 and 200-299 → ``AuthFailed`` too (the Page token lacks or lost a permission: every post on
the account would fail the same way, and the fix is reconnecting with the right permissions); 506 → ``Rejected``
(duplicate); 368 → ``Rejected`` (policy); 100 and anything else → ``Rejected``. The reason keeps the code,
``error_subcode`` and ``fbtrace_id`` for support requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import facebook
import requests
from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.errors import (
    AuthFailed,
    ConfigError,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from social_campaign.publishers.base import (
    Media,
    OutgoingPost,
    Publisher,
    PublishResult,
    normalise_for_match,
)
from social_campaign.publishers.http import (
    BaseURLSession,
    quiet_credential_loggers,
    transport_error,
)

T = TypeVar("T")
NETWORK = "Facebook"
RATE_CODES = frozenset({4, 17, 32, 341, 613, 80001})
SUBCODES = {458: "app not installed", 459: "checkpoint", 460: "password changed", 463: "token expired", 464: "unconfirmed user", 467: "invalid token"}
_URL = re.compile(r"https?://\S+")


class NotJSON(requests.RequestException):
    """The Graph API (or a proxy before it) answered with something that is not JSON."""


class _GraphSession(BaseURLSession):
    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        if "json" not in response.headers.get("content-type", ""):
            raise NotJSON(f"HTTP {response.status_code} with a {response.headers.get('content-type') or 'missing'} body", response=response)
        return response


class FacebookPublisher(Publisher):
    """Posts to one Facebook Page with a Page access token. Thread-safe."""

    name = "facebook"

    def __init__(self, *, settings: Settings, engine: Engine) -> None:
        if settings.facebook_page_id is None or settings.facebook_page_token is None:
            raise ConfigError("Facebook has no credentials: set SOCIAL_CAMPAIGN_FACEBOOK_PAGE_ID and SOCIAL_CAMPAIGN_FACEBOOK_PAGE_TOKEN")
        quiet_credential_loggers()
        self.page_id = settings.facebook_page_id
        self.session = _GraphSession(
            facebook.FACEBOOK_GRAPH_URL, settings.facebook_graph_url, settings.request_timeout, settings.worker_threads
        )
        self.graph = facebook.GraphAPI(
            access_token=settings.facebook_page_token.get_secret_value(), timeout=settings.request_timeout, session=self.session
        )
        self.graph.version = settings.facebook_graph_version  # after construction: 3.1.0 refuses versions above 3.1

    # --- the contract ------------------------------------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> PublishResult:
        if not post.media:
            args = {"message": post.text}
            if link := _first_link(post.text):
                args["link"] = link
            result = self._call(lambda: self.graph.put_object(self.page_id, "feed", **args), create=True)
            summary = f"POST /{self.page_id}/feed message={len(post.text)} chars" + (" +link" if link else "")
        elif len(post.media) == 1:
            image = _read(post.media[0])
            result = self._call(
                lambda: self.graph.put_photo(
                    image=image, album_path=f"{self.page_id}/photos", caption=post.text, alt_text_custom=post.media[0].alt
                ),
                create=True,
            )
            summary = f"POST /{self.page_id}/photos caption={len(post.text)} chars source={len(image[1])} bytes"
        else:
            photo_ids = []
            for media in post.media:
                image = _read(media)

                def upload(image: tuple[str, bytes, str] = image, media: Media = media) -> Any:
                    return self.graph.put_photo(
                        image=image, album_path=f"{self.page_id}/photos", published="false", alt_text_custom=media.alt
                    )

                uploaded = self._call(upload, create=False)
                photo_ids.append(str(_field(uploaded, "id", create=False)))
            attached = {f"attached_media[{i}]": json.dumps({"media_fbid": pid}) for i, pid in enumerate(photo_ids)}
            result = self._call(lambda: self.graph.put_object(self.page_id, "feed", message=post.text, **attached), create=True)
            summary = f"POST /{self.page_id}/feed message={len(post.text)} chars attached_media={len(photo_ids)}"
        remote_id = str((result.get("post_id") if isinstance(result, dict) else None) or _field(result, "id", create=True))
        return PublishResult(remote_id=remote_id, url=f"https://www.facebook.com/{remote_id}", http_status=200, request_summary=summary)

    def find_recent(self, post: OutgoingPost, since: datetime) -> PublishResult | None:
        wanted = normalise_for_match(post.text)
        result = self._call(
            lambda: self.graph.get_connections(self.page_id, "feed", fields="message,created_time", limit=100, since=int(since.timestamp())),
            create=False,
        )
        for item in result.get("data", []) if isinstance(result, dict) else []:
            created = _parse_time(item.get("created_time"))
            if normalise_for_match(item.get("message", "")) == wanted and (created is None or created >= since.replace(microsecond=0)):
                pid = str(item["id"])
                return PublishResult(remote_id=pid, url=f"https://www.facebook.com/{pid}", http_status=200, request_summary=f"GET /{self.page_id}/feed")
        return None

    def close(self) -> None:
        self.session.close()

    # --- error translation -------------------------------------------------------------------------------------------
    def _call(self, fn: Callable[[], T], *, create: bool) -> T:
        try:
            return fn()
        except facebook.GraphAPIError as exc:
            response = self.session.last_response
            raise _graph_error(exc, response) from exc
        except NotJSON as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status >= 500:
                raise Transient(f"Facebook server error (HTTP {status}, not JSON); nothing was accepted", http_status=status) from exc
            if 200 <= status < 300:
                raise transport_error(ValueError(str(exc)), network=NETWORK, create=create) from exc
            raise Rejected(f"Facebook answered HTTP {status} without a Graph error (wrong URL or version?)", http_status=status) from exc
        except (requests.RequestException, ValueError) as exc:
            raise transport_error(exc, network=NETWORK, create=create) from exc


def _graph_error(exc: facebook.GraphAPIError, response: requests.Response | None) -> PublishError:
    error = exc.result.get("error", {}) if isinstance(exc.result, dict) else {}
    error = error if isinstance(error, dict) else {}
    status = response.status_code if response is not None else None
    try:
        code = int(exc.code) if exc.code is not None else None
    except (TypeError, ValueError):
        code = None
    subcode = error.get("error_subcode")
    trace = error.get("fbtrace_id")
    refs = ", ".join(p for p in (f"code {code}" if code is not None else "", f"subcode {subcode}" if subcode else "", f"fbtrace_id {trace}" if trace else "") if p)
    message = str(exc.message if isinstance(exc.message, str) else error.get("message", "unknown error"))
    detail = f"{message} ({refs})" if refs else message
    if code in RATE_CODES:
        return RateLimited(f"Facebook rate limit reached: {detail}", reset_at=_buc_reset(response), http_status=status, code=code)
    if code in (1, 2) or (code is None and status is not None and status >= 500):
        return Transient(f"Facebook had a temporary problem: {detail}", http_status=status, code=code)
    if code == 190:
        why = SUBCODES.get(int(subcode)) if isinstance(subcode, int) else None
        return AuthFailed(f"Facebook refused the Page token{f' ({why})' if why else ''}: {detail}; reconnect the Page", http_status=status, code=code)
    if code == 10 or (code is not None and 200 <= code <= 299):
        return AuthFailed(f"Facebook says the Page token lacks permission to post: {detail}; reconnect with pages_manage_posts", http_status=status, code=code)
    if code == 506:
        return Rejected(f"Facebook rejected it as a duplicate of an earlier post ({refs})", http_status=status, code=code)
    if code == 368:
        return Rejected(f"Facebook blocked the post under its policies: {detail}", http_status=status, code=code)
    return Rejected(f"Facebook refused the post: {detail}", http_status=status, code=code)


def _buc_reset(response: requests.Response | None) -> datetime | None:
    """Reset time from ``X-Business-Use-Case-Usage`` (``estimated_time_to_regain_access`` is in minutes)."""
    if response is None:
        return None
    raw = response.headers.get("x-business-use-case-usage")
    try:
        usage = json.loads(raw) if raw else {}
        minutes = max(
            (float(e.get("estimated_time_to_regain_access") or 0) for entries in usage.values() for e in entries), default=0.0
        )
    except (ValueError, AttributeError, TypeError):
        return None
    return datetime.now(UTC) + timedelta(minutes=minutes) if minutes > 0 else None


def _read(media: Media) -> tuple[str, bytes, str]:
    try:
        return (media.path.name, media.path.read_bytes(), media.mime_type)
    except OSError as exc:
        raise Rejected(f"media file {media.path} cannot be read ({exc.strerror or type(exc).__name__})") from exc


def _field(result: Any, name: str, *, create: bool) -> Any:
    value = result.get(name) if isinstance(result, dict) else None
    if not value:
        raise transport_error(ValueError(f"no {name} in the answer"), network=NETWORK, create=create)
    return value


def _first_link(text: str) -> str | None:
    m = _URL.search(text)
    return m.group(0).rstrip(".,;:!?)]}'\"") if m else None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
