"""SMTP servers for tests and benchmarks, on 127.0.0.1 random ports.

* :func:`smtp_server` (pytest fixture): a real aiosmtpd ``Controller`` in this process that collects every accepted
  message (:class:`Collected`) and counts connections; optional AUTH (``smtp_server.require_auth(user, password)``).
* ``python -m tests.fakes.smtp --port 0 --out DIR``: a small asyncio SMTP sink in its own process, for kill -9 tests
  and the fan-out benchmark. It writes the bound port to ``DIR/port`` (atomically) and appends one line per event to
  ``DIR/log``: ``C`` per connection, ``M<TAB>recipient<TAB>message-id`` per accepted message (flushed at once, so
  another process can read it while the sink runs). Like any SMTP server it accepts a message only at the final
  ``.`` of DATA: a client that disconnects mid-DATA has sent nothing. Recipients starting with ``reject-`` get a
  550. :func:`read_sink_log` parses the log; :func:`sink_process` runs the sink for a test or benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Collected:
    """One message the in-process server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data)


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Collected] = field(default_factory=list)
    connections: int = 0
    credentials: tuple[str, str] | None = None
    reject: dict[str, int] = field(default_factory=dict)  # recipient -> SMTP code to answer RCPT with
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, user: str | None = None, password: str | None = None) -> str:
        auth = f"{user}:{password}@" if user else ""
        return f"smtp://{auth}{self.host}:{self.port}"

    def require_auth(self, user: str, password: str) -> None:
        self.credentials = (user, password)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        code = self.server.reject.get(address)
        if code:
            return f"{code} {'temporarily' if code < 500 else 'permanently'} refused"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.server.lock:
            self.server.messages.append(Collected(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real aiosmtpd server on 127.0.0.1 (random port) collecting messages and counting connections."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, AuthResult

    state = SmtpServer(host="127.0.0.1", port=0)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = state.credentials is not None and (
            auth_data.login.decode(), auth_data.password.decode()
        ) == state.credentials
        return AuthResult(success=ok, handled=False)

    class CountingSMTP(SMTP):
        def connection_made(self, transport: Any) -> None:
            with state.lock:
                state.connections += 1
            super().connection_made(transport)

    class CountingController(Controller):
        def factory(self) -> SMTP:
            return CountingSMTP(
                self.handler, authenticator=authenticator, auth_require_tls=False, auth_required=False,
                hostname="fake-smtp",
            )

    state.port = _free_port()  # aiosmtpd's start-up self-check cannot use port 0
    controller = CountingController(_Handler(state), hostname="127.0.0.1", port=state.port)
    controller.start()
    try:
        yield state
    finally:
        controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the sink process ---------------------------------------------------------------------------------------------


@dataclass
class SinkLog:
    connections: int
    per_recipient: Counter[str]
    message_ids: list[str]

    @property
    def total(self) -> int:
        return sum(self.per_recipient.values())


def read_sink_log(out: Path) -> SinkLog:
    """Parse ``out/log`` written by the sink process (complete lines only)."""
    per: Counter[str] = Counter()
    ids: list[str] = []
    conns = 0
    path = out / "log"
    text = path.read_text() if path.exists() else ""
    for line in text.split("\n")[:-1] if not text.endswith("\n") else text.splitlines():
        if line == "C":
            conns += 1
        elif line.startswith("M\t"):
            _, rcpt, mid = line.split("\t", 2)
            per[rcpt] += 1
            ids.append(mid)
    return SinkLog(conns, per, ids)


@contextmanager
def sink_process(out: Path) -> Iterator[str]:
    """Run ``python -m tests.fakes.smtp`` writing to ``out``; yields its ``smtp://127.0.0.1:PORT`` URL."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.smtp", "--port", "0", "--out", str(out)], cwd=root,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (out / "port").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the SMTP sink did not start")
            time.sleep(0.05)
        yield f"smtp://127.0.0.1:{(out / 'port').read_text()}"
    finally:
        proc.terminate()
        proc.wait(10)


class _Sink:
    def __init__(self, log: Any) -> None:
        self.log = log

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.log.write("C\n")
        self.log.flush()
        rcpts: list[str] = []
        try:
            writer.write(b"220 sink ESMTP\r\n")
            while True:
                line = await reader.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 33554432\r\n")
                elif verb == b"HELO":
                    writer.write(b"250 sink\r\n")
                elif verb == b"MAIL":
                    rcpts = []
                    writer.write(b"250 OK\r\n")
                elif verb == b"RCPT":
                    addr = line.split(b":", 1)[1].strip().split(b" ")[0].strip(b"<>").decode()
                    if addr.startswith("reject-"):  # test hook: a recipient the server refuses for good
                        writer.write(b"550 5.1.1 No such user\r\n")
                    else:
                        rcpts.append(addr)
                        writer.write(b"250 OK\r\n")
                elif verb == b"DATA" and not rcpts:
                    writer.write(b"503 5.5.1 No valid recipients\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    await writer.drain()
                    mid = ""
                    in_headers = True
                    while True:
                        data_line = await reader.readline()
                        if not data_line or not data_line.endswith(b"\n"):
                            return  # disconnected mid-DATA: nothing was accepted
                        if data_line == b".\r\n":
                            break
                        if in_headers:
                            if data_line in (b"\r\n", b"\n"):
                                in_headers = False
                            elif data_line[:11].lower() == b"message-id:":
                                mid = data_line[11:].strip().decode()
                    self.log.write("".join(f"M\t{r}\t{mid}\n" for r in rcpts))
                    self.log.flush()
                    rcpts = []
                    writer.write(b"250 Accepted\r\n")
                elif verb == b"AUTH":
                    writer.write(b"235 Authentication successful\r\n")
                elif verb in (b"RSET", b"NOOP"):
                    rcpts = []
                    writer.write(b"250 OK\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 Bye\r\n")
                    await writer.drain()
                    return
                else:
                    writer.write(b"502 Command not implemented\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()


async def _run_sink(port: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "log", "a", buffering=1 << 16) as log:
        sink = _Sink(log)
        server = await asyncio.start_server(sink.serve, "127.0.0.1", port)
        bound = server.sockets[0].getsockname()[1]
        tmp = out / "port.tmp"
        tmp.write_text(str(bound))
        os.replace(tmp, out / "port")
        async with server:
            await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A counting SMTP sink on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        asyncio.run(_run_sink(args.port, args.out))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
