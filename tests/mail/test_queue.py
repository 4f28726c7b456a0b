"""``mail.queue``: enqueue is idempotent on dedupe_key and caps emails per address; enqueue_many does the same in bulk."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.mail.queue import enqueue, enqueue_many
from social_campaign.models import EmailMessage


def email(key: str, to: str = "Jo@Example.org", campaign: str = "c") -> dict[str, Any]:
    return {"campaign": campaign, "kind": "confirm", "to_addr": to, "to_canonical": to.lower(), "subject": "s",
            "body_text": "t", "body_html": "<p>t</p>", "headers": {"List-Unsubscribe": "<https://x/w>"}, "dedupe_key": key}


def stored(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as s:
        rows = s.exec(select(EmailMessage).order_by(EmailMessage.id)).all()  # type: ignore[arg-type]
        return [(r.dedupe_key, r.to_canonical, r.state) for r in rows]


def test_enqueue_is_idempotent_and_caps_per_address_and_campaign(any_engine: Engine) -> None:
    with Session(any_engine) as s:
        first = enqueue(s, **email("k0"), max_per_address=3)
        assert first is not None and first.id is not None and first.state == "queued"
        assert first.message_id.startswith("<") and first.headers_json == '{"List-Unsubscribe": "<https://x/w>"}'
        assert enqueue(s, **email("k0"), max_per_address=3) is None  # same key: nothing new
        for i in range(1, 5):
            enqueue(s, **email(f"k{i}"), max_per_address=3)
        enqueue(s, **email("other-campaign", campaign="d"), max_per_address=3)  # the cap is per campaign
        s.commit()
    assert stored(any_engine) == [
        ("k0", "jo@example.org", "queued"), ("k1", "jo@example.org", "queued"), ("k2", "jo@example.org", "queued"),
        ("k3", "jo@example.org", "suppressed"), ("k4", "jo@example.org", "suppressed"),
        ("other-campaign", "jo@example.org", "queued"),
    ]


def test_enqueue_many_matches_one_at_a_time(any_engine: Engine) -> None:
    with any_engine.begin() as conn:
        enqueue_many(conn, [email("a0"), email("b0", to="b@example.org")], max_per_address=3)
    batch = [email("a0"), email("a1"), email("a1"), email("b1", to="b@example.org"), email("a2"), email("a3")]
    with any_engine.begin() as conn:
        enqueue_many(conn, batch, max_per_address=3)
        enqueue_many(conn, [], max_per_address=3)
    assert stored(any_engine) == [
        ("a0", "jo@example.org", "queued"), ("b0", "b@example.org", "queued"),
        ("a1", "jo@example.org", "queued"), ("b1", "b@example.org", "queued"), ("a2", "jo@example.org", "queued"),
        ("a3", "jo@example.org", "suppressed"),
    ]
