"""A small threaded HTTP server base for the fake platform APIs (X, Graph).

Each fake is a real HTTP/1.1 server on 127.0.0.1 (random port by default) that the real client libraries talk to.
What a fake does is observable and controllable both in-process (attributes and methods) and from another process
through admin endpoints under ``/_fake/``:

``GET  /_fake/posts``     every post created, oldest first (JSON list)
``GET  /_fake/requests``  every request received: method, path, auth kind and a summary
``POST /_fake/faults``    program a fault (JSON object or list, fields of :class:`Fault`, plus each fake's own
                          kinds such as X ``rate_limit`` or Graph ``graph_error``); ``DELETE /_fake/faults`` clears
``POST /_fake/latency``   ``{"ms": 100}``: sleep that long before answering every request

Faults apply to the next ``times`` matching requests (``times=-1``: until cleared):

* ``status``  answer ``status`` with ``body``/``headers`` before doing anything (the request is *not* accepted)
* ``hang``    accept the request (store the post), then wait ``seconds`` (default: until the server stops)
* ``reset``   accept the request, then reset the TCP connection without answering
* ``drop``    reset the connection *without* accepting (as a crashed load balancer would)

With ``state_file`` set, created posts and other durable state are appended to a JSON-lines file and replayed on
start, so a fake restarted on the same file remembers what it was sent.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from dataclasses import asdict, dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Fault:
    kind: str  # status | hang | reset | drop
    path: str = ""  # regular expression searched in the request path; "" matches every path
    method: str = ""  # "" matches every method
    times: int = 1  # how many matching requests it applies to; -1 for all
    status: int = 500
    body: Any = None  # dict/list (sent as JSON) or str (sent as text/html)
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 3600.0

    def matches(self, method: str, path: str) -> bool:
        return self.times != 0 and (not self.method or self.method == method) and (not self.path or re.search(self.path, path) is not None)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    raw_query: str = ""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, Any]:
        """Form fields of an urlencoded or multipart body (multipart files come back as ``(filename, bytes, type)``)."""
        ctype = self.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self.body)
            out: dict[str, Any] = {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                filename = part.get_filename()
                out[str(name)] = (filename, payload, part.get_content_type()) if filename else payload.decode()
            return out
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class _Hang(Exception):
    pass


class FakeServer:
    """Base class: subclasses implement :meth:`handle` and may use :meth:`record_post` / :meth:`persist`."""

    name = "fake"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, state_file: Path | str | None = None) -> None:
        self.lock = threading.RLock()
        self.posts: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.latency_ms = 0.0
        self.state_file = Path(state_file) if state_file else None
        self._stop = threading.Event()
        self._host, self._port = host, port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        if self.state_file and self.state_file.exists():
            for line in self.state_file.read_text().splitlines():
                if line.strip():
                    self.replay(json.loads(line))

    # --- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> FakeServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._stop.clear()
        self._httpd = _QuietServer((self._host, self._port), handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # type: ignore[attr-defined]
        self._port = self._httpd.server_address[1]  # keep the port across stop/start (refused-connection tests)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    # --- control ---------------------------------------------------------------------------------------------------
    def add_fault(self, kind: str, **kw: Any) -> Fault:
        fault = Fault(kind=kind, **kw)
        with self.lock:
            self.faults.append(fault)
        return fault

    def hang_after_accept(self, path: str = "", *, times: int = 1, seconds: float = 3600.0, method: str = "POST") -> Fault:
        """Store what the next matching request creates, then answer only after ``seconds`` (or never)."""
        return self.add_fault("hang", path=path, times=times, seconds=seconds, method=method)

    def reset_after_accept(self, path: str = "", *, times: int = 1, method: str = "POST") -> Fault:
        """Store what the next matching request creates, then reset the connection without answering."""
        return self.add_fault("reset", path=path, times=times, method=method)

    def admin_fault(self, spec: dict[str, Any]) -> None:
        """A fault programmed through ``POST /_fake/faults``; subclasses add their own kinds."""
        self.add_fault(**spec)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.times > 0:
                        fault.times -= 1
                    return fault
        return None

    def requests_to(self, path_regex: str, method: str = "POST") -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["method"] == method and re.search(path_regex, r["path"])]

    # --- durable state ---------------------------------------------------------------------------------------------
    def persist(self, event: dict[str, Any]) -> None:
        """Append one state event to the state file (called with the lock held)."""
        if self.state_file is not None:
            with self.state_file.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(event, sort_keys=True) + "\n")

    def replay(self, event: dict[str, Any]) -> None:
        """Apply one event read back from the state file; subclasses extend it for their own events."""
        if event.get("type") == "post":
            self.posts.append(event["post"])

    def record_post(self, post: dict[str, Any]) -> None:
        with self.lock:
            self.posts.append(post)
            self.persist({"type": "post", "post": post})

    # --- to implement ------------------------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        raise NotImplementedError

    def summarise(self, req: Request) -> str:
        return f"{len(req.body)} bytes"

    def auth_kind(self, req: Request) -> str:
        auth = req.headers.get("authorization", "")
        return auth.split(" ", 1)[0] if auth else "none"

    def fault_response(self, fault: Fault) -> Response:
        return Response(fault.status, fault.body, dict(fault.headers))

    # --- admin -------------------------------------------------------------------------------------------------------
    def admin(self, req: Request) -> Response:
        tail = req.path.removeprefix("/_fake/")
        with self.lock:
            if tail == "posts" and req.method == "GET":
                return Response(200, list(self.posts))
            if tail == "requests" and req.method == "GET":
                return Response(200, list(self.requests))
            if tail == "faults" and req.method == "POST":
                spec = req.json()
                try:
                    for one in spec if isinstance(spec, list) else [spec]:
                        self.admin_fault(dict(one))
                except (TypeError, ValueError, KeyError) as exc:
                    return Response(400, {"error": f"bad fault spec: {exc}"})
                return Response(200, [asdict(f) for f in self.faults])
            if tail == "faults" and req.method == "DELETE":
                self.faults.clear()
                return Response(200, [])
            if tail == "latency" and req.method == "POST":
                self.latency_ms = float(req.json().get("ms", 0))
                return Response(200, {"ms": self.latency_ms})
        return Response(404, {"error": f"no admin endpoint {req.method} {req.path}"})

    # --- dispatch ----------------------------------------------------------------------------------------------------
    def dispatch(self, handler: _Handler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        req = Request(method, parts.path, parse_qs(parts.query, keep_blank_values=True), {k.lower(): v for k, v in handler.headers.items()}, body, parts.query)
        if req.path.startswith("/_fake/"):
            handler.reply(self.admin(req))
            return
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        fault = self._take_fault(method, req.path)
        with self.lock:
            self.requests.append(
                {"method": method, "path": req.path, "auth": self.auth_kind(req), "summary": self.summarise(req), "fault": fault.kind if fault else None}
            )
        if fault is not None and fault.kind == "status":
            handler.reply(self.fault_response(fault))
            return
        if fault is not None and fault.kind == "drop":
            handler.reset()
            return
        response = self.handle(req)
        if fault is not None and fault.kind == "reset":
            handler.reset()
            return
        if fault is not None and fault.kind == "hang":
            if self._stop.wait(fault.seconds):
                handler.reset()
                return
        handler.reply(response)


class _QuietServer(ThreadingHTTPServer):
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out or a connection we reset on purpose is not worth a traceback on stderr."""


class _Handler(BaseHTTPRequestHandler):
    fake: FakeServer
    protocol_version = "HTTP/1.1"
    server_version = "fake"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between headers and body

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.fake.dispatch(self, "GET")

    def do_POST(self) -> None:
        self.fake.dispatch(self, "POST")

    def do_DELETE(self) -> None:
        self.fake.dispatch(self, "DELETE")

    def reply(self, response: Response) -> None:
        if isinstance(response.body, (dict, list)):
            data = json.dumps(response.body).encode()
            ctype = "application/json; charset=UTF-8"
        else:
            data = (response.body or "").encode()
            ctype = "text/html; charset=utf-8"
        headers = {"Content-Type": ctype, **response.headers}
        self.send_response(response.status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def reset(self) -> None:
        """Close the socket with a TCP reset and no answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass


def standalone(cls: type[FakeServer], description: str) -> None:
    """A fake's command line: ``python -m tests.fakes.<name> [--port 0] [--state-file F] [--latency-ms N]``."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-file", default=None)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    fake = cls(host=args.host, port=args.port, state_file=args.state_file)
    fake.latency_ms = args.latency_ms
    serve_main(fake)


def serve_main(fake: FakeServer) -> None:
    """Run ``fake`` in the foreground (standalone mode): print the port on one line, serve until SIGTERM/SIGINT."""
    import signal
    import sys

    fake.start()
    sys.stdout.write(f"{fake.port}\n")
    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    fake.stop()
