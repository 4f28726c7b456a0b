"""A fake Facebook Graph API for one Page, speaking the real request and error shapes (PLATFORMS.md §2).

Endpoints: ``POST /{version}/{page-id}/feed`` (form: message, link, attached_media[n], access_token),
``POST /{version}/{page-id}/photos`` (multipart ``source`` file or ``url``; caption, alt_text_custom, published),
``GET /{version}/{page-id}/feed`` (fields, limit, since). Errors use the real envelope
``{"error":{"message","type","code","error_subcode","fbtrace_id"}}``. A message posted twice gets code 506.

Standalone: ``python -m tests.fakes.graph_api --port 0 --state-file F`` prints the port and serves until SIGTERM.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from tests.fakes.server import FakeServer, Fault, Request, Response, standalone

PAGE_ID = "104000000000001"
PAGE_TOKEN = "EAAfakepagetoken0123456789"

#: code -> (HTTP status, message, type) as the real Graph API answers them.
ERRORS: dict[int, tuple[int, str, str]] = {
    1: (500, "An unknown error has occurred.", "OAuthException"),
    2: (503, "An unexpected error has occurred. Please retry your request later.", "OAuthException"),
    4: (403, "(#4) Application request limit reached", "OAuthException"),
    10: (403, "(#10) Application does not have permission for this action", "OAuthException"),
    17: (403, "(#17) User request limit reached", "OAuthException"),
    32: (403, "(#32) Page request limit reached", "OAuthException"),
    100: (400, "(#100) Invalid parameter", "OAuthException"),
    190: (400, "Error validating access token: Session has expired.", "OAuthException"),
    200: (403, "(#200) The user hasn't authorized the application to perform this action", "OAuthException"),
    368: (400, "It looks like you were misusing this feature by going too fast. You've been temporarily blocked from using it.", "OAuthException"),
    506: (400, "(#506) Duplicate status message", "OAuthException"),
    613: (400, "(#613) Calls to this api have exceeded the rate limit.", "OAuthException"),
    80001: (400, "(#80001) There have been too many calls to this Page account. Wait a bit and try again.", "OAuthException"),
}


def graph_error(code: int, subcode: int | None = None, message: str | None = None) -> Response:
    status, default_message, etype = ERRORS.get(code, (400, f"(#{code}) Error", "OAuthException"))
    error: dict[str, Any] = {"message": message or default_message, "type": etype, "code": code, "fbtrace_id": "A" + secrets.token_hex(5)}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Response(status, {"error": error})


class FakeGraph(FakeServer):
    name = "facebook"

    def __init__(self, **kw: Any) -> None:
        self.photos: dict[str, dict[str, Any]] = {}  # photo id -> {bytes, caption, alt, published}
        self._next = 500000000000000
        super().__init__(**kw)

    def replay(self, event: dict[str, Any]) -> None:
        super().replay(event)
        if event.get("type") == "post":
            self._next = max(self._next, int(event["post"]["id"].split("_")[1]) + 1)

    def new_id(self) -> str:
        with self.lock:
            self._next += 1
            return str(self._next)

    def messages(self) -> list[str]:
        with self.lock:
            return [p["message"] for p in self.posts]

    # --- faults ------------------------------------------------------------------------------------------------------
    def error_fault(self, code: int, *, subcode: int | None = None, path: str = r"/(feed|photos)$", method: str = "POST", times: int = 1,
                    headers: dict[str, str] | None = None) -> Fault:  # fmt: skip
        """The next ``times`` matching requests answer Graph error ``code`` (with its realistic HTTP status)."""
        resp = graph_error(code, subcode)
        return self.add_fault("status", path=path, method=method, times=times, status=resp.status, body=resp.body, headers=headers or {})

    def admin_fault(self, spec: dict[str, Any]) -> None:
        """Extra kind over HTTP: ``{"kind": "graph_error", "code": 17, "subcode": null, "times": 1}``."""
        kind = spec.pop("kind")
        if kind == "graph_error":
            self.error_fault(int(spec.pop("code")), **spec)
        else:
            super().admin_fault({"kind": kind, **spec})

    # --- routes ------------------------------------------------------------------------------------------------------
    def summarise(self, req: Request) -> str:
        if req.method == "POST":
            try:
                form = req.form()
            except Exception:
                return "unparseable"
            text = form.get("message") or form.get("caption") or ""
            return f"message={str(text)[:80]!r}" + (" +source" if "source" in form else "")
        return f"{req.method} {req.path}"

    def handle(self, req: Request) -> Response:
        m = re.fullmatch(r"/(v\d+\.\d+)/([^/]+)/(feed|photos)", req.path)
        if not m:
            return graph_error(100, message=f"Unknown path components: {req.path}")
        form = req.form() if req.method == "POST" else {}
        token = form.get("access_token") or req.query.get("access_token", [""])[-1]
        if not token:
            return graph_error(2500, message="An active access token must be used to query information about the current user.")
        if token != PAGE_TOKEN:
            return graph_error(190, message="Invalid OAuth access token - Cannot parse access token")
        if m.group(2) != PAGE_ID:
            return graph_error(100, message=f"(#100) Unsupported post request. Object with ID '{m.group(2)}' does not exist")
        if req.method == "GET" and m.group(3) == "feed":
            return self.feed(req)
        if req.method == "POST" and m.group(3) == "feed":
            return self.create_feed(form)
        if req.method == "POST" and m.group(3) == "photos":
            return self.create_photo(form)
        return graph_error(100, message=f"Unsupported {req.method} request.")

    def _duplicate(self, message: str) -> bool:
        return bool(message) and any(p["message"] == message for p in self.posts)

    def create_feed(self, form: dict[str, Any]) -> Response:
        message, link = form.get("message", ""), form.get("link")
        attached = [json.loads(v)["media_fbid"] for k, v in sorted(form.items()) if k.startswith("attached_media[")]
        if not message and not link and not attached:
            return graph_error(100, message="(#100) Missing message or attachment")
        with self.lock:
            if any(a not in self.photos or self.photos[a]["published"] for a in attached):
                return graph_error(100, message="(#100) attached_media: photo is not an unpublished photo of this Page")
            if self._duplicate(message):
                return graph_error(506)
            post_id = f"{PAGE_ID}_{self.new_id()}"
            photos = [{k: v for k, v in self.photos[a].items() if k != "bytes"} for a in attached]
            self.record_post({"id": post_id, "message": message, "link": link, "photos": photos, "created_time": _now()})
        return Response(200, {"id": post_id})

    def create_photo(self, form: dict[str, Any]) -> Response:
        source, url = form.get("source"), form.get("url")
        if (source is None) == (url is None):
            return graph_error(100, message="(#100) Exactly one of source or url is required")
        data = source[1] if isinstance(source, tuple) else b""
        if len(data) > 10 * 1024 * 1024:
            return graph_error(100, message="(#100) Photo is larger than 10 MB")
        caption = form.get("caption", "")
        published = form.get("published", "true").lower() not in ("false", "0")
        with self.lock:
            if published and self._duplicate(caption):
                return graph_error(506)
            photo_id = self.new_id()
            photo = {"id": photo_id, "bytes": data, "size": len(data), "url": url, "caption": caption,
                     "alt": form.get("alt_text_custom"), "published": published}  # fmt: skip
            self.photos[photo_id] = photo
            if not published:
                return Response(200, {"id": photo_id})
            post_id = f"{PAGE_ID}_{self.new_id()}"
            meta = {k: v for k, v in photo.items() if k != "bytes"}
            self.record_post({"id": post_id, "message": caption, "link": None, "photos": [meta], "created_time": _now()})
        return Response(200, {"id": photo_id, "post_id": post_id})

    def feed(self, req: Request) -> Response:
        fields = set(",".join(req.query.get("fields", ["message,created_time"])).split(","))
        limit = int(req.query.get("limit", ["25"])[-1])
        since = req.query.get("since", [""])[-1]
        with self.lock:
            posts = list(self.posts)
        if since:
            cutoff = datetime.fromtimestamp(int(since), UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
            posts = [p for p in posts if p["created_time"] >= cutoff]
        data = [{"id": p["id"], **{f: p[f] for f in ("message", "created_time") if f in fields and p.get(f)}} for p in posts[::-1][:limit]]
        return Response(200, {"data": data, "paging": {"cursors": {"before": "b", "after": "a"}}})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def main() -> None:
    standalone(FakeGraph, "Fake Facebook Graph API for tests and benchmarks.")


if __name__ == "__main__":
    main()
