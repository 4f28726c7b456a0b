from __future__ import annotations

import pytest

from social_campaign.config import Settings
from social_campaign.i18n import formatting
from social_campaign.mail import render


def test_confirm_has_links_promise_and_unsubscribe(settings: Settings, campaign) -> None:
    s = settings.model_copy(update={"public_url": "https://pledge.example.org"})
    r = render.render_confirm(s, campaign, "Ada <b>", "https://pledge.example.org/c/x/confirm/T1",
                              render.public_link(s, "/c/x/withdraw/W1"))
    assert r.subject == "Please confirm your pledge for Universal Children's Day"
    assert "https://pledge.example.org/c/x/confirm/T1" in r.text
    assert "https://pledge.example.org/c/x/withdraw/W1" in r.text and "https://pledge.example.org/c/x/withdraw/W1" in r.html
    fire_at = formatting.when(campaign.pledge.fire_at, campaign.timezone, "en")  # the one time format
    assert fire_at.startswith("Saturday, November 20, 2027, 10:00") and fire_at.endswith("EST")
    assert f"one email at {fire_at}" in r.text and f"one email at {fire_at}" in r.html  # in the campaign's time zone
    assert "Ada &lt;b&gt;" in r.html and "Ada <b>" in r.text  # HTML escaped, text not
    assert r.headers == {
        "Content-Language": "en",
        "List-Unsubscribe": "<https://pledge.example.org/c/x/withdraw/W1>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


@pytest.mark.parametrize("kind", ["duplicate", "release", "not_reached"])
def test_every_kind_carries_withdraw_link(settings: Settings, campaign, kind: str) -> None:
    w = "http://127.0.0.1:8000/c/childrens-day/withdraw/abc"
    if kind == "duplicate":
        r = render.render_duplicate(settings, campaign, "Bo", None, w)
        assert "already confirmed" in r.text
    elif kind == "release":
        r = render.render_release(settings, campaign, name="Bo", share_url="http://h/c/s/share/t", share_text="Go #CRC",
                                  confirmed=7, withdraw_url=w)
        assert "http://h/c/s/share/t" in r.text and "7 supporters" in r.text and "Go #CRC" in r.html
        assert r.subject.startswith("It's time")
    else:
        r = render.render_not_reached(settings, campaign, name="Bo", confirmed=2, withdraw_url=w)
        assert "nothing was posted" in r.text and "2 of 3" in r.text
    assert w in r.text and w in r.html and r.headers["List-Unsubscribe"] == f"<{w}>"


def test_unknown_kind_refused() -> None:
    with pytest.raises(ValueError, match="unknown email kind"):
        render.render("nope", campaign_name="c", withdraw_url="w")
