"""Rate limits through the ASGI app, on SQLite and PostgreSQL: a shared network under the default limits loses nobody,
a client over a limit gets a readable 429 with Retry-After (the same whatever the email), refused from memory after the
first refusal, and the limit holds across processes (a second app on the same database)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.models import EmailMessage, Pledge, RateBucket
from social_campaign.pledges.abuse import window_start
from tests.web.conftest import pledge_form, with_settings

SLUG = "childrens-day"
DEFAULT_LIMITS = Settings.model_fields["pledge_rate_limits"].default


def counts(engine: Engine) -> tuple[int, int, list[int]]:
    """Pledge rows, email rows, and the hits of every rate bucket."""
    with Session(engine) as s:
        return (len(s.exec(select(Pledge)).all()), len(s.exec(select(EmailMessage)).all()),
                [b.hits for b in s.exec(select(RateBucket)).all()])


def test_a_class_on_one_network_all_get_the_answer_and_an_email_under_the_defaults(
    any_engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    assert DEFAULT_LIMITS == "30/60s,300/3600s"
    client = client_for(any_engine, [campaign], with_settings(web_settings, pledge_rate_limits=DEFAULT_LIMITS))
    for i in range(30):  # one address (the test client), 30 people within a minute
        r = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, name=f"Pupil {i}", email=f"pupil{i}@example.org"))
        assert r.status_code == 200 and "Check your email" in r.text, (i, r.status_code)
    with Session(any_engine) as s:
        assert sorted(p.status for p in s.exec(select(Pledge)).all()) == ["pending"] * 30
        sent = s.exec(select(EmailMessage)).all()
    assert sorted(e.to_addr for e in sent) == sorted(f"pupil{i}@example.org" for i in range(30))
    assert {(e.kind, e.state) for e in sent} == {("confirm", "queued")}


def _normalised(r: object) -> tuple[int, str, list[tuple[str, str]]]:
    """Status, body and headers with every number (the seconds to wait) and the Date header taken out."""
    skip = {"date", "retry-after", "content-length"}
    headers = sorted((k, v) for k, v in r.headers.items() if k.lower() not in skip)  # type: ignore[attr-defined]
    return r.status_code, re.sub(r"\d+", "N", r.text), headers  # type: ignore[attr-defined]


def test_over_the_limit_gets_a_readable_429_with_retry_after_and_nothing_is_stored(
    any_engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    settings = with_settings(web_settings, pledge_rate_limits="2/24h")  # one window per day: no boundary mid-test
    client = client_for(any_engine, [campaign], settings)
    for email in ("amina@example.org", "ben@example.org"):
        assert client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email=email)).status_code == 200
    before = datetime.now(UTC)
    day_end = window_start(before, 86400) + timedelta(days=1)
    r = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email="chidi@example.org"))
    assert r.status_code == 429
    seconds = int(r.headers["retry-after"])
    assert 1 <= seconds <= (day_end - before).total_seconds() + 1
    assert r.headers["cache-control"] == "no-store" and r.headers["content-type"].startswith("text/html")
    assert f'<time datetime="{day_end.isoformat()}">' in r.text  # when the window ends
    assert '<html lang="en" dir="ltr">' in r.text and "<h1>Please try again in " in r.text and 'role="alert"' in r.text
    assert "has not been saved" in r.text and f'href="/c/{SLUG}#pledge-form"' in r.text
    assert counts(any_engine) == (2, 2, [3])  # counted once, nothing else stored, no email
    # the same answer for an address that has pledged and one that has not; from memory, not the database
    known = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email="amina@example.org"))
    unknown = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email="dana@example.org"))
    assert _normalised(known) == _normalised(unknown) == _normalised(r)
    assert counts(any_engine) == (2, 2, [3])  # the refused client's attempts no longer reach the database


def test_the_limit_holds_across_processes_and_a_honeypot_within_it_gets_the_normal_answer(
    any_engine: Engine, campaign: Campaign, web_settings: Settings, client_for: Callable[..., TestClient]
) -> None:
    settings = with_settings(web_settings, pledge_rate_limits="2/24h")
    first, second = client_for(any_engine, [campaign], settings), client_for(any_engine, [campaign], settings)
    bot = first.post(f"/c/{SLUG}/pledge", data=pledge_form(first, email="bot@example.org", website="http://spam.example"))
    assert bot.status_code == 200 and "Check your email" in bot.text
    assert first.post(f"/c/{SLUG}/pledge", data=pledge_form(first, email="eve@example.org")).status_code == 200
    r = second.post(f"/c/{SLUG}/pledge", data=pledge_form(second, email="fay@example.org"))  # another app: no memory yet
    assert r.status_code == 429 and "retry-after" in r.headers
    with Session(any_engine) as s:
        assert sorted((p.email, p.status) for p in s.exec(select(Pledge)).all()) == [
            ("bot@example.org", "fraud"), ("eve@example.org", "pending"),
        ]
