from __future__ import annotations

import socket
import threading
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.mail import worker
from social_campaign.mail.transport import SmtpTransport, parse_smtp_url
from social_campaign.models import EmailMessage, utcnow
from tests.mail.helpers import queue_emails, states


def _smtp_settings(settings: Settings, url: str, **kw) -> Settings:
    return settings.model_copy(update={"smtp_url": __import__("pydantic").SecretStr(url), **kw})


def test_drain_sends_each_once_over_reused_connections(any_engine: Engine, settings: Settings, smtp_server) -> None:
    queue_emails(any_engine, 60)
    s = _smtp_settings(settings, smtp_server.url(), mail_connections=3)
    assert worker.drain(s, any_engine) == 60
    assert worker.drain(s, any_engine) == 0
    rcpts = sorted(r for m in smtp_server.messages for r in m.rcpt_tos)
    assert rcpts == sorted(f"s{i}@example.org" for i in range(60))
    assert smtp_server.connections <= 3 * 2  # one drain = at most 3 connections, never one per message
    assert states(any_engine) == {"sent": 60}
    with Session(any_engine) as session:
        ids = {r.to_addr: r.message_id for r in session.exec(select(EmailMessage)).all()}
    msg = message_from_bytes(smtp_server.messages[0].data, policy=default_policy)
    assert msg["Message-ID"] == ids[msg["To"]]
    assert msg["List-Unsubscribe"].startswith("<http://h/w/")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    assert {p.get_content_type() for p in msg.iter_parts()} == {"text/plain", "text/html"}


def test_smtp_login_with_user_and_password(engine: Engine, settings: Settings, smtp_server) -> None:
    smtp_server.require_auth("mailer", "p@ss:word")
    queue_emails(engine, 2)
    s = _smtp_settings(settings, smtp_server.url("mailer", "p%40ss%3Aword"))
    assert worker.drain(s, engine) == 2
    assert len(smtp_server.messages) == 2


def test_wrong_password_is_retried_not_lost(engine: Engine, settings: Settings, smtp_server, caplog) -> None:
    smtp_server.require_auth("mailer", "right")
    queue_emails(engine, 1)
    s = _smtp_settings(settings, smtp_server.url("mailer", "wrong-one"))
    worker.drain(s, engine)
    assert states(engine) == {"queued": 1}
    assert "wrong-one" not in caplog.text
    with Session(engine) as session:
        row = session.exec(select(EmailMessage)).one()
    assert "refused the login" in (row.last_error or "") and "wrong-one" not in (row.last_error or "")


def test_permanent_refusal_fails_transient_retries(engine: Engine, settings: Settings, smtp_server) -> None:
    queue_emails(engine, 3)
    smtp_server.reject["s0@example.org"] = 550
    smtp_server.reject["s1@example.org"] = 451
    s = _smtp_settings(settings, smtp_server.url(), retry_base_seconds=30)
    worker.drain(s, engine)
    with Session(engine) as session:
        rows = {r.to_addr: r for r in session.exec(select(EmailMessage)).all()}
    assert rows["s0@example.org"].state == "failed" and "550" in (rows["s0@example.org"].last_error or "")
    assert rows["s1@example.org"].state == "queued" and rows["s1@example.org"].not_before > utcnow() + timedelta(seconds=20)
    assert rows["s2@example.org"].state == "sent"
    assert [r for m in smtp_server.messages for r in m.rcpt_tos] == ["s2@example.org"]
    # once the server takes it and the backoff is over, it goes
    del smtp_server.reject["s1@example.org"]
    with Session(engine) as session:
        row = rows["s1@example.org"]
        session.add(row)
        row.not_before = utcnow()
        session.commit()
    assert worker.drain(s, engine) == 1
    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == ["s1@example.org", "s2@example.org"]


def test_unreachable_server_keeps_mail_queued(engine: Engine, settings: Settings) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    queue_emails(engine, 2)
    for _ in range(10):  # an outage uses up no attempts: nothing fails for it, however long it lasts
        worker.drain(_smtp_settings(settings, f"smtp://127.0.0.1:{port}"), engine)
    assert states(engine) == {"queued": 2}
    with Session(engine) as session:
        rows = session.exec(select(EmailMessage)).all()
    assert {r.attempts for r in rows} == {0} and all("cannot connect" in (r.last_error or "") for r in rows)


def test_folder_transport_writes_eml_once(engine: Engine, settings: Settings) -> None:
    queue_emails(engine, 5)
    assert worker.drain(settings, engine) == 5
    files = sorted((settings.data_dir / "mail").glob("*.eml"))
    assert len(files) == 5
    assert not list((settings.data_dir / "mail").glob(".tmp-*"))
    msg = message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert msg["To"] == "s0@example.org" and msg["List-Unsubscribe"]
    assert worker.drain(settings, engine) == 0
    assert len(list((settings.data_dir / "mail").glob("*.eml"))) == 5


def test_stale_sending_rows_are_recovered_and_sent_once(engine: Engine, settings: Settings, smtp_server) -> None:
    queue_emails(engine, 4)
    dead = worker.claim(engine, "dead-worker", utcnow())  # claimed, then its worker "died"
    assert len(dead) == 4
    s = _smtp_settings(settings, smtp_server.url(), lease_seconds=60)
    assert worker.drain(s, engine) == 0  # still leased
    assert worker.recover_stale(engine, utcnow() + timedelta(seconds=61), 60) == 4
    assert worker.drain(s, engine) == 4
    assert len(smtp_server.messages) == 4


def test_a_row_taken_over_by_another_worker_is_never_finished(any_engine: Engine, settings: Settings, smtp_server) -> None:
    """Fencing: the sent-mark is conditional on claimed_by; a refused mark aborts the DATA, so nothing is accepted."""
    engine = any_engine
    queue_emails(engine, 2)
    rows = worker.claim(engine, "slow-worker", utcnow())
    with Session(engine) as session:  # the lease expired and another worker took row 1
        r = session.get(EmailMessage, rows[0].id)
        r.claimed_by = "other"
        session.commit()
    transport = SmtpTransport(parse_smtp_url(smtp_server.url()), connections=2)
    from social_campaign.mail.transport import Outgoing

    items = [Outgoing(r.id, "c@localhost", r.to_addr, worker.build_message(r, "c@localhost")) for r in rows]
    marker = worker.SentMarker(engine, "slow-worker", lease_seconds=60)
    marker.claimed_at -= 61  # the claim is older than the lease: that is when a row can be taken over
    results = transport.send_batch(items, marker)
    marker.close()
    transport.close()
    assert results == {rows[1].id: None}
    assert [m.rcpt_tos for m in smtp_server.messages] == [[rows[1].to_addr]]


def test_run_mail_loop_stops_and_honours_rate(engine: Engine, settings: Settings, smtp_server) -> None:
    queue_emails(engine, 6)
    s = _smtp_settings(settings, smtp_server.url(), mail_rate=20.0, poll_seconds=0.05, mail_connections=1)
    stop = threading.Event()
    t = threading.Thread(target=worker.run_mail_loop, args=(s, engine, stop))
    import time

    start = time.monotonic()
    t.start()
    while len(smtp_server.messages) < 6 and time.monotonic() - start < 10:
        time.sleep(0.02)
    elapsed = time.monotonic() - start
    stop.set()
    t.join(5)
    assert not t.is_alive()
    assert len(smtp_server.messages) == 6
    assert elapsed >= 5 / 20.0  # 6 emails at 20/s take at least 0.25 s


def test_bad_smtp_url_is_one_clear_line(settings: Settings) -> None:
    from social_campaign.errors import ConfigError

    with pytest.raises(ConfigError, match="SOCIAL_CAMPAIGN_SMTP_URL"):
        parse_smtp_url("http://x")
    assert "secret" not in repr(parse_smtp_url("smtp://u:secret@h:25"))


@pytest.mark.slow
def test_pipelined_refusal_and_reuse_against_the_sink_process(any_engine: Engine, settings: Settings, tmp_path) -> None:
    """The sink offers PIPELINING: envelopes go out on every connection at once; a refused RCPT fails only its email."""
    from tests.fakes.smtp import read_sink_log, sink_process

    queue_emails(any_engine, 30)
    queue_emails(any_engine, 2, prefix="reject-")
    with sink_process(tmp_path / "sink") as url:
        assert worker.drain(_smtp_settings(settings, url, mail_connections=4), any_engine) == 32
        log = read_sink_log(tmp_path / "sink")
    assert log.total == 30 and max(log.per_recipient.values()) == 1 and log.connections <= 4 + 2
    assert states(any_engine) == {"sent": 30, "failed": 2}
    with Session(any_engine) as session:
        failed = session.exec(select(EmailMessage).where(EmailMessage.state == "failed")).all()
    assert all("550" in (r.last_error or "") and r.to_addr.startswith("reject-") for r in failed)
