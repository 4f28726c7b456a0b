"""The emailed links: confirming takes a button press (a GET changes nothing), and the withdraw / List-Unsubscribe link
works at every stage (before the release it withdraws, after it it stops every further email)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.db import session_scope
from social_campaign.mail.queue import enqueue
from social_campaign.mail.worker import drain
from social_campaign.models import EmailMessage, EmailState, MailOptOut, Pledge, PledgeStatus
from social_campaign.pledges import release
from tests.fakes.smtp import SmtpServer, smtp_server  # noqa: F401  (fixture)
from tests.web.conftest import CSRF, links_in, make_campaign, pledge_form, press_confirm, with_settings

SLUG = "childrens-day"


def _emails(engine: Engine, to: str | None = None) -> list[EmailMessage]:
    with Session(engine) as s:
        q = select(EmailMessage).order_by(EmailMessage.id)  # type: ignore[arg-type]
        if to is not None:
            q = q.where(EmailMessage.to_canonical == to)
        return list(s.exec(q).all())


def _status(engine: Engine) -> list[str]:
    with Session(engine) as s:
        return [p.status for p in s.exec(select(Pledge).order_by(Pledge.id)).all()]  # type: ignore[arg-type]


def _confirmed(client: TestClient) -> int:
    return int(client.get(f"/c/{SLUG}/progress.json").json()["confirmed"])


def test_opening_the_confirm_link_changes_nothing(any_engine: Engine, client: TestClient) -> None:
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    confirm = links_in(_emails(any_engine)[0].body_text)["confirm"]
    for _ in range(2):  # a link scanner, then a prefetcher
        page = client.get(confirm)
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        assert page.text.count("<form") == 1 and page.text.count("<button") == 1
        assert f'method="post" action="{confirm}"' in page.text and CSRF.search(page.text)
    assert client.head(confirm).status_code == 200
    assert _status(any_engine) == [PledgeStatus.pending] and _confirmed(client) == 0
    r = press_confirm(client, confirm)
    assert r.status_code == 200 and "Your pledge is confirmed" in r.text
    assert _status(any_engine) == [PledgeStatus.confirmed] and _confirmed(client) == 1
    again = client.get(confirm)  # a second visit: no 404, the same next steps
    assert again.status_code == 200 and "Your pledge is already confirmed" in again.text
    assert "<form" not in again.text.split("<main", 1)[1] and "You are supporter #1 of 3." in again.text
    assert _status(any_engine) == [PledgeStatus.confirmed] and _confirmed(client) == 1


def test_confirm_post_needs_our_form(any_engine: Engine, client: TestClient) -> None:
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    confirm = links_in(_emails(any_engine)[0].body_text)["confirm"]
    assert client.post(confirm).status_code == 400  # no Origin, no token: not from our page
    assert client.post(confirm, headers={"origin": "https://evil.example"}, data={"csrf": "1.x.y"}).status_code == 400
    assert _status(any_engine) == [PledgeStatus.pending]


def _clients(tmp_path: Path, engine: Engine, settings: Settings,
             client_for: Callable[..., TestClient]) -> tuple[TestClient, TestClient]:
    """The same campaign before its deadline, and after its release (goal 1, both times in the past)."""
    past = datetime.now(UTC) - timedelta(hours=2)
    before = client_for(engine, [make_campaign(tmp_path, goal=1)], settings)
    after = client_for(engine, [make_campaign(tmp_path, goal=1, deadline=past, fire_at=past + timedelta(hours=1))], settings)
    return before, after


def test_pledge_confirm_release_unsubscribe_then_no_more_mail(
    tmp_path: Path, any_engine: Engine, web_settings: Settings, client_for: Callable[..., TestClient],
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    settings = with_settings(web_settings, smtp_url=smtp_server.url())
    before, after = _clients(tmp_path, any_engine, settings, client_for)
    for who in ("ada", "bea"):
        before.post(f"/c/{SLUG}/pledge", data=pledge_form(before, email=f"{who}@example.org"))
    assert drain(settings, any_engine) == 2
    links = {e.to_canonical: links_in(e.body_text) for e in _emails(any_engine)}
    for who in ("ada", "bea"):
        assert press_confirm(before, links[f"{who}@example.org"]["confirm"]).status_code == 200

    released = make_campaign(tmp_path, goal=1, deadline=datetime.now(UTC) - timedelta(hours=2),
                             fire_at=datetime.now(UTC) - timedelta(hours=1))
    report = release.advance(settings, any_engine, released, datetime.now(UTC))
    assert report.evaluated == "succeeded" and report.queued == 2

    # Ada presses "unsubscribe" in her mail program (RFC 8058 one-click, the confirmation email's header) before the
    # release email goes out: it is never sent, and neither is anything after it.
    r = after.post(links["ada@example.org"]["withdraw"], data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and "no more emails" in r.text
    assert _status(any_engine) == [PledgeStatus.confirmed, PledgeStatus.confirmed]  # the pledge stays as it was
    assert drain(settings, any_engine) == 1
    sent_to = [m.rcpt_tos for m in smtp_server.messages]
    assert sent_to == [["ada@example.org"], ["bea@example.org"], ["bea@example.org"]]  # 2 confirmations, 1 release
    (ada_release,) = [e for e in _emails(any_engine, "ada@example.org") if e.kind == "release"]
    assert ada_release.state == EmailState.suppressed and "unsubscribed" in (ada_release.last_error or "")

    # Bea uses the List-Unsubscribe header of the release email she got: from then on nothing more reaches her.
    release_mail = message_from_bytes(smtp_server.messages[-1].data, policy=policy.default)
    assert "Stop all emails about this campaign" in release_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    unsubscribe = re.fullmatch(r"<https://pledge\.example\.org(/c/.+)>", str(release_mail["List-Unsubscribe"]))
    assert unsubscribe is not None and release_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert after.post(unsubscribe.group(1), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert after.post(unsubscribe.group(1), data={"List-Unsubscribe": "One-Click"}).status_code == 200  # idempotent
    for who in ("ada", "bea"):
        with session_scope(any_engine) as session:
            enqueue(session, campaign=SLUG, kind="release", to_addr=f"{who}@example.org", to_canonical=f"{who}@example.org",
                    subject="s", body_text="b", body_html=None, dedupe_key=f"later:{who}", max_per_address=5)
    assert drain(settings, any_engine) == 0 and len(smtp_server.messages) == 3
    assert {e.state for e in _emails(any_engine) if e.dedupe_key.startswith("later:")} == {EmailState.suppressed}
    with Session(any_engine) as s:
        assert sorted(o.email_canonical for o in s.exec(select(MailOptOut)).all()) == ["ada@example.org", "bea@example.org"]
    # a late fan-out run (a restart) queues nothing for them either
    assert release.advance(settings, any_engine, released, datetime.now(UTC)).queued == 0


def test_the_stop_link_after_the_release_asks_then_stops(
    tmp_path: Path, any_engine: Engine, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    before, after = _clients(tmp_path, any_engine, web_settings, client_for)
    before.post(f"/c/{SLUG}/pledge", data=pledge_form(before))
    links = links_in(_emails(any_engine)[0].body_text)
    press_confirm(before, links["confirm"])
    page = after.get(links["withdraw"])  # was 400 "withdrawal closed"
    assert page.status_code == 200 and "Stop these emails" in page.text and "stays as it was" in page.text
    with Session(any_engine) as s:
        assert s.exec(select(MailOptOut)).all() == []  # opening the page changes nothing
    token = CSRF.search(page.text)
    assert token is not None
    assert after.post(links["withdraw"]).status_code == 400  # no token, no Origin: not our form
    r = after.post(links["withdraw"], data={"csrf": token.group(1)})
    assert r.status_code == 200 and "You will get no more emails" in r.text and "pledge stays as it was" in r.text
    assert _status(any_engine) == [PledgeStatus.confirmed] and _confirmed(after) == 1
    with Session(any_engine) as s:
        assert [o.email_canonical for o in s.exec(select(MailOptOut)).all()] == ["amina@example.org"]


def test_before_the_release_the_link_still_withdraws(any_engine: Engine, client: TestClient) -> None:
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    links = links_in(_emails(any_engine)[0].body_text)
    press_confirm(client, links["confirm"])
    r = client.post(links["withdraw"], data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and "Your pledge is withdrawn" in r.text
    assert _status(any_engine) == [PledgeStatus.withdrawn] and _confirmed(client) == 0
    with Session(any_engine) as s:
        assert s.exec(select(MailOptOut)).all() == []  # pledging again later still gets its confirmation
