"""A fake Mastodon server speaking the real request and error shapes (see ../shared/design/PLATFORMS.md).

Endpoints: ``GET /api/v1/accounts/verify_credentials``, ``GET /api/v2/instance``, ``POST /api/v2/media`` (202, then
processed after ``media_polls`` polls of ``GET /api/v1/media/:id``; ``media_polls=0`` answers 200 with a url),
``POST /api/v1/statuses`` (``Idempotency-Key``: the same key within an hour returns the same status, nothing new is
created), ``GET /api/v1/accounts/:id/statuses``. Authentication: ``Authorization: Bearer ACCESS_TOKEN``.

Faults (``server.py``): ``status`` (429 with ``X-RateLimit-Reset``, 401, 422, 500 …), ``hang``, ``reset``, ``drop``.
Steering: ``POST /_fake/faults`` as for every fake, plus ``{"kind": "media_polls", "times": N}``.

Standalone: ``python -m tests.fakes.mastodon_api --port 0 --state-file F`` prints the port and serves until SIGTERM.
"""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.server import FakeServer, Request, Response, standalone

ACCESS_TOKEN = "fake-mastodon-access-t0ken-value"
ACCOUNT_ID = "109000000000000001"
USERNAME = "campaign_org"
MAX_CHARACTERS = 500
UNAUTHORIZED = {"error": "The access token is invalid"}
_URL = re.compile(r"https?://\S+")
_TAG = re.compile(r"(?<!\w)#(\w+)")
_MENTION = re.compile(r"(?<![\w/])@(\w+)@([\w.-]+\w)")


def rate_limit_headers(reset: datetime) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    }


def to_html(text: str, host: str) -> str:
    """Status text rendered as Mastodon renders it: paragraphs, ``<br />``, shortened links, hashtag links."""

    def link(m: re.Match[str]) -> str:
        url = m.group(0)
        scheme, rest = url.split("://", 1)
        shown, hidden = rest[:30], rest[30:]
        return (f'<a href="{html.escape(url)}" rel="nofollow noopener" translate="no" target="_blank"><span class="invisible">'
                f'{scheme}://</span><span class="{"ellipsis" if hidden else ""}">{html.escape(shown)}</span>'
                f'<span class="invisible">{html.escape(hidden)}</span></a>')  # fmt: skip

    def line(s: str) -> str:
        out, last = [], 0
        for m in _URL.finditer(s):
            out.append(_tags(html.escape(s[last : m.start()]), host))
            out.append(link(m))
            last = m.end()
        out.append(_tags(html.escape(s[last:]), host))
        return "".join(out)

    paragraphs = [p for p in re.split(r"\n{2,}", text.strip()) if p]
    return "".join("<p>" + "<br />".join(line(s) for s in p.split("\n")) + "</p>" for p in paragraphs)


def _tags(escaped: str, host: str) -> str:
    """Hashtags and remote mentions as Mastodon links (a mention shows only ``@user``, without the server)."""
    escaped = _MENTION.sub(
        lambda m: (
            f'<span class="h-card" translate="no"><a href="https://{m.group(2)}/@{m.group(1)}" class="u-url mention">'
            f"@<span>{m.group(1)}</span></a></span>"
        ),
        escaped,
    )
    return _TAG.sub(
        lambda m: (
            f'<a href="{host}/tags/{m.group(1)}" class="mention hashtag" rel="tag">#<span>{m.group(1)}</span></a>'
        ),
        escaped,
    )


class FakeMastodon(FakeServer):
    name = "mastodon"

    def __init__(self, *, media_polls: int = 1, **kw: Any) -> None:
        self.media: dict[str, dict[str, Any]] = {}  # id -> {description, size, polls_left, type}
        self.idempotency: dict[str, tuple[float, str]] = {}  # key -> (time, status id)
        self.media_polls = media_polls
        self.instance_reads = 0
        self._next_id = 110000000000000000
        super().__init__(**kw)

    def replay(self, event: dict[str, Any]) -> None:
        super().replay(event)
        if event.get("type") == "post":
            post = event["post"]
            self._next_id = max(self._next_id, int(post["id"]) + 1)
            if post.get("idempotency_key"):
                self.idempotency[post["idempotency_key"]] = (post["created_unix"], post["id"])

    def new_id(self) -> str:
        with self.lock:
            self._next_id += 1
            return str(self._next_id)

    def admin_fault(self, spec: dict[str, Any]) -> None:
        if spec.get("kind") == "media_polls":
            self.media_polls = int(spec.get("times", 1))
            return
        super().admin_fault(spec)

    def texts(self) -> list[str]:
        with self.lock:
            return [p["text"] for p in self.posts]

    # --- dispatch ----------------------------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        path, method = req.path, req.method
        if method == "GET" and path == "/api/v2/instance":
            with self.lock:
                self.instance_reads += 1
            return Response(200, self.instance())
        if req.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return Response(401, UNAUTHORIZED)
        if method == "GET" and path == "/api/v1/accounts/verify_credentials":
            return Response(200, self.account())
        if method == "POST" and path == "/api/v2/media":
            return self.upload(req)
        if method == "GET" and (m := re.fullmatch(r"/api/v1/media/(\d+)", path)):
            return self.get_media(m.group(1))
        if method == "POST" and path == "/api/v1/statuses":
            return self.create(req)
        if method == "GET" and (m := re.fullmatch(r"/api/v1/accounts/(\d+)/statuses", path)):
            return self.timeline(m.group(1), req)
        return Response(404, {"error": "Record not found"})

    def instance(self) -> dict[str, Any]:
        return {
            "domain": "127.0.0.1", "title": "Fake Mastodon", "version": "4.3.0",
            "configuration": {
                "statuses": {"max_characters": MAX_CHARACTERS, "max_media_attachments": 4, "characters_reserved_per_url": 23},
                "media_attachments": {"supported_mime_types": ["image/png", "image/jpeg", "image/gif", "image/webp"],
                                      "image_size_limit": 16777216, "description_limit": 1500},
            },
        }  # fmt: skip

    def account(self) -> dict[str, Any]:
        return {"id": ACCOUNT_ID, "username": USERNAME, "acct": USERNAME, "display_name": "Campaign Org", "url": f"{self.url}/@{USERNAME}",
                "created_at": "2024-01-01T00:00:00.000Z", "note": "", "followers_count": 0, "following_count": 0, "statuses_count": len(self.posts)}  # fmt: skip

    def attachment(self, media_id: str) -> dict[str, Any]:
        m = self.media[media_id]
        ready = m["polls_left"] <= 0
        return {"id": media_id, "type": "image", "url": f"{self.url}/media/{media_id}.png" if ready else None,
                "preview_url": f"{self.url}/media/{media_id}_small.png", "description": m["description"], "blurhash": None, "meta": {}}  # fmt: skip

    def upload(self, req: Request) -> Response:
        form = req.form()
        file = form.get("file")
        if not isinstance(file, tuple):
            return Response(422, {"error": "Validation failed: File can't be blank"})
        description = form.get("description")
        if isinstance(description, str) and len(description) > 1500:
            return Response(422, {"error": "Validation failed: Description is too long (maximum is 1500 characters)"})
        media_id = self.new_id()
        with self.lock:
            self.media[media_id] = {
                "description": description,
                "size": len(file[1]),
                "type": file[2],
                "polls_left": self.media_polls,
            }
            return Response(202 if self.media_polls > 0 else 200, self.attachment(media_id))

    def get_media(self, media_id: str) -> Response:
        with self.lock:
            if media_id not in self.media:
                return Response(404, {"error": "Record not found"})
            self.media[media_id]["polls_left"] -= 1
            body = self.attachment(media_id)
        return Response(206 if body["url"] is None else 200, body)

    def create(self, req: Request) -> Response:
        ctype = req.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            body = req.json()
            media_ids = [str(i) for i in body.get("media_ids") or []]
        else:
            body = req.form()
            fields = parse_qs(req.body.decode(), keep_blank_values=True)
            media_ids = fields.get("media_ids[]", []) + fields.get("media_ids", [])
        key = req.headers.get("idempotency-key", "")
        text = str(body.get("status") or "")
        with self.lock:
            if key and key in self.idempotency and time.time() - self.idempotency[key][0] < 3600:
                existing = next(p for p in self.posts if p["id"] == self.idempotency[key][1])
                return Response(200, self.status(existing))
            if not text and not media_ids:
                return Response(422, {"error": "Validation failed: Text can't be blank"})
            if len(_URL.sub("x" * 23, text)) > MAX_CHARACTERS:
                return Response(422, {"error": f"Validation failed: Text character limit of {MAX_CHARACTERS} exceeded"})
            if any(m not in self.media for m in media_ids) or len(media_ids) > 4:
                return Response(422, {"error": "Validation failed: Media attachments are invalid"})
            now = time.time()
            post_id = self.new_id()
            post: dict[str, Any] = {"id": post_id, "text": text, "content": to_html(text, self.url), "media_ids": media_ids,
                    "media": [dict(self.media[m]) for m in media_ids], "idempotency_key": key, "created_unix": now,
                    "created_at": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}  # fmt: skip
            self.record_post(post)
            if key:
                self.idempotency[key] = (now, post_id)
            return Response(200, self.status(post))

    def status(self, post: dict[str, Any]) -> dict[str, Any]:
        return {"id": post["id"], "created_at": post["created_at"], "content": post["content"], "visibility": "public",
                "url": f"{self.url}/@{USERNAME}/{post['id']}", "uri": f"{self.url}/users/{USERNAME}/statuses/{post['id']}",
                "account": self.account(), "media_attachments": [self.attachment(m) for m in post["media_ids"] if m in self.media],
                "reblog": None, "sensitive": False, "spoiler_text": "", "mentions": [], "tags": [], "emojis": []}  # fmt: skip

    def timeline(self, account_id: str, req: Request) -> Response:
        limit = min(int(req.query.get("limit", ["20"])[-1]), 40)
        if account_id != ACCOUNT_ID:
            return Response(404, {"error": "Record not found"})
        with self.lock:
            return Response(200, [self.status(p) for p in self.posts[::-1][:limit]])


def main() -> None:
    standalone(FakeMastodon, "Fake Mastodon API for tests and benchmarks.")


if __name__ == "__main__":
    main()
