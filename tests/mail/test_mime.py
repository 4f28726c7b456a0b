from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from social_campaign.mail.mime import build_message


def _build(**kw):
    args = {
        "mail_from": "Kampagne für Kinder <campaign@example.org>", "to_addr": "ada@example.org",
        "subject": "Zeit zu teilen: Kinderrechte jetzt! ✊", "text": ".leading dot\nline two ünïcode\n" + "x" * 200,
        "html": "<p>Hello &amp; <b>welcome</b></p>", "message_id": "<abc@social-campaign.local>",
        "date": datetime(2027, 11, 20, 15, 0, tzinfo=UTC), "headers": {"List-Unsubscribe": "<https://h/w/1>"},
    }
    args.update(kw)
    return build_message(**args)


def test_round_trips_through_the_standard_parser() -> None:
    raw = _build()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    msg = message_from_bytes(raw, policy=default_policy)
    assert msg["Subject"] == "Zeit zu teilen: Kinderrechte jetzt! ✊"
    assert msg["From"].addresses[0].display_name == "Kampagne für Kinder"
    assert msg["Message-ID"] == "<abc@social-campaign.local>" and msg["List-Unsubscribe"] == "<https://h/w/1>"
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n").startswith(".leading dot\nline two ünïcode\n" + "x" * 200)
    assert "<b>welcome</b>" in msg.get_body(("html",)).get_content()
    assert raw == _build()  # byte-identical when sent again


def test_text_only_message() -> None:
    msg = message_from_bytes(_build(html=None), policy=default_policy)
    assert msg.get_content_type() == "text/plain"


@pytest.mark.parametrize("field", ["subject", "to_addr"])
def test_line_breaks_in_headers_are_refused(field: str) -> None:
    value = "Hi\r\nBcc: victim@example.org" if field == "subject" else "a@example.org\r\nBcc: v@example.org"
    with pytest.raises(ValueError):
        _build(**{field: value})
