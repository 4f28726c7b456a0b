"""A fake X API v2 speaking the real request and error shapes (see ../shared/design/PLATFORMS.md §1).

Endpoints: ``POST /2/tweets``, ``POST /2/media/upload`` (multipart ``media`` + ``media_category``),
``POST /2/media/metadata``, ``GET /2/users/me``, ``GET /2/users/:id/tweets``, ``POST /2/oauth2/token``
(refresh_token grant with single-use rotating refresh tokens). Authentication: OAuth 1.0a user context (HMAC-SHA1
signatures are verified) or an OAuth 2.0 bearer token the fake issued (or was seeded with).

Standalone: ``python -m tests.fakes.x_api --port 0 --state-file F`` prints the port and serves until SIGTERM.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature, utils
from twitter_text import parse_tweet

from tests.fakes.server import FakeServer, Fault, Request, Response, standalone

CONSUMER_KEY = "fake-consumer-key"
CONSUMER_SECRET = "fake-consumer-s3cr3t-value"
ACCESS_TOKEN = "1000-fake-access-token"
ACCESS_TOKEN_SECRET = "fake-access-token-s3cr3t-value"
CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-s3cr3t-value"
REFRESH_TOKEN = "fake-initial-refresh-token-0"
USER_ID = "1000"
USERNAME = "campaign_org"

CREATE_KEYS = frozenset(
    {"text", "media", "reply", "quote_tweet_id", "poll", "reply_settings", "made_with_ai", "paid_partnership", "community_id",
     "direct_message_deep_link", "for_super_followers_only", "geo", "nullcast", "card_uri", "share_with_followers"}
)  # fmt: skip
MEDIA_CATEGORIES = frozenset({"tweet_image", "tweet_gif", "tweet_video", "dm_image", "dm_gif", "dm_video", "subtitles"})
_URL = re.compile(r"https?://\S+")


def problem(status: int, title: str, detail: str, ptype: str = "about:blank") -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": ptype, "status": status}


UNAUTHORIZED = problem(401, "Unauthorized", "Unauthorized")
DUPLICATE = problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
NOT_PERMITTED = problem(403, "Forbidden", "You are not permitted to perform this action.")
TOO_MANY = problem(429, "Too Many Requests", "Too Many Requests")


class FakeX(FakeServer):
    name = "x"

    def __init__(self, *, access_token_ttl: float = 7200.0, client_secret: str | None = CLIENT_SECRET, **kw: Any) -> None:
        self.media: dict[str, dict[str, Any]] = {}  # media id -> {bytes, category, alt, size}
        self.refresh_tokens: dict[str, bool] = {REFRESH_TOKEN: True}  # token -> still usable
        self.access_tokens: dict[str, float] = {}  # token -> expiry (unix time)
        self.refreshes = 0
        self.access_token_ttl = access_token_ttl
        self.client_secret = client_secret
        self._next_id = 1880000000000000000
        super().__init__(**kw)

    # --- state -------------------------------------------------------------------------------------------------------
    def replay(self, event: dict[str, Any]) -> None:
        super().replay(event)
        if event.get("type") == "post":
            self._next_id = max(self._next_id, int(event["post"]["id"]) + 1)
        elif event.get("type") == "refresh":
            self.refresh_tokens[event["spent"]] = False
            self.refresh_tokens[event["refresh_token"]] = True
            self.access_tokens[event["access_token"]] = event["expires"]
            self.refreshes += 1

    def new_id(self) -> str:
        with self.lock:
            self._next_id += 1
            return str(self._next_id)

    def issue_access_token(self, ttl: float | None = None) -> str:
        """A valid OAuth 2.0 user access token (tests seed one without going through refresh)."""
        token = "at-" + secrets.token_urlsafe(16)
        with self.lock:
            self.access_tokens[token] = time.time() + (self.access_token_ttl if ttl is None else ttl)
        return token

    def texts(self) -> list[str]:
        with self.lock:
            return [p["text"] for p in self.posts]

    # --- faults ------------------------------------------------------------------------------------------------------
    def rate_limit(self, *, reset_in: int = 900, path: str = "/2/tweets$", times: int = 1, user_24h_reset_in: int | None = None) -> Fault:
        """The next ``times`` requests to ``path`` get the real 429 with the rate-limit headers."""
        now = int(time.time())
        headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(now + reset_in)}
        if user_24h_reset_in is not None:
            headers = {
                "x-rate-limit-limit": "100", "x-rate-limit-remaining": "99", "x-rate-limit-reset": str(now + 900),
                "x-user-limit-24hour-limit": "17", "x-user-limit-24hour-remaining": "0",
                "x-user-limit-24hour-reset": str(now + user_24h_reset_in),
            }  # fmt: skip
        return self.add_fault("status", path=path, times=times, status=429, body=TOO_MANY, headers=headers)

    def server_error(self, status: int = 503, *, path: str = "/2/tweets$", times: int = 1) -> Fault:
        return self.add_fault("status", path=path, times=times, status=status, body="<html><body>Service Unavailable</body></html>")

    def unauthorized(self, *, path: str = "/2/tweets$", times: int = 1) -> Fault:
        return self.add_fault("status", path=path, times=times, status=401, body=UNAUTHORIZED)

    def admin_fault(self, spec: dict[str, Any]) -> None:
        """Extra kinds over HTTP: ``{"kind": "rate_limit", "reset_in": 60}``, ``{"kind": "unauthorized"}``."""
        kind = spec.pop("kind")
        if kind == "rate_limit":
            self.rate_limit(**spec)
        elif kind == "unauthorized":
            self.unauthorized(**spec)
        else:
            super().admin_fault({"kind": kind, **spec})

    # --- auth --------------------------------------------------------------------------------------------------------
    def auth_ok(self, req: Request) -> bool:
        auth = req.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            with self.lock:
                expiry = self.access_tokens.get(auth[7:])
            return expiry is not None and expiry > time.time()
        if auth.startswith("OAuth "):
            try:
                params = dict(utils.parse_authorization_header(auth))
            except ValueError:
                return False
            if params.get("oauth_consumer_key") != CONSUMER_KEY or params.get("oauth_token") != ACCESS_TOKEN:
                return False
            form_body = req.body.decode() if req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded") else ""
            oreq = OAuthRequest(f"http://{req.headers.get('host', '')}{req.path}", req.method, form_body, req.headers)
            oreq.params = signature.collect_parameters(uri_query=req.raw_query, body=form_body or None, headers={"Authorization": auth}, exclude_oauth_signature=True)
            oreq.signature = utils.unescape(params.get("oauth_signature", ""))
            return signature.verify_hmac_sha1(oreq, CONSUMER_SECRET, ACCESS_TOKEN_SECRET)
        return False

    def summarise(self, req: Request) -> str:
        if req.path == "/2/tweets" and req.method == "POST":
            try:
                return f"text={req.json().get('text', '')[:80]!r}"
            except ValueError:
                return "unparseable"
        if req.path == "/2/oauth2/token":
            return "token request"  # never record the token itself
        return f"{len(req.body)} bytes"

    # --- routes ------------------------------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.path == "/2/oauth2/token" and req.method == "POST":
            return self.token(req)
        if not self.auth_ok(req):
            return Response(401, UNAUTHORIZED)
        if req.path == "/2/tweets" and req.method == "POST":
            return self.create(req)
        if req.path == "/2/media/upload" and req.method == "POST":
            return self.upload(req)
        if req.path == "/2/media/metadata" and req.method == "POST":
            return self.metadata(req)
        if req.path == "/2/users/me" and req.method == "GET":
            return Response(200, {"data": {"id": USER_ID, "name": "Campaign Org", "username": USERNAME}})
        m = re.fullmatch(r"/2/users/(\d+)/tweets", req.path)
        if m and req.method == "GET":
            return self.timeline(m.group(1), req)
        return Response(404, problem(404, "Not Found Error", f"no route {req.method} {req.path}", "https://api.x.com/2/problems/resource-not-found"))

    def create(self, req: Request) -> Response:
        try:
            body = req.json()
        except ValueError:
            return Response(400, problem(400, "Invalid Request", "Request body is not valid JSON.", "https://api.x.com/2/problems/invalid-request"))
        if not isinstance(body, dict):
            return Response(400, problem(400, "Invalid Request", "Request body must be an object.", "https://api.x.com/2/problems/invalid-request"))
        unknown = sorted(set(body) - CREATE_KEYS)
        if unknown:
            return Response(400, {"errors": [{"message": f"#: extraneous key [{k}] is not permitted"} for k in unknown], "title": "Invalid Request",
                                  "detail": "One or more parameters to your request was invalid.", "type": "https://api.x.com/2/problems/invalid-request"})  # fmt: skip
        text = body.get("text", "")
        media_ids = list((body.get("media") or {}).get("media_ids") or [])
        if not text and not media_ids:
            return Response(400, problem(400, "Invalid Request", "One or more parameters to your request was invalid.", "https://api.x.com/2/problems/invalid-request"))
        with self.lock:
            if any(mid not in self.media for mid in media_ids) or len(media_ids) > 4:
                return Response(400, problem(400, "Invalid Request", "Your media IDs are invalid.", "https://api.x.com/2/problems/invalid-request"))
            if parse_tweet(text).weightedLength > 280:
                return Response(403, NOT_PERMITTED)
            if any(p["sent_text"] == text for p in self.posts):
                return Response(403, DUPLICATE)
            post_id = self.new_id()
            stored = _URL.sub(lambda m: "https://t.co/" + hashlib.sha1(m.group(0).encode()).hexdigest()[:10], text)
            if media_ids:
                stored = (stored + " https://t.co/" + post_id[-10:]).strip()
            post = {
                "id": post_id, "text": stored, "sent_text": text, "media_ids": media_ids,
                "media": [{k: v for k, v in self.media[m].items() if k != "bytes"} for m in media_ids],
                "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "author_id": USER_ID,
            }  # fmt: skip
            self.record_post(post)
        return Response(201, {"data": {"id": post_id, "text": stored, "edit_history_tweet_ids": [post_id]}})

    def upload(self, req: Request) -> Response:
        if not req.headers.get("content-type", "").startswith("multipart/form-data"):
            return Response(400, problem(400, "Invalid Request", "media and media_category are required.", "https://api.x.com/2/problems/invalid-request"))
        form = req.form()
        media, category = form.get("media"), form.get("media_category")
        if media is None or not category:
            return Response(400, problem(400, "Invalid Request", "media and media_category are required.", "https://api.x.com/2/problems/invalid-request"))
        if category not in MEDIA_CATEGORIES:
            return Response(400, problem(400, "Invalid Request", f"media_category {category!r} is invalid.", "https://api.x.com/2/problems/invalid-request"))
        data = media[1] if isinstance(media, tuple) else media.encode()
        if len(data) > 5 * 1024 * 1024:
            return Response(400, problem(400, "Invalid Request", "File size exceeds 5242880 bytes.", "https://api.x.com/2/problems/invalid-request"))
        media_id = self.new_id()
        with self.lock:
            self.media[media_id] = {"bytes": data, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "category": category, "alt": None}
        return Response(200, {"data": {"id": media_id, "media_key": f"3_{media_id}", "size": len(data), "expires_after_secs": 86400}})

    def metadata(self, req: Request) -> Response:
        try:
            body = req.json()
            media_id, alt = body["id"], body["metadata"]["alt_text"]["text"]
        except (ValueError, KeyError, TypeError):
            return Response(400, problem(400, "Invalid Request", "One or more parameters to your request was invalid.", "https://api.x.com/2/problems/invalid-request"))
        if len(alt) > 1000:
            return Response(400, problem(400, "Invalid Request", "alt_text.text must be at most 1000 characters.", "https://api.x.com/2/problems/invalid-request"))
        with self.lock:
            if media_id not in self.media:
                return Response(400, problem(400, "Invalid Request", "Your media IDs are invalid.", "https://api.x.com/2/problems/invalid-request"))
            self.media[media_id]["alt"] = alt
        return Response(200, {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": alt}}}})

    def timeline(self, user_id: str, req: Request) -> Response:
        max_results = int(req.query.get("max_results", ["10"])[-1])
        if not 5 <= max_results <= 100:
            return Response(400, problem(400, "Invalid Request", "max_results must be between 5 and 100.", "https://api.x.com/2/problems/invalid-request"))
        fields = set(",".join(req.query.get("tweet.fields", [""])).split(","))
        start_raw = req.query.get("start_time", [""])[-1]
        try:
            start = datetime.fromisoformat(start_raw.replace("Z", "+00:00")) if start_raw else None
        except ValueError:
            return Response(400, problem(400, "Invalid Request", f"start_time {start_raw!r} is not RFC 3339.", "https://api.x.com/2/problems/invalid-request"))
        with self.lock:
            posts = [p for p in self.posts if p["author_id"] == user_id and (start is None or _parse(p["created_at"]) >= start)]
        posts = posts[::-1][:max_results]
        if not posts:
            return Response(200, {"meta": {"result_count": 0}})
        data = [{"id": p["id"], "text": p["text"], "edit_history_tweet_ids": [p["id"]], **({"created_at": p["created_at"]} if "created_at" in fields else {})} for p in posts]
        return Response(200, {"data": data, "meta": {"result_count": len(data), "newest_id": data[0]["id"], "oldest_id": data[-1]["id"]}})

    def token(self, req: Request) -> Response:
        form = req.form()
        invalid = Response(400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."})
        auth = req.headers.get("authorization", "")
        if self.client_secret is not None:
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{self.client_secret}".encode()).decode()
            if auth != expected:
                return Response(401, {"error": "unauthorized_client", "error_description": "Missing valid authorization header"})
        elif form.get("client_id") != CLIENT_ID:
            return Response(400, {"error": "invalid_request", "error_description": "Missing required parameter [client_id]."})
        if form.get("grant_type") != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type", "error_description": "Only refresh_token is supported by this fake."})
        spent = form.get("refresh_token", "")
        with self.lock:
            if not self.refresh_tokens.get(spent):
                return invalid
            self.refresh_tokens[spent] = False
            access = "at-" + secrets.token_urlsafe(16)
            refresh = "rt-" + secrets.token_urlsafe(16)
            expires = time.time() + self.access_token_ttl
            self.refresh_tokens[refresh] = True
            self.access_tokens[access] = expires
            self.refreshes += 1
            self.persist({"type": "refresh", "spent": spent, "refresh_token": refresh, "access_token": access, "expires": expires})
        return Response(200, {"token_type": "bearer", "expires_in": int(self.access_token_ttl), "access_token": access,
                              "scope": "tweet.write users.read tweet.read media.write offline.access", "refresh_token": refresh})  # fmt: skip


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def main() -> None:
    standalone(FakeX, "Fake X API v2 for tests and benchmarks.")


if __name__ == "__main__":
    main()
