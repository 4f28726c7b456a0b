"""The X publisher: tweepy's ``Client.create_tweet`` plus X API v2 media upload, pointed at ``settings.x_api_url``.

Credentials: OAuth 1.0a user keys (``X_CONSUMER_KEY`` … ``X_ACCESS_TOKEN_SECRET``), or an OAuth 2.0 user token with
refresh (``X_CLIENT_ID`` + ``X_OAUTH2_REFRESH_TOKEN``, see :mod:`.x_auth`). tweepy runs unmodified: its requests go
through a :class:`~.http.BaseURLSession` that sends them to the configured base URL with the configured timeout.

Images: ``POST /2/media/upload`` (multipart ``media`` + ``media_category``), then ``POST /2/media/metadata`` for the
alt text, both on the same authenticated session, then one ``create_tweet`` with the media ids. Failures before the
create request are never ``OutcomeUnknown``: nothing can have been posted yet.

Error classes (``errors.py``): 429 → ``RateLimited`` (reset from ``x-rate-limit-reset`` or, when the 24-hour cap is
spent, ``x-user-limit-24hour-reset``/``x-app-limit-24hour-reset``); 5xx and unreachable → ``Transient``; 401 →
``AuthFailed`` (OAuth 2.0: after one refresh and retry); 403 duplicate / not permitted, 400, 404 → ``Rejected``;
timeout or reset after the create request went out → ``OutcomeUnknown``.
"""

from __future__ import annotations

import html
import threading
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
import tweepy
from requests_oauthlib import OAuth1
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
from social_campaign.publishers.x_auth import XTokenStore

T = TypeVar("T")

#: The host tweepy 4.17 hard-codes; the session sends it to ``settings.x_api_url``.
TWEEPY_HOST = "https://api.twitter.com"
NETWORK = "X"


class XPublisher(Publisher):
    """Posts to one X account. Thread-safe: one instance serves all of a worker's threads."""

    name = "x"

    def __init__(self, *, settings: Settings, engine: Engine) -> None:
        quiet_credential_loggers()
        self.settings = settings
        self.session = BaseURLSession(TWEEPY_HOST, settings.x_api_url, settings.request_timeout, settings.worker_threads)
        self._tokens: XTokenStore | None = None
        self._oauth1: OAuth1 | None = None
        if settings.x_oauth1_configured:
            self._oauth1 = OAuth1(*(s.get_secret_value() for s in self._oauth1_keys()))
        elif settings.x_oauth2_configured:
            self._tokens = XTokenStore(settings=settings, engine=engine, session=self.session)
        else:
            raise ConfigError(
                "X has no credentials: set SOCIAL_CAMPAIGN_X_CONSUMER_KEY/_SECRET and SOCIAL_CAMPAIGN_X_ACCESS_TOKEN/_SECRET, "
                "or SOCIAL_CAMPAIGN_X_CLIENT_ID and SOCIAL_CAMPAIGN_X_OAUTH2_REFRESH_TOKEN"
            )
        self._user_id = settings.x_user_id
        self._user_lock = threading.Lock()
        self._client_cache: tuple[str | None, tweepy.Client] | None = None

    # --- the contract ------------------------------------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> PublishResult:
        media_ids = [self._upload(m) for m in post.media]
        summary = f"POST /2/tweets text={len(post.text)} chars" + (f" media_ids={','.join(media_ids)}" if media_ids else "")

        def create(client: tweepy.Client) -> Any:
            return client.create_tweet(text=post.text, media_ids=media_ids or None, user_auth=self._oauth1 is not None)

        body = self._call(create, create=True)
        tweet_id = (body.get("data") or {}).get("id") if isinstance(body, dict) else None
        if not tweet_id:
            raise transport_error(ValueError("no data.id in the answer"), network=NETWORK, create=True)
        return PublishResult(remote_id=str(tweet_id), url=f"https://x.com/i/web/status/{tweet_id}", http_status=201, request_summary=summary)

    def find_recent(self, post: OutgoingPost, since: datetime) -> PublishResult | None:
        user_id = self._user()
        wanted = _match_key(post.text)

        def timeline(client: tweepy.Client) -> Any:
            return client.get_users_tweets(
                user_id, max_results=100, start_time=since, tweet_fields=["created_at"], user_auth=self._oauth1 is not None
            )

        body = self._call(timeline, create=False)
        floor = since.replace(microsecond=since.microsecond // 1000 * 1000)  # X keeps milliseconds
        for tweet in (body.get("data") or []) if isinstance(body, dict) else []:
            created = _parse_time(tweet.get("created_at"))
            if _match_key(tweet.get("text", "")) == wanted and (created is None or created >= floor):
                tid = str(tweet["id"])
                return PublishResult(remote_id=tid, url=f"https://x.com/i/web/status/{tid}", http_status=200,
                                     request_summary=f"GET /2/users/{user_id}/tweets")  # fmt: skip
        return None

    def close(self) -> None:
        self.session.close()

    # --- media -------------------------------------------------------------------------------------------------------
    def _upload(self, media: Media) -> str:
        try:
            data = media.path.read_bytes()
        except OSError as exc:
            raise Rejected(f"media file {media.path} cannot be read ({exc.strerror or type(exc).__name__})") from exc
        category = "tweet_gif" if media.mime_type == "image/gif" else "tweet_image"

        def upload(client: tweepy.Client) -> Any:
            return self._raw(client, "/2/media/upload", files={"media": (media.path.name, data, media.mime_type)},
                             data={"media_category": category})  # fmt: skip

        body = self._call(upload, create=False)
        media_id = (body.get("data") or {}).get("id") if isinstance(body, dict) else None
        if not media_id:
            raise Transient("X media upload answered without a media id; nothing was published")
        media_id = str(media_id)
        if media.alt:
            meta = {"id": media_id, "metadata": {"alt_text": {"text": media.alt[:1000]}}}
            self._call(lambda client: self._raw(client, "/2/media/metadata", json=meta), create=False)
        return media_id

    def _raw(self, client: tweepy.Client, route: str, **kwargs: Any) -> Any:
        """An authenticated POST that tweepy has no method for; raises tweepy's exceptions like tweepy would."""
        if self._oauth1 is not None:
            kwargs["auth"] = self._oauth1
        else:
            kwargs["headers"] = {"Authorization": f"Bearer {client.bearer_token}", "User-Agent": client.user_agent}
        with self.session.post(TWEEPY_HOST + route, **kwargs) as response:
            _raise_for_status(response)
            return response.json()

    # --- auth, users and error translation ---------------------------------------------------------------------------
    def _oauth1_keys(self) -> tuple[Any, ...]:
        s = self.settings
        return (s.x_consumer_key, s.x_consumer_secret, s.x_access_token, s.x_access_token_secret)

    def _client(self, token: str | None) -> tweepy.Client:
        """A tweepy client on the shared session, reused while the token stays the same (clients hold no request state)."""
        cached = self._client_cache
        if cached is not None and cached[0] == token:
            return cached[1]
        if self._oauth1 is not None:
            client = tweepy.Client(*(None, *(k.get_secret_value() for k in self._oauth1_keys())), return_type=dict)
        else:
            client = tweepy.Client(token, return_type=dict)
        client.session.close()
        client.session = self.session
        self._client_cache = (token, client)
        return client

    def _call(self, fn: Callable[[tweepy.Client], T], *, create: bool) -> T:
        """Run ``fn`` with a client; OAuth 2.0: on 401, refresh once (unless someone else did) and retry once."""
        token = self._tokens.access_token() if self._tokens is not None else None
        try:
            return _translate(lambda: fn(self._client(token)), create=create)
        except AuthFailed as exc:
            if self._tokens is None or exc.http_status != 401:
                raise
        # A 401 means the request was not accepted, so repeating it with a fresh token cannot post twice.
        fresh = self._tokens.refresh(stale=token)
        return _translate(lambda: fn(self._client(fresh)), create=create)

    def _user(self) -> str:
        with self._user_lock:
            if self._user_id is None:
                body = self._call(lambda c: c.get_me(user_auth=self._oauth1 is not None), create=False)
                user_id = (body.get("data") or {}).get("id") if isinstance(body, dict) else None
                if not user_id:
                    raise Transient("X /2/users/me answered without a user id")
                self._user_id = str(user_id)
            return self._user_id


def _raise_for_status(response: requests.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset")
        raise tweepy.TooManyRequests(response, reset_time=int(reset) if reset and reset.isdigit() else None)
    cls = {400: tweepy.BadRequest, 401: tweepy.Unauthorized, 403: tweepy.Forbidden, 404: tweepy.NotFound}.get(status)
    if cls is None:
        cls = tweepy.TwitterServerError if status >= 500 else tweepy.HTTPException
    raise cls(response)


def _translate(call: Callable[[], T], *, create: bool) -> T:
    """Run ``call``; turn tweepy and requests failures into exactly one ``PublishError``."""
    try:
        return call()
    except tweepy.HTTPException as exc:
        raise _http_error(exc, create=create) from exc
    except (requests.RequestException, ValueError) as exc:
        raise transport_error(exc, network=NETWORK, create=create) from exc


def _http_error(exc: tweepy.HTTPException, *, create: bool) -> PublishError:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    detail, ptype = _problem(response)
    words = detail or "; ".join(str(m) for m in exc.api_messages) or f"HTTP {status}"
    code = exc.api_codes[0] if exc.api_codes else None
    if isinstance(exc, tweepy.TooManyRequests):
        return RateLimited(f"X rate limit reached ({words})", reset_at=_reset_at(response), http_status=status, code=code)
    if isinstance(exc, tweepy.Unauthorized):
        return AuthFailed(f"X refused the account's credentials ({words}); reconnect the X account", http_status=status, code=code)
    if isinstance(exc, tweepy.Forbidden):
        if "duplicate" in words.lower():
            return Rejected("X rejected it as a duplicate of an earlier post", http_status=status, code=code or "duplicate")
        if "not permitted" in words.lower():
            return Rejected(
                "X did not permit the post (too long for this account, or the app lacks write access)", http_status=status, code=code
            )
        if ptype.endswith(("client-forbidden", "not-authorized-for-resource")):
            return AuthFailed(f"X forbids this app or account from posting ({words})", http_status=status, code=code)
        return Rejected(f"X refused the post: {words}", http_status=status, code=code)
    if isinstance(exc, tweepy.TwitterServerError):
        return Transient(f"X server error (HTTP {status}); nothing was accepted", http_status=status, code=code)
    if isinstance(exc, (tweepy.BadRequest, tweepy.NotFound)):
        return Rejected(f"X refused the request as invalid: {words}", http_status=status, code=code)
    return Rejected(f"X refused the request (HTTP {status}): {words}", http_status=status, code=code)


def _problem(response: Any) -> tuple[str, str]:
    try:
        body = response.json()
    except (ValueError, AttributeError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("detail") or ""), str(body.get("type") or "")


def _reset_at(response: Any) -> datetime | None:
    """When to retry: the latest reset among the spent limits (15-minute window, 24-hour user/app caps)."""
    headers = getattr(response, "headers", {}) or {}
    resets = []
    for prefix in ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"):
        reset, remaining = headers.get(f"{prefix}-reset"), headers.get(f"{prefix}-remaining")
        if reset and reset.isdigit() and remaining == "0":
            resets.append(int(reset))
    if not resets and (reset := headers.get("x-rate-limit-reset")) and reset.isdigit():
        resets.append(int(reset))
    return datetime.fromtimestamp(max(resets), UTC) if resets else None


def _match_key(text: str) -> str:
    return normalise_for_match(unicodedata.normalize("NFC", html.unescape(text)))


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
