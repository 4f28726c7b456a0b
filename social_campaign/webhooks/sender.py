"""One signed webhook POST (Standard Webhooks): the headers, kept-alive connections, a bounded wait and read.

Headers: ``webhook-id`` (the event id, the same on every attempt), ``webhook-timestamp`` (this attempt, Unix seconds)
and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, made by the ``standardwebhooks``
package). Only a 2xx answer counts as delivered; redirects are not followed. The receiver gets ``timeout`` seconds to
connect and ``timeout`` per read of its answer, and at most :data:`MAX_BODY` bytes of its body are read, within
:data:`BODY_DEADLINE_FACTOR` times ``timeout`` in all; a receiver that answers slowly, with garbage or not at all is a
failure (:class:`Result` with ``error``), never an exception.
"""

from __future__ import annotations

import base64
import http.client
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from standardwebhooks import Webhook

from social_campaign import __version__

MAX_BODY = 64 * 1024
BODY_DEADLINE_FACTOR = 2.0
USER_AGENT = f"social-campaign-webhooks/{__version__}"


@dataclass(frozen=True)
class Result:
    ok: bool
    status: int | None = None
    error: str | None = None


@lru_cache(maxsize=64)
def signer(secret: str) -> Webhook:
    return Webhook(secret)


def headers(secret: str, event_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt at ``at``."""
    at = at.astimezone(UTC).replace(microsecond=0)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signer(secret).sign(event_id, at, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class Sender:
    """Keep-alive connections per endpoint and per sending thread (a pool of ``pool`` threads shares no connection).

    The stdlib ``http.client`` is used directly: on this project's 2-core test machine ``requests`` tops out near
    500 POSTs/s in a plain loop, below the 1,000 events/s target (see docs/PERFORMANCE.md). TLS is verified with the
    system's default context; a connection the receiver closed while idle is reopened once.
    """

    def __init__(self, timeout: float, pool: int = 8) -> None:
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[http.client.HTTPConnection] = []
        self._tls = ssl.create_default_context()

    def _conn(self, scheme: str, host: str, port: int | None, fresh: bool = False) -> http.client.HTTPConnection:
        conns: dict[tuple[str, str, int | None], http.client.HTTPConnection] = self._local.__dict__.setdefault("conns", {})
        key = (scheme, host, port)
        conn = conns.get(key)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            if scheme == "https":
                conn = http.client.HTTPSConnection(host, port, timeout=self.timeout, context=self._tls)
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
            conns[key] = conn
            with self._lock:
                self._open.append(conn)
        return conn

    def post(self, url: str, secret: str, event_id: str, body: str, at: datetime) -> Result:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return Result(False, error="the endpoint URL is not http(s)")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = headers(secret, event_id, body, at)
        if parts.username is not None:
            token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            head["authorization"] = "Basic " + base64.b64encode(token).decode()
        data = body.encode()
        for again in (False, True):
            conn = self._conn(parts.scheme, parts.hostname, parts.port, fresh=again)
            reused = conn.sock is not None
            try:
                conn.request("POST", target, body=data, headers=head)
                response = conn.getresponse()
                text, complete = self._read(response)
                if complete and not response.will_close:
                    response.close()  # the connection stays open for the next request
                else:
                    conn.close()  # the body was not read to its end (or the receiver closes): not reusable
                break
            except TimeoutError:
                conn.close()
                return Result(False, error=f"no answer within {self.timeout:g} s")
            except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as exc:
                conn.close()
                if reused and not again:  # the receiver closed the idle keep-alive connection: once more, fresh
                    continue
                return Result(False, error=_short(exc))
            except (OSError, http.client.HTTPException, ValueError) as exc:  # refused, garbage, TLS, bad host
                conn.close()
                return Result(False, error=_short(exc))
        if 200 <= response.status < 300:
            return Result(True, response.status)
        return Result(False, response.status, f"HTTP {response.status}: {printable(text)}")

    def _read(self, response: http.client.HTTPResponse) -> tuple[str, bool]:
        """Up to MAX_BODY bytes of the answer within the body deadline, decoded for an error line, and whether the
        body was read to its end."""
        deadline = time.monotonic() + self.timeout * BODY_DEADLINE_FACTOR
        got = bytearray()
        while chunk := response.read1(8192):  # returns what has arrived: a trickling body cannot hold it
            got += chunk
            if len(got) > MAX_BODY or time.monotonic() > deadline:
                return bytes(got[:MAX_BODY]).decode(errors="replace"), False
        return bytes(got).decode(errors="replace"), True

    def close(self) -> None:
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            conn.close()


def _short(exc: BaseException) -> str:
    text = printable(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def printable(text: str, limit: int = 200) -> str:
    """One line of at most ``limit`` printable characters (a receiver's garbage may hold NUL bytes and the like)."""
    return "".join(c if c.isprintable() else "?" for c in " ".join(text.split()))[:limit]
