"""The Bluesky publisher: the ``atproto`` package's ``Client`` (unpatched), pointed at ``settings.bluesky_pds_url``.

Session: see :mod:`.bluesky_session` (stored encrypted, refreshed, login only when the refresh JWT is dead).
Posts: ``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` with link and hashtag facets (UTF-8 byte
offsets), images uploaded with ``uploadBlob`` (alt text, aspectRatio; re-encoded under 1,000,000 bytes) or else a
link card (``app.bsky.embed.external``) for the first link. The record key is a TID derived from the delivery, so a
retried create can never make a second post; a PDS answers a repeated record key with 500, so after any 5xx or
timeout on the create the record is read back (``getRecord``): present -> success, absent -> ``Transient`` (safe: the
retry reuses the key), unreadable -> ``OutcomeUnknown``.

Errors: 429 -> ``RateLimited`` (``ratelimit-reset``); 401/403 or ExpiredToken that a refresh cannot fix ->
``AuthFailed``; 400 InvalidRequest -> ``Rejected``; connection refused -> ``Transient``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from atproto import Client  # type: ignore[import-untyped]
from atproto_client import exceptions as at  # type: ignore[import-untyped]
from atproto_client.request import Request  # type: ignore[import-untyped]
from sqlalchemy.engine import Engine

from social_campaign.config import Settings
from social_campaign.errors import AuthFailed, OutcomeUnknown, PublishError, RateLimited, Rejected, Transient
from social_campaign.publishers import bluesky_text as bt
from social_campaign.publishers.base import Media, OutgoingPost, Publisher, PublishResult, normalise_for_match
from social_campaign.publishers.bluesky_session import BlueskySession

T = TypeVar("T")
COLLECTION = "app.bsky.feed.post"
_AUTH_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"})


class BlueskyPublisher(Publisher):
    """Posts to the organisation's Bluesky account. Thread-safe (httpx client, session under a lock)."""

    name = "bluesky"

    def __init__(self, *, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.client = Client(base_url=settings.bluesky_pds_url, request=Request(timeout=settings.request_timeout))
        self.session = BlueskySession(settings=settings, engine=engine, call=self._session_call)

    # --- the contract ------------------------------------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> PublishResult:
        rkey = self.rkey(post)
        embed = self._images(post.media) if post.media else self._card(post.text)
        record: dict[str, Any] = {"$type": COLLECTION, "text": post.text,
                                  "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}  # fmt: skip
        if facets := bt.facets(post.text):
            record["facets"] = facets
        if embed:
            record["embed"] = embed
        summary = f"POST com.atproto.repo.createRecord rkey={rkey} text={len(post.text)} chars" + (
            f" embed={embed['$type']}" if embed else ""
        )

        def create(headers: dict[str, str], did: str) -> Any:
            data = {"repo": did, "collection": COLLECTION, "rkey": rkey, "record": record}
            return self.client.com.atproto.repo.create_record(data, headers=headers)

        try:
            answer = self._authed(create)
        except (Transient, OutcomeUnknown) as exc:
            if exc.code != "after-create":
                raise
            return self._resolve(post, rkey, exc)
        return self._result(str(answer.uri), rkey, 200, summary)

    def find_recent(self, post: OutgoingPost, since: datetime) -> PublishResult | None:
        rkey = self.rkey(post)
        found = self._get(rkey)
        if found is None:
            return None
        return self._result(found[0], rkey, 200, f"GET com.atproto.repo.getRecord rkey={rkey}")

    def close(self) -> None:
        self.client.request.close()

    @staticmethod
    def rkey(post: OutgoingPost) -> str:
        return bt.record_key(post.idempotency_key or f"delivery/{post.delivery_id}")

    # --- embeds ------------------------------------------------------------------------------------------------------
    def _images(self, media: tuple[Media, ...]) -> dict[str, Any]:
        images = []
        for m in media[:4]:
            try:
                raw = m.path.read_bytes()
            except OSError as exc:
                raise Rejected(f"media file {m.path} cannot be read ({exc.strerror or type(exc).__name__})") from exc
            data, mime, width, height = bt.fit_image(raw, m.mime_type)

            def upload(headers: dict[str, str], did: str, data: bytes = data, mime: str = mime) -> Any:
                return self.client.com.atproto.repo.upload_blob(data, headers={**headers, "Content-Type": mime})

            blob = self._authed(upload, create=False).blob
            images.append({"alt": m.alt[:2000], "image": blob.model_dump(mode="json", by_alias=True),
                           "aspectRatio": {"width": width, "height": height}})  # fmt: skip
        return {"$type": "app.bsky.embed.images", "images": images}

    @staticmethod
    def _card(text: str) -> dict[str, Any] | None:
        found = bt.links(text)
        if not found:
            return None
        words = normalise_for_match(text)
        title = (words.splitlines()[0] if words else found[0])[:300]
        return {
            "$type": "app.bsky.embed.external",
            "external": {"uri": found[0], "title": title, "description": words[:1000]},
        }

    # --- reading back ------------------------------------------------------------------------------------------------
    def _get(self, rkey: str) -> tuple[str, dict[str, Any]] | None:
        def read(headers: dict[str, str], did: str) -> Any:
            return self.client.com.atproto.repo.get_record(
                {"repo": did, "collection": COLLECTION, "rkey": rkey}, headers=headers
            )

        try:
            answer = self._authed(read, create=False)
        except Rejected as exc:
            if exc.code == "RecordNotFound":
                return None
            raise
        value = answer.value
        return str(answer.uri), value if isinstance(value, dict) else value.model_dump(by_alias=True)

    def _resolve(self, post: OutgoingPost, rkey: str, cause: PublishError) -> PublishResult:
        try:
            found = self._get(rkey)
        except PublishError as exc:
            raise OutcomeUnknown(f"Bluesky create got no clear answer ({cause.reason}) and the record could not be read ({exc.reason})",
                                 http_status=cause.http_status) from None  # fmt: skip
        if found is None:
            raise Transient(f"Bluesky did not create the post ({cause.reason}); a retry reuses the same record key",
                            http_status=cause.http_status) from None  # fmt: skip
        if found[1].get("text") != post.text:
            raise Rejected(f"Bluesky record key {rkey} already holds a different post", code="rkey-collision")
        return self._result(
            found[0], rkey, cause.http_status, f"GET com.atproto.repo.getRecord rkey={rkey} (after: {cause.reason})"
        )

    def _result(self, uri: str, rkey: str, status: int | None, summary: str) -> PublishResult:
        did = uri.removeprefix("at://").split("/", 1)[0]
        return PublishResult(
            remote_id=uri,
            url=f"https://bsky.app/profile/{did}/post/{rkey}",
            http_status=status,
            request_summary=summary,
        )

    # --- auth and errors ---------------------------------------------------------------------------------------------
    def _authed(self, fn: Callable[[dict[str, str], str], T], *, create: bool = True) -> T:
        """Run ``fn`` with the session; on an auth error, renew the session once and retry (nothing was accepted)."""
        access, did = self.session.current()
        try:
            return _translate(lambda: fn({"Authorization": f"Bearer {access}"}, did), create=create)
        except AuthFailed:
            pass
        access, did = self.session.renew(stale=access)
        return _translate(lambda: fn({"Authorization": f"Bearer {access}"}, did), create=create)

    def _session_call(self, kind: str, refresh_jwt: str | None) -> dict[str, Any]:
        server = self.client.com.atproto.server
        if kind == "refresh":
            answer: Any = _translate(
                lambda: server.refresh_session(headers={"Authorization": f"Bearer {refresh_jwt}"}), create=False
            )
        else:
            password = (
                self.settings.bluesky_app_password.get_secret_value() if self.settings.bluesky_app_password else ""
            )
            answer = _translate(
                lambda: server.create_session({"identifier": self.settings.bluesky_handle or "", "password": password}),
                create=False,
            )
        return {"accessJwt": answer.access_jwt, "refreshJwt": answer.refresh_jwt, "did": answer.did}


def _translate(call: Callable[[], T], *, create: bool) -> T:
    """Run ``call``; turn atproto/httpx failures into exactly one ``PublishError`` (code ``after-create`` when the
    create request may have been accepted)."""
    try:
        return call()
    except at.RequestErrorBase as exc:
        raise _error(exc, create=create) from None
    except (httpx.HTTPError, ValueError) as exc:
        raise Transient(f"Bluesky request failed ({type(exc).__name__})") from None


def _error(exc: at.RequestErrorBase, *, create: bool) -> PublishError:
    response = exc.response
    if response is None:  # no answer: connection refused, timeout, reset
        cause = exc.__cause__
        never_sent = isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout))
        words = "timed out" if isinstance(exc, at.InvokeTimeoutError) else f"connection failed ({type(cause).__name__})"
        code = "after-create" if create and not never_sent else None
        return (
            Transient(f"Bluesky {words}", code=code) if code is None else OutcomeUnknown(f"Bluesky {words}", code=code)
        )
    status = response.status_code
    content = response.content
    error = str(getattr(content, "error", "") or "")
    message = str(getattr(content, "message", "") or "") or error or f"HTTP {status}"
    if status == 429:
        reset = response.headers.get("ratelimit-reset") or response.headers.get("RateLimit-Reset")
        reset_at = datetime.fromtimestamp(int(reset), UTC) if reset and reset.isdigit() else None
        return RateLimited(
            f"Bluesky rate limit reached ({message})", reset_at=reset_at, http_status=429, code=error or None
        )
    if status in (401, 403) or error in _AUTH_ERRORS:
        return AuthFailed(
            f"Bluesky refused the account's session ({message}); reconnect the Bluesky account",
            http_status=status,
            code=error or None,
        )
    if status == 413:
        return Rejected("Bluesky refused the upload as too large", http_status=status, code="too-large")
    if status >= 500:
        code = "after-create" if create else None
        return Transient(f"Bluesky server error (HTTP {status})", http_status=status, code=code)
    if error == "RecordNotFound":
        return Rejected("Bluesky has no such record", http_status=status, code=error)
    return Rejected(f"Bluesky refused the post as invalid: {message}", http_status=status, code=error or None)
