"""A fake Bluesky PDS speaking the real XRPC request and error shapes (``{"error": …, "message": …}``).

Endpoints (under ``/xrpc/``): ``com.atproto.server.createSession`` / ``refreshSession`` / ``getSession``,
``com.atproto.repo.uploadBlob`` / ``createRecord`` / ``getRecord`` / ``listRecords``. Access and refresh JWTs are
JWT-shaped (``exp`` claim) and checked; a refresh spends the refresh JWT. A repeated record key on createRecord
answers 500 InternalServerError, as the real PDS does. ``/_fake/sessions`` counts createSession and refreshSession
calls so a test can prove there is no login per post. Faults (``/_fake/faults``): ``rate_limit`` (429 with
``ratelimit-reset``), ``unauthorized`` (401), plus the shared ``status``/``hang``/``reset``/``drop``.

Standalone: ``python -m tests.fakes.bluesky_pds --port 0 --state-file F`` prints the port and serves until SIGTERM.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from tests.fakes.server import FakeServer, Fault, Request, Response, standalone

HANDLE = "campaign.example.org"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
DID = "did:plc:fakecampaign0000000000"
MAX_BLOB = 1_000_000


def xrpc_error(status: int, error: str, message: str) -> Response:
    return Response(status, {"error": error, "message": message})


def _jwt(scope: str, ttl: float) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    claims = {"scope": scope, "sub": DID, "exp": int(time.time() + ttl), "jti": secrets.token_hex(8)}
    return f"{part({'typ': 'JWT', 'alg': 'HS256'})}.{part(claims)}.{secrets.token_urlsafe(16)}"


class FakeBlueskyPDS(FakeServer):
    name = "bluesky"

    def __init__(self, *, access_ttl: float = 7200.0, **kw: Any) -> None:
        self.access: dict[str, float] = {}  # access JWT -> expiry
        self.refresh: dict[str, bool] = {}  # refresh JWT -> still usable
        self.blobs: dict[str, dict[str, Any]] = {}  # cid -> {size, mime, sha256}
        self.logins = 0
        self.refreshes = 0
        self.access_ttl = access_ttl
        super().__init__(**kw)

    # --- observation / control --------------------------------------------------------------------------------------
    def record(self, rkey: str) -> dict[str, Any] | None:
        with self.lock:
            return next((p for p in self.posts if p["rkey"] == rkey), None)

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access = dict.fromkeys(self.access, 0.0)

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.refresh = dict.fromkeys(self.refresh, False)

    def rate_limit(self, *, reset_in: int = 300, path: str = "createRecord$", times: int = 1) -> Fault:
        reset = str(int(time.time()) + reset_in)
        headers = {
            "ratelimit-limit": "5000",
            "ratelimit-remaining": "0",
            "ratelimit-reset": reset,
            "ratelimit-policy": "5000;w=3600",
        }
        return self.add_fault("status", path=path, times=times, status=429, headers=headers,
                              body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"})  # fmt: skip

    def unauthorized(self, *, path: str = "createRecord$", times: int = 1) -> Fault:
        return self.add_fault(
            "status",
            path=path,
            times=times,
            status=401,
            body={"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
        )

    def server_error(self, status: int = 500, *, path: str = "createRecord$", times: int = 1) -> Fault:
        return self.add_fault(
            "status",
            path=path,
            times=times,
            status=status,
            body={"error": "InternalServerError", "message": "Internal Server Error"},
        )

    def admin_fault(self, spec: dict[str, Any]) -> None:
        kind = spec.pop("kind")
        if kind == "rate_limit":
            self.rate_limit(**spec)
        elif kind == "unauthorized":
            self.unauthorized(**spec)
        else:
            super().admin_fault({"kind": kind, **spec})

    def admin(self, req: Request) -> Response:
        if req.path == "/_fake/sessions" and req.method == "GET":
            with self.lock:
                return Response(200, {"createSession": self.logins, "refreshSession": self.refreshes})
        return super().admin(req)

    def summarise(self, req: Request) -> str:
        if req.path.endswith("createSession") or req.path.endswith("refreshSession"):
            return "session request"  # never record credentials
        if req.path.endswith("createRecord"):
            try:
                return f"rkey={req.json().get('rkey')}"
            except ValueError:
                return "unparseable"
        return f"{len(req.body)} bytes"

    # --- routes ------------------------------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        nsid = req.path.removeprefix("/xrpc/")
        if nsid == "com.atproto.server.createSession" and req.method == "POST":
            return self.create_session(req)
        if nsid == "com.atproto.server.refreshSession" and req.method == "POST":
            return self.refresh_session(req)
        auth = self.check_access(req)
        if auth is not None:
            return auth
        routes = {
            ("GET", "com.atproto.server.getSession"): lambda: Response(
                200, {"handle": HANDLE, "did": DID, "active": True}
            ),
            ("POST", "com.atproto.repo.uploadBlob"): lambda: self.upload_blob(req),
            ("POST", "com.atproto.repo.createRecord"): lambda: self.create_record(req),
            ("GET", "com.atproto.repo.getRecord"): lambda: self.get_record(req),
            ("GET", "com.atproto.repo.listRecords"): lambda: self.list_records(req),
        }
        route = routes.get((req.method, nsid))
        return route() if route else xrpc_error(501, "MethodNotImplemented", f"Method Not Implemented: {nsid}")

    def issue(self) -> dict[str, Any]:
        access, refresh = _jwt("com.atproto.access", self.access_ttl), _jwt("com.atproto.refresh", 90 * 86400)
        self.access[access] = time.time() + self.access_ttl
        self.refresh[refresh] = True
        return {"accessJwt": access, "refreshJwt": refresh, "handle": HANDLE, "did": DID, "active": True}

    def create_session(self, req: Request) -> Response:
        body = req.json() or {}
        with self.lock:
            self.logins += 1
            if body.get("identifier") not in (HANDLE, DID) or body.get("password") != APP_PASSWORD:
                return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
            return Response(200, self.issue())

    def refresh_session(self, req: Request) -> Response:
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            self.refreshes += 1
            if token in self.access:
                return xrpc_error(400, "InvalidToken", "Invalid token type")
            if not self.refresh.get(token):
                return xrpc_error(400, "ExpiredToken", "Token has been revoked")
            self.refresh[token] = False
            return Response(200, self.issue())

    def check_access(self, req: Request) -> Response | None:
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            expiry = self.access.get(token)
        if expiry is None:
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        if expiry <= time.time():
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        return None

    def upload_blob(self, req: Request) -> Response:
        mime = req.headers.get("content-type", "")
        if len(req.body) > MAX_BLOB:
            return xrpc_error(
                400,
                "BlobTooLarge",
                f"This file is too large. It is {len(req.body)} bytes but the maximum size is {MAX_BLOB} bytes.",
            )
        cid = "bafkrei" + hashlib.sha256(req.body).hexdigest()[:52]
        with self.lock:
            self.blobs[cid] = {"size": len(req.body), "mimeType": mime, "sha256": hashlib.sha256(req.body).hexdigest()}
        return Response(
            200, {"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(req.body)}}
        )

    def create_record(self, req: Request) -> Response:
        try:
            body = req.json()
            repo, collection, rkey, record = body["repo"], body["collection"], body.get("rkey"), body["record"]
        except (ValueError, KeyError, TypeError):
            return xrpc_error(400, "InvalidRequest", 'Input must have the property "record"')
        if repo not in (DID, HANDLE):
            return xrpc_error(400, "InvalidRequest", "Could not find repo")
        if not isinstance(record.get("text"), str) or len(record["text"].encode()) > 3000 or "createdAt" not in record:
            return xrpc_error(
                400,
                "InvalidRequest",
                "Invalid app.bsky.feed.post record: Record/text must not be longer than 3000 graphemes",
            )
        rkey = rkey or secrets.token_hex(6)
        with self.lock:
            for image in (record.get("embed") or {}).get("images") or []:
                if image.get("image", {}).get("ref", {}).get("$link") not in self.blobs:
                    return xrpc_error(400, "InvalidRequest", "Could not find blob")
            if any(p["rkey"] == rkey and p["collection"] == collection for p in self.posts):
                return xrpc_error(500, "InternalServerError", "Internal Server Error")
            uri = f"at://{DID}/{collection}/{rkey}"
            cid = "bafyrei" + hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:52]
            self.record_post({"uri": uri, "cid": cid, "rkey": rkey, "collection": collection, "value": record,
                              "indexedAt": datetime.now(UTC).isoformat()})  # fmt: skip
        return Response(200, {"uri": uri, "cid": cid, "commit": {"cid": cid, "rev": rkey}, "validationStatus": "valid"})

    def get_record(self, req: Request) -> Response:
        rkey = req.query.get("rkey", [""])[-1]
        collection = req.query.get("collection", [""])[-1]
        with self.lock:
            found = next((p for p in self.posts if p["rkey"] == rkey and p["collection"] == collection), None)
        if found is None:
            return xrpc_error(400, "RecordNotFound", f"Could not locate record: at://{DID}/{collection}/{rkey}")
        return Response(200, {"uri": found["uri"], "cid": found["cid"], "value": found["value"]})

    def list_records(self, req: Request) -> Response:
        collection = req.query.get("collection", [""])[-1]
        limit = int(req.query.get("limit", ["50"])[-1])
        with self.lock:
            rows = [p for p in self.posts if p["collection"] == collection][::-1][:limit]
        return Response(200, {"records": [{"uri": p["uri"], "cid": p["cid"], "value": p["value"]} for p in rows]})


def main() -> None:
    standalone(FakeBlueskyPDS, "Fake Bluesky PDS for tests and benchmarks.")


if __name__ == "__main__":
    main()
