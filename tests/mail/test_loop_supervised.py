"""The mail loop keeps running through a held database lock, a dropped PostgreSQL connection and an SMTP server that
closes mid-message; the emails go out once the cause is gone, and the loop's heartbeat keeps moving."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import Engine

from social_campaign import supervise
from social_campaign.config import Settings
from social_campaign.db import make_engine, upgrade
from social_campaign.mail.worker import run_mail_loop
from social_campaign.supervise import REGISTRY, LoopState, db_key
from tests.mail.helpers import queue_emails, states
from tests.sqlite_lock import impatient_engine, write_lock


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervise, "BACKOFF_MAX", 0.2)


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def mail_loop_state(engine: Engine) -> LoopState | None:
    return next((s for s in REGISTRY.loops(db=db_key(engine)) if s.name == "mail"), None)


@pytest.fixture
def loop_runner() -> Iterator[Callable[[Settings, Engine], threading.Thread]]:
    stops: list[tuple[threading.Event, threading.Thread]] = []

    def run(settings: Settings, engine: Engine) -> threading.Thread:
        stop = threading.Event()
        thread = threading.Thread(target=run_mail_loop, args=(settings, engine, stop), name="mail")
        thread.start()
        stops.append((stop, thread))
        return thread

    yield run
    for stop, thread in stops:
        stop.set()
        thread.join(30)
        assert not thread.is_alive()


def test_a_held_sqlite_write_lock_does_not_kill_the_mail_loop(
    settings: Settings, tmp_path: Path, loop_runner: Callable[[Settings, Engine], threading.Thread]
) -> None:
    path = tmp_path / "locked.db"
    engine = impatient_engine(f"sqlite:///{path}", busy_ms=20)
    upgrade(engine)
    queue_emails(engine, 5)
    s = settings.model_copy(update={"poll_seconds": 0.05})
    with write_lock(path):
        thread = loop_runner(s, engine)
        state = wait_for(lambda: (st := mail_loop_state(engine)) and st.errors >= 3 and st, "three locked rounds")
        assert "database is locked" in (state.last_error or "")
        assert thread.is_alive()
        beat_while_locked = state.last_beat
    wait_for(lambda: states(engine) == {"sent": 5}, "the emails after the lock is released")
    assert len(list((s.data_dir / "mail").glob("*.eml"))) == 5  # each once
    wait_for(lambda: state.last_beat > beat_while_locked, "a heartbeat after the lock")
    assert thread.is_alive()
    engine.dispose()


@pytest.mark.postgres
def test_a_dropped_postgresql_connection_does_not_kill_the_mail_loop(
    settings: Settings, pg_url: str, loop_runner: Callable[[Settings, Engine], threading.Thread]
) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    s = settings.model_copy(update={"poll_seconds": 0.05})
    thread = loop_runner(s, engine)
    wait_for(lambda: mail_loop_state(engine), "the mail loop")
    killer = make_engine(pg_url)
    for _ in range(3):  # every connection of the test database but the killer's own, while the loop polls
        with killer.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))  # fmt: skip
        time.sleep(0.1)
    killer.dispose()
    queue_emails(engine, 3)
    wait_for(lambda: states(engine) == {"sent": 3}, "the emails after the connections were dropped")
    assert thread.is_alive()
    engine.dispose()


class ClosingSmtp:
    """A real SMTP server on 127.0.0.1 that closes the connection in the middle of DATA while ``closing`` is set,
    and accepts messages normally once it is cleared."""

    def __init__(self) -> None:
        self.closing = True
        self.accepted: list[bytes] = []
        self.cut = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as rfile:
            conn.sendall(b"220 closing.test ESMTP\r\n")
            while line := rfile.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250 closing.test\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    if self.closing:
                        rfile.readline()  # the first line of the message, then hang up
                        self.cut += 1
                        return
                    body = b"".join(iter(lambda: rfile.readline(), b".\r\n"))
                    self.accepted.append(body)
                    conn.sendall(b"250 queued\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:  # MAIL, RCPT, RSET, NOOP
                    conn.sendall(b"250 ok\r\n")

    def close(self) -> None:
        self.sock.close()


def test_an_smtp_server_closing_mid_message_does_not_stop_the_mail_loop(
    settings: Settings, engine: Engine, loop_runner: Callable[[Settings, Engine], threading.Thread],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = ClosingSmtp()
    queue_emails(engine, 2)
    s = settings.model_copy(update={
        "poll_seconds": 0.05, "retry_base_seconds": 0.05, "mail_connections": 1,
        "smtp_url": SecretStr(f"smtp://127.0.0.1:{server.port}"),
    })  # fmt: skip
    thread = loop_runner(s, engine)
    wait_for(lambda: server.cut == 2 and "sending" not in states(engine), "two messages cut off mid-DATA, settled")
    assert thread.is_alive()
    cut_lines = [r for r in caplog.records if r.name.startswith("social_campaign.mail") and r.levelno >= logging.WARNING]
    assert len(cut_lines) == 2 and not any(r.exc_info for r in cut_lines)  # one line per email, no traceback
    server.closing = False
    queue_emails(engine, 2, prefix="later")
    wait_for(lambda: len(server.accepted) == 2, "the next emails once the server behaves")
    assert server.cut == 2 and thread.is_alive()  # nothing was sent twice
    server.close()
