"""Transports: how a rendered email leaves the service. SMTP (``smtp://``, ``smtps://``) or the local mail folder.

Contract (:class:`Transport`)
-----------------------------
``send_batch(items, commit) -> dict[id, MailError | None]``
    Hand every item of ``items`` to the mail system. Before any item can become *accepted* (the SMTP server's reply
    to the final ``.`` of DATA; a file appearing under its final name) the transport calls ``commit.mark(ids)``, which
    records those ids as sent (the commit is on its way to the database when it returns) and returns the ids that may
    go ahead; an item not returned must be abandoned so that it is never accepted (for SMTP: the connection is dropped
    mid-DATA, which makes the server discard it). Straight after ending the allowed items the transport calls
    ``commit.settle()``, which waits for the commit. ``mark``/``settle`` run once per round, several rounds per batch.
    When the server cannot be reached at all (connect or login fails) ``send_batch`` raises ``MailError`` instead:
    nothing of the current round was accepted, and the worker puts the unsent rows back without using up attempts.
    The result maps each id to ``None`` (accepted) or a :class:`~social_campaign.errors.MailError` (``permanent``
    tells the worker whether to retry). Foreign errors (smtplib, ``OSError``, ``ssl``) never escape: they are
    translated here.
``close()``
    Quit and close connections.

Why mark before the final dot: SMTP has no idempotency key, so the order decides what a kill -9 can do. A worker
killed before its "sent" mark reaches the database leaves its messages unaccepted (the server drops an unfinished
DATA) and unmarked: they are sent again, once, after the lease. On PostgreSQL the mark is one autocommit UPDATE that
is *sent* without waiting for its answer (once the bytes are in the server's socket it commits even if we die), and
the terminators are written right after it in straight-line code; the wait comes later (``settle``). On SQLite the
commit is in-process and returns in microseconds. So what remains is a kill landing between the mark leaving and the
last terminator's ``send()`` (a few syscalls): those messages are marked sent but never accepted (lost, never
duplicated). Also: a connection that breaks after the terminator is written but before the reply is read is kept as
sent (logged), and a mark that fails after the terminators went out (the database itself failing) leaves rows that
are sent again after the lease (a duplicate, logged).

:class:`SmtpTransport` keeps ``settings.mail_connections`` connections open across batches (several messages per
connection), uses PIPELINING when the server offers it and STARTTLS on ``smtp://`` when offered, and reconnects a
connection after any failure. :class:`FolderTransport` writes ``DATA_DIR/mail/<id>.eml`` atomically (temp file +
``os.replace``); a re-send overwrites the same file, so it never shows twice.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import unquote, urlsplit

from social_campaign.config import Settings
from social_campaign.errors import ConfigError, MailError
from social_campaign.files import private_dir, write_private

log = logging.getLogger(__name__)

class Commit(Protocol):
    """The worker's side of a round (see the module docstring)."""

    def mark(self, ids: Sequence[int]) -> set[int]: ...

    def settle(self) -> None: ...


@dataclass(frozen=True)
class Outgoing:
    """One email ready to send: the row id, envelope addresses and the whole message (CRLF line ends)."""

    id: int
    mail_from: str
    to_addr: str
    data: bytes


class Transport(ABC):
    """Base class for mail transports; see the module docstring for the contract."""

    #: How many messages one round holds (one ``commit`` per round).
    round_size: int = 1

    @abstractmethod
    def send_batch(self, items: Sequence[Outgoing], commit: Commit) -> dict[int, MailError | None]: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (default: nothing to release)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.close()


# --- the mail folder ----------------------------------------------------------------------------------------------


class FolderTransport(Transport):
    """Writes each message to ``folder/<id>.eml`` (atomically), then commits. Idempotent per id."""

    round_size = 200

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send_batch(self, items: Sequence[Outgoing], commit: Commit) -> dict[int, MailError | None]:
        results: dict[int, MailError | None] = {}
        written: list[int] = []
        try:
            private_dir(self.folder)  # 0700; each .eml is 0600 (mkstemp)
        except OSError as exc:
            err = MailError(f"mail folder {self.folder}: {exc.strerror or exc}")
            return dict.fromkeys((i.id for i in items), err)
        for item in items:
            try:
                write_private(self.folder / f"{item.id:09d}.eml", item.data)
                written.append(item.id)
            except OSError as exc:
                results[item.id] = MailError(f"mail folder {self.folder}: {exc.strerror or exc}")
        if written:
            allowed = commit.mark(written)
            commit.settle()
            results.update({i: None for i in written if i in allowed})
        return results


# --- SMTP ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    tls: bool  # smtps:// (implicit TLS)
    user: str | None
    password: str | None

    def __repr__(self) -> str:  # never show the password
        return f"SmtpTarget({'smtps' if self.tls else 'smtp'}://{self.host}:{self.port}, user={self.user!r})"


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://user:pass@host:port`` or ``smtps://…`` -> :class:`SmtpTarget`; :class:`ConfigError` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("SOCIAL_CAMPAIGN_SMTP_URL must look like smtp://user:password@host:port or smtps://…")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise ConfigError("SOCIAL_CAMPAIGN_SMTP_URL has a port that is not a number") from None
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return SmtpTarget(parts.hostname, port, parts.scheme == "smtps", user, password)


_DOT = re.compile(rb"(?m)^\.")


class _Refused(Exception):
    def __init__(self, code: int, reply: bytes, stage: str) -> None:
        self.code, self.reply, self.stage = code, reply, stage


class SmtpTransport(Transport):
    """SMTP with ``connections`` reusable connections; one round finishes one message on each connection."""

    def __init__(self, target: SmtpTarget, *, connections: int = 4, timeout: float = 30.0, local_hostname: str | None = None) -> None:
        self.target = target
        self.round_size = max(1, connections)
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._conns: list[smtplib.SMTP | None] = [None] * self.round_size
        self.opened = 0  # connections opened so far (for tests and stats)

    # -- connections --
    def _connect(self) -> smtplib.SMTP:
        t = self.target
        try:
            conn: smtplib.SMTP
            if t.tls:
                conn = smtplib.SMTP_SSL(t.host, t.port, timeout=self.timeout, local_hostname=self.local_hostname,
                                        context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(t.host, t.port, timeout=self.timeout, local_hostname=self.local_hostname)
            if conn.sock is not None:  # the terminator is a tiny write after the body: never wait on Nagle
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo()
            if not t.tls and conn.has_extn("starttls"):
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if t.user is not None:
                conn.login(t.user, t.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"SMTP server {t.host}:{t.port} refused the login ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"cannot connect to SMTP server {t.host}:{t.port}: {_describe(exc)}") from None
        self.opened += 1
        return conn

    def _conn(self, slot: int) -> smtplib.SMTP:
        conn = self._conns[slot]
        if conn is None:
            conn = self._conns[slot] = self._connect()
        return conn

    def _drop(self, slot: int) -> None:
        """Close a connection without QUIT (aborts an unfinished DATA, which the server then discards)."""
        conn, self._conns[slot] = self._conns[slot], None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        for slot, conn in enumerate(self._conns):
            if conn is not None:
                try:
                    conn.quit()
                except (smtplib.SMTPException, OSError):
                    pass
                self._drop(slot)

    # -- one message in two halves --
    _STAGES = (("MAIL", (250,)), ("RCPT", (250, 251)), ("DATA", (354,)))

    @staticmethod
    def _commands(item: Outgoing) -> list[bytes]:
        sender, rcpt = item.mail_from.encode("ascii"), item.to_addr.encode("ascii")
        return [b"MAIL FROM:<%s>\r\n" % sender, b"RCPT TO:<%s>\r\n" % rcpt, b"DATA\r\n"]

    def _send_envelope(self, conn: smtplib.SMTP, item: Outgoing) -> list[tuple[int, bytes]] | None:
        """With PIPELINING: send MAIL, RCPT and DATA at once and return ``None`` (replies read later, so every
        connection of a round waits at the same time). Without: one command at a time; returns the replies."""
        commands = self._commands(item)
        if conn.has_extn("pipelining"):
            conn.send(b"".join(commands))
            return None
        replies: list[tuple[int, bytes]] = []
        for cmd, (_, ok) in zip(commands, self._STAGES, strict=True):
            conn.send(cmd)
            replies.append(conn.getreply())
            if replies[-1][0] not in ok:
                break
        return replies

    def _finish_envelope(self, conn: smtplib.SMTP, item: Outgoing, replies: list[tuple[int, bytes]] | None) -> None:
        """Check the envelope's replies, then send the body (without the terminating dot)."""
        if replies is None:
            replies = [conn.getreply() for _ in self._STAGES]
        for (code, reply), (stage, ok) in zip(replies, self._STAGES, strict=False):
            if code not in ok:
                if stage != "DATA" and len(replies) == len(self._STAGES) and replies[-1][0] == 354:
                    raise _Refused(code, reply, stage + "+open-data")  # must not finish this DATA
                raise _Refused(code, reply, stage)
        body = _DOT.sub(b"..", item.data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        conn.send(body)

    def send_batch(self, items: Sequence[Outgoing], commit: Commit) -> dict[int, MailError | None]:
        results: dict[int, MailError | None] = {}
        for start in range(0, len(items), self.round_size):
            self._round(items[start : start + self.round_size], commit, results)
        return results

    def _round(self, chunk: Sequence[Outgoing], commit: Commit, results: dict[int, MailError | None]) -> None:
        # A MailError here (server unreachable, login refused) leaves the round unsent: it propagates to the worker.
        conns = [self._conn(slot) for slot in range(len(chunk))]
        # Envelopes go out on every connection first, then the replies are read: the round waits once, not per message.
        sent: list[tuple[int, Outgoing, list[tuple[int, bytes]] | None]] = []
        for slot, item in enumerate(chunk):
            try:
                sent.append((slot, item, self._send_envelope(conns[slot], item)))
            except Exception as exc:  # sorted out (or re-raised) by _fail
                self._fail(slot, item, exc, results)
        begun: list[tuple[int, Outgoing]] = []
        for slot, item, replies in sent:
            try:
                self._finish_envelope(conns[slot], item, replies)
                begun.append((slot, item))
            except Exception as exc:  # sorted out (or re-raised) by _fail
                self._fail(slot, item, exc, results)
        if not begun:
            return
        allowed = commit.mark([item.id for _, item in begun])
        # Straight after the COMMIT is sent, end every DATA before waiting for anything: this keeps the window in
        # which a kill -9 loses a marked message down to a few syscalls (see the module docstring).
        ended: list[tuple[int, Outgoing]] = []
        for slot, item in begun:
            conn = self._conns[slot]
            if item.id not in allowed or conn is None:
                self._drop(slot)  # another worker owns this row now: never finish it here
                continue
            try:
                conn.send(b".\r\n")
                ended.append((slot, item))
            except (smtplib.SMTPException, OSError) as exc:  # terminator not written: nothing accepted
                results[item.id] = MailError(f"SMTP connection failed before the end of data: {_describe(exc)}")
                self._drop(slot)
        commit.settle()
        for slot, item in ended:
            conn = self._conns[slot]
            assert conn is not None
            try:
                code, reply = conn.getreply()
            except (smtplib.SMTPException, OSError) as exc:
                log.warning("email %s: no reply after the end of data (%s); kept as sent, not resent", item.id, _describe(exc))
                results[item.id] = None
                self._drop(slot)
                continue
            if code == 250:
                results[item.id] = None
            else:
                results[item.id] = _refused_error(_Refused(code, reply, "end of data"), self.target)

    def _fail(self, slot: int, item: Outgoing, exc: Exception, results: dict[int, MailError | None]) -> None:
        """Record why ``item`` was not begun and leave its connection usable (or drop it)."""
        if isinstance(exc, UnicodeEncodeError):
            results[item.id] = MailError(f"address of email {item.id} is not ASCII (SMTPUTF8 is not supported)", permanent=True)
            self._reset(slot)
        elif isinstance(exc, _Refused):
            results[item.id] = _refused_error(exc, self.target)
            if exc.stage.endswith("+open-data"):
                self._drop(slot)
            else:
                self._reset(slot)
        elif isinstance(exc, smtplib.SMTPException | OSError):
            results[item.id] = MailError(f"SMTP connection failed: {_describe(exc)}")
            self._drop(slot)
        else:
            raise exc

    def _reset(self, slot: int) -> None:
        conn = self._conns[slot]
        if conn is None:
            return
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop(slot)


def _refused_error(exc: _Refused, target: SmtpTarget) -> MailError:
    text = exc.reply.decode(errors="replace").splitlines()[0] if exc.reply else ""
    stage = exc.stage.removesuffix("+open-data")
    return MailError(f"SMTP server {target.host}:{target.port} refused {stage}: {exc.code} {text}".strip(), permanent=exc.code >= 500)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


def build_transport(settings: Settings) -> Transport:
    """SMTP when ``smtp_url`` is set, else the mail folder ``DATA_DIR/mail``."""
    if settings.smtp_url is None:
        return FolderTransport(settings.data_dir / "mail")
    target = parse_smtp_url(settings.smtp_url.get_secret_value())
    return SmtpTransport(target, connections=settings.mail_connections, timeout=settings.request_timeout)
