"""The pledge flow through the ASGI app, on SQLite and PostgreSQL: pledge → email → confirm → counted, and the abuse rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.mail.worker import drain
from social_campaign.models import (
    EmailMessage,
    EmailState,
    Pledge,
    PledgeStatus,
    RateBucket,
)
from tests.fakes.smtp import SmtpServer, smtp_server  # noqa: F401  (fixture)
from tests.web.conftest import csrf_of, links_in, pledge_form, press_confirm, with_settings

SLUG = "childrens-day"


def progress(client: TestClient) -> dict[str, object]:
    r = client.get(f"/c/{SLUG}/progress.json")
    assert r.status_code == 200
    return json.loads(r.text)  # type: ignore[no-any-return]


def emails(engine: Engine, state: str | None = None) -> list[EmailMessage]:
    with Session(engine) as s:
        q = select(EmailMessage).order_by(EmailMessage.id)  # type: ignore[arg-type]
        if state:
            q = q.where(EmailMessage.state == state)
        return list(s.exec(q).all())


def pledges(engine: Engine) -> list[Pledge]:
    with Session(engine) as s:
        return list(s.exec(select(Pledge).order_by(Pledge.id)).all())  # type: ignore[arg-type]


def comparable(r: object) -> tuple[int, str, list[tuple[str, str]]]:
    """Status, body and headers of a response, minus the Date header."""
    headers = sorted((k, v) for k, v in r.headers.items() if k.lower() != "date")  # type: ignore[attr-defined]
    return r.status_code, r.text, headers  # type: ignore[attr-defined]


def test_pledge_email_confirm_counted_through_real_smtp(
    tmp_path: Path, any_engine: Engine, campaign: Campaign, web_settings: Settings,
    client_for: Callable[..., TestClient], smtp_server: SmtpServer,  # noqa: F811
) -> None:
    settings = with_settings(web_settings, smtp_url=smtp_server.url())
    client = client_for(any_engine, [campaign], settings)
    assert progress(client)["confirmed"] == 0
    r = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, name="Amina Yusuf", email="Amina@Example.org"))
    assert r.status_code == 200 and "Check your email" in r.text
    assert smtp_server.messages == []  # never sent inside the request
    assert drain(settings, any_engine) == 1
    (msg,) = smtp_server.messages
    assert msg.rcpt_tos == ["Amina@Example.org"]
    parsed = message_from_bytes(msg.data, policy=policy.default)
    assert str(parsed["List-Unsubscribe"]).startswith("<https://pledge.example.org/c/childrens-day/withdraw/")
    body = "".join(bytes(part.get_payload(decode=True)).decode()
                   for part in parsed.walk() if part.get_content_type() == "text/plain")
    links = links_in(body)
    assert set(links) == {"confirm", "withdraw"}
    with Session(any_engine) as s:  # only hashes of the tokens are stored
        (row,) = s.exec(select(Pledge)).all()
        assert links["confirm"].rsplit("/", 1)[1] not in (row.confirm_token_hash, row.withdraw_token_hash)
        assert row.ip_hash and "testclient" not in row.ip_hash
    assert progress(client)["confirmed"] == 0  # pending does not count
    r = client.get(links["confirm"])  # a page with one button: opening the link changes nothing
    assert r.status_code == 200 and "Confirm my pledge" in r.text and r.headers["cache-control"] == "no-store"
    assert progress(client)["confirmed"] == 0
    r = press_confirm(client, links["confirm"])
    assert r.status_code == 200 and "confirmed" in r.text
    assert progress(client)["confirmed"] == 1  # the web process drops its cache on confirm
    again = client.post(links["confirm"], data={"csrf": csrf_of(client)})  # pressed again: counted once
    assert again.status_code == 200 and "already confirmed" in again.text
    assert progress(client)["confirmed"] == 1


def test_new_duplicate_alias_and_fraud_get_identical_answers(
    any_engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    settings = with_settings(web_settings, pledge_rate_limits="30/60s,300/3600s")  # the defaults
    client = client_for(any_engine, [campaign], settings)
    answers = []
    new = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email="jo.smith@gmail.com"))
    answers.append(comparable(new))
    for kw, headers in (
        ({"email": "Jo.Smith+crc@googlemail.com"}, {"x-forwarded-for": "198.51.100.1"}),  # duplicate
        ({"email": "other@example.org", "website": "http://spam.example"}, {}),  # honeypot
    ):
        r = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, **kw), headers=headers)
        answers.append(comparable(r))
    assert all(a == answers[0] for a in answers), "answers differ between new, duplicate and fraudulent pledges"
    assert answers[0][0] == 200
    rows = pledges(any_engine)
    assert [(p.status, p.fraud_reason) for p in rows] == [("pending", None), ("fraud", "honeypot")]
    assert [e.kind for e in emails(any_engine)] == ["confirm", "duplicate"]  # fraud is never emailed


def test_duplicates_and_gmail_aliases_are_one_pledge_with_at_most_five_emails(
    any_engine: Engine, client: TestClient
) -> None:
    variants = ["jo.smith@gmail.com", "JoSmith@gmail.com", "j.o.s.m.i.t.h+crc@googlemail.com", "JOSMITH+x@GMAIL.COM",
                "josmith@googlemail.com", "jo.smith+1@gmail.com", "jos.mith@gmail.com"]
    for email in variants:
        assert client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email=email)).status_code == 200
    rows = pledges(any_engine)
    assert len(rows) == 1 and rows[0].email_canonical == "josmith@gmail.com" and rows[0].email == variants[0]
    sent = emails(any_engine, EmailState.queued)
    assert len(sent) == 4 and len(emails(any_engine, EmailState.suppressed)) == 3  # the 5th is kept for the release
    assert {e.kind for e in sent} == {"confirm", "duplicate"}
    # a different address at a non-Gmail domain keeps its dots and +tag: a different supporter
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email="jo.smith@example.org"))
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email="josmith@example.org"))
    assert len(pledges(any_engine)) == 3


def test_duplicate_of_confirmed_pledge_does_not_count_twice(any_engine: Engine, client: TestClient) -> None:
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email="ana@gmail.com"))
    confirm = links_in(emails(any_engine)[0].body_text)["confirm"]
    assert press_confirm(client, confirm).status_code == 200
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email="A.n.a+again@gmail.com", name="Someone Else"))
    assert progress(client)["confirmed"] == 1
    (row,) = pledges(any_engine)
    assert row.name == "Amina" and row.status == PledgeStatus.confirmed  # a duplicate changes nothing stored
    dup = emails(any_engine)[-1]
    assert dup.kind == "duplicate" and "/confirm/" not in dup.body_text and "/withdraw/" in dup.body_text


def test_honeypot_pledge_is_fraud_and_never_counted(any_engine: Engine, client: TestClient) -> None:
    r = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, website="https://bot.example"))
    assert r.status_code == 200 and "Check your email" in r.text
    (row,) = pledges(any_engine)
    assert (row.status, row.fraud_reason, row.active_email) == ("fraud", "honeypot", None)
    assert row.confirm_token_hash is None and emails(any_engine) == []
    # the same address can still pledge for real afterwards
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    confirm = links_in(emails(any_engine)[0].body_text)["confirm"]
    press_confirm(client, confirm)
    assert progress(client)["confirmed"] == 1
    with Session(any_engine) as s:
        assert len(s.exec(select(Pledge).where(Pledge.status == PledgeStatus.fraud)).all()) == 1


def test_rate_limit_per_ip_per_campaign_stored_as_hash(
    tmp_path: Path, any_engine: Engine, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    from tests.web.conftest import make_campaign

    one, two = make_campaign(tmp_path, slug="one"), make_campaign(tmp_path, slug="two")
    settings = with_settings(web_settings, pledge_rate_limits="1/24h")  # one window per day: no boundary mid-test
    client = client_for(any_engine, [one, two], settings)
    codes = [client.post(f"/c/{slug}/pledge", data=pledge_form(client, slug, email=email)).status_code
             for slug, email in (("one", "a@example.org"), ("one", "b@example.org"), ("two", "c@example.org"))]
    assert codes == [200, 429, 200]
    rows = pledges(any_engine)
    assert [(p.campaign, p.status) for p in rows] == [("one", "pending"), ("two", "pending")]  # the 429 stored nothing
    with Session(any_engine) as s:
        buckets = s.exec(select(RateBucket).order_by(RateBucket.campaign)).all()
    assert [(b.campaign, b.window_seconds, b.hits) for b in buckets] == [("one", 86400, 2), ("two", 86400, 1)]
    assert all(len(b.ip_hash) == 64 and "testclient" not in b.ip_hash for b in buckets)
    assert len({p.ip_hash for p in rows} | {b.ip_hash for b in buckets}) == 1


def test_forwarded_for_is_used_only_when_trusted(
    any_engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    for trusted, expected in ((False, [200, 429]), (True, [200, 200])):
        settings = with_settings(web_settings, pledge_rate_limits="1/24h", trust_forwarded_for=trusted)
        client = client_for(any_engine, [campaign], settings, client=("127.0.0.1", 5000))  # a same-host proxy
        slug = campaign.slug
        codes = [
            client.post(f"/c/{slug}/pledge", data=pledge_form(client, email=f"x{trusted}{i}@example.org"),
                        headers={"x-forwarded-for": f"10.0.0.1, {ip}"}).status_code
            for i, ip in enumerate(("203.0.113.7", "203.0.113.8"))
        ]
        assert codes == expected
        with Session(any_engine) as s:  # start the next round with fresh limits
            for bucket in s.exec(select(RateBucket)).all():
                s.delete(bucket)
            s.commit()


def test_withdraw_confirmed_pledge_stops_counting(any_engine: Engine, client: TestClient) -> None:
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    links = links_in(emails(any_engine)[0].body_text)
    press_confirm(client, links["confirm"])
    assert progress(client)["confirmed"] == 1
    page = client.get(links["withdraw"])
    assert page.status_code == 200 and "Withdraw my pledge" in page.text and page.headers["cache-control"] == "no-store"
    assert progress(client)["confirmed"] == 1  # opening the link changes nothing
    assert client.post(links["withdraw"], data={"csrf": csrf_of(client)}).status_code == 200
    assert progress(client)["confirmed"] == 0
    assert client.post(links["withdraw"], data={"List-Unsubscribe": "One-Click"}).status_code == 200  # idempotent
    assert pledges(any_engine)[0].status == PledgeStatus.withdrawn
    assert client.get(f"/c/{SLUG}/withdraw/not-a-token").status_code == 404
    # pledging again starts over: new links, must confirm again
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    new_links = links_in(emails(any_engine)[-1].body_text)
    assert new_links["confirm"] != links["confirm"]
    assert client.get(links["confirm"]).status_code == 404
    press_confirm(client, new_links["confirm"])
    assert progress(client)["confirmed"] == 1


def test_withdraw_pending_pledge_before_confirming(any_engine: Engine, client: TestClient) -> None:
    client.post(f"/c/{SLUG}/pledge", data=pledge_form(client))
    links = links_in(emails(any_engine)[0].body_text)
    client.post(links["withdraw"], data={"List-Unsubscribe": "One-Click"})  # RFC 8058: no Origin, no CSRF token
    assert client.get(links["confirm"]).status_code == 404
    assert progress(client)["confirmed"] == 0
