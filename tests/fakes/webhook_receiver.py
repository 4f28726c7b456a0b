"""A webhook receiver on 127.0.0.1 (real HTTP/1.1, keep-alive, one thread per connection) that records every request.

In-process: ``Receiver().start()``; ``received`` lists every request (``id``, ``timestamp``, ``signature``, ``body``,
``headers``, ``answered``: the status it answered, or None). Faults apply to the next ``times`` requests, in order:

* ``status``   answer ``status`` (e.g. 500) with a short body
* ``hang``     wait ``seconds`` before answering 200 (a client with a shorter timeout gives up first)
* ``garbage``  answer bytes that are not HTTP, then close
* ``trickle``  answer 200 with a 1 MB Content-Length, then one byte every 0.2 s (a body that never ends)
* ``huge``     answer 200 with a 5 MB body

Standalone (benchmarks, other processes): ``python -m tests.fakes.webhook_receiver --port 0`` prints the port;
``GET /_stats`` answers ``{"requests": n, "unique": ids}``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    kind: str
    times: int = 1
    status: int = 500
    seconds: float = 5.0


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out and connections closed on purpose are not worth a traceback."""


class Receiver:
    def __init__(self, port: int = 0, *, keep_bodies: bool = True) -> None:
        self.port = port
        self.keep_bodies = keep_bodies
        self.lock = threading.Lock()
        self.received: list[dict[str, Any]] = []
        self.count = 0
        self.ids: set[str] = set()
        self.faults: list[Fault] = []
        self._stop = threading.Event()
        self._httpd: _Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        handler = type("H", (_Handler,), {"receiver": self})
        self._httpd = _Server(("127.0.0.1", self.port), handler)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def fault(self, kind: str, **kw: Any) -> None:
        with self.lock:
            self.faults.append(Fault(kind, **kw))

    def _take(self) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.times != 0:
                    f.times -= 1
                    return f
        return None

    def record(self, item: dict[str, Any]) -> None:
        with self.lock:
            self.count += 1
            self.ids.add(item["id"])
            if self.keep_bodies:
                self.received.append(item)

    def ok_ids(self) -> list[str]:
        with self.lock:
            return [r["id"] for r in self.received if r["answered"] and 200 <= r["answered"] < 300]


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        with self.receiver.lock:
            data = json.dumps({"requests": self.receiver.count, "unique": len(self.receiver.ids)}).encode()
        self._answer(200, data, "application/json")

    def do_POST(self) -> None:
        rec = self.receiver
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(body) < length:  # the sender died mid-request: nothing to answer, nothing received
            self.close_connection = True
            return
        fault = rec._take()
        item = {"id": self.headers.get("webhook-id", ""), "timestamp": self.headers.get("webhook-timestamp"),
                "signature": self.headers.get("webhook-signature"), "body": body.decode(errors="replace"),
                "headers": {k.lower(): v for k, v in self.headers.items()}, "answered": None, "fault": fault and fault.kind}
        rec.record(item)
        if fault is None:
            item["answered"] = 204
            self._answer(204, b"", None)
        elif fault.kind == "status":
            item["answered"] = fault.status
            self._answer(fault.status, b"<html>receiver error</html>", "text/html")
        elif fault.kind == "hang":
            if not rec._stop.wait(fault.seconds):
                item["answered"] = 200
                self._answer(200, b"late", "text/plain")
        elif fault.kind == "garbage":
            self.wfile.write(b"\x00\x01 this is not HTTP at all \xff\xfe\r\n\r\n")
            self.close_connection = True
        elif fault.kind == "trickle":
            self.send_response(200)
            self.send_header("Content-Length", str(1_000_000))
            self.end_headers()
            item["answered"] = 200
            self.close_connection = True
            try:
                while not rec._stop.wait(0.2):
                    self.wfile.write(b"x")
                    self.wfile.flush()
            except OSError:
                pass
        elif fault.kind == "huge":
            item["answered"] = 200
            self._answer(200, b"y" * 5_000_000, "text/plain")

    def _answer(self, status: int, data: bytes, ctype: str | None) -> None:
        try:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up
            self.close_connection = True


def main() -> None:
    import argparse
    import signal
    import sys

    parser = argparse.ArgumentParser(description="A recording webhook receiver on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    rec = Receiver(args.port, keep_bodies=False).start()
    sys.stdout.write(f"{rec.port}\n")
    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    rec.stop()


if __name__ == "__main__":
    main()
