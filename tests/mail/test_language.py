"""Emails in the pledge's language: ``Content-Language``, ``?lang=`` links, the campaign's words in that language, the
catalogue's strings, and the default language for a language the campaign does not list."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from social_campaign import i18n
from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.i18n import _, formatting
from social_campaign.mail import render, skeleton
from social_campaign.models import PledgeStatus
from social_campaign.pledges import notify
from tests.mail.conftest import make_campaign

FR_NAME = "Journée mondiale de l'enfance"
SUPPORTER = notify.Supporter(7, "Zoé <Z> & Co", "zoe@example.org", "zoe@example.org", "ShArE-tok_1", PledgeStatus.pending)


def bilingual(tmp_path: Path) -> Campaign:
    c = make_campaign(tmp_path)
    return replace(c, languages=("en", "fr"), names={"fr": FR_NAME})


def _in(lang: str, msgid: str, **values: str) -> str:
    """``msgid`` as the shipped catalogue gives it in ``lang`` (English until the catalogue has it)."""
    with i18n.use(lang, "en"):
        return _(msgid) % values


def test_confirm_email_in_french(settings: Settings, tmp_path: Path) -> None:
    campaign = bilingual(tmp_path)
    email = notify.email_for(settings, campaign, SUPPORTER, duplicate=False, lang="fr")
    links = notify.links_for(settings, campaign.slug, SUPPORTER.share_token)
    assert email["headers"]["Content-Language"] == "fr"
    assert email["headers"]["List-Unsubscribe"] == f"<{links.withdraw}>"  # the one-click POST target: no query
    assert email["subject"] == _in("fr", "Please confirm your pledge for %(campaign_name)s", campaign_name=FR_NAME)
    text, html = email["body_text"], email["body_html"]
    for url in (links.confirm, links.withdraw, render.me_link(links.withdraw)):
        assert f"{url}?lang=fr" in text and f'href="{url}?lang=fr"' in html
    assert FR_NAME in text and "Universal Children" not in text
    assert '<html lang="fr" dir="ltr">' in html and "Zoé &lt;Z&gt; &amp; Co" in html and "Zoé <Z> & Co" in text
    fire_at = formatting.when(campaign.pledge.fire_at, campaign.timezone, "fr")  # type: ignore[union-attr]
    assert fire_at.startswith("samedi 20 novembre 2027") and fire_at in text  # the one time format, in French


def test_duplicate_email_in_french(settings: Settings, tmp_path: Path) -> None:
    campaign = bilingual(tmp_path)
    email = notify.email_for(settings, campaign, SUPPORTER, duplicate=True, lang="fr")
    assert email["headers"]["Content-Language"] == "fr" and email["kind"] == "duplicate"
    assert "/confirm/" in email["body_text"] and "?lang=fr" in email["body_text"].split("/confirm/")[1].split()[0]


@pytest.mark.parametrize("lang", ["de", "xx-!!", ""])
def test_unlisted_language_falls_back_to_the_default(settings: Settings, tmp_path: Path, lang: str | None) -> None:
    campaign = replace(bilingual(tmp_path), languages=("fr", "en"))  # French first: the default
    email = notify.email_for(settings, campaign, SUPPORTER, duplicate=False, lang=lang)
    assert email["headers"]["Content-Language"] == "fr" and FR_NAME in email["subject"]
    assert "?lang=fr" in email["body_text"]


def test_without_a_language_the_active_one_is_used(settings: Settings, tmp_path: Path) -> None:
    """How intake's writer thread may set it: ``with i18n.use(form.lang, default)`` around ``email_for``."""
    campaign = bilingual(tmp_path)
    with i18n.use("fr", "en"):
        email = notify.email_for(settings, campaign, SUPPORTER, duplicate=False)
        assert render.email_language(campaign, None) == "fr"
    assert email["headers"]["Content-Language"] == "fr" and FR_NAME in email["subject"]
    with i18n.use("de", "en"):  # not a language of the campaign: its default
        assert notify.email_for(settings, campaign, SUPPORTER, duplicate=True)["headers"]["Content-Language"] == "en"


def test_english_single_language_emails_are_unchanged(settings: Settings, tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path)
    email = notify.email_for(settings, campaign, SUPPORTER, duplicate=False, lang="fr")  # the campaign lists only en
    assert email["headers"]["Content-Language"] == "en"
    assert email["subject"] == "Please confirm your pledge for Universal Children's Day"
    assert "?lang=" not in email["body_text"] and "?lang=" not in email["body_html"]
    assert '<html lang="en" dir="ltr">' in email["body_html"]


def test_arabic_html_is_right_to_left(settings: Settings, tmp_path: Path) -> None:
    campaign = replace(make_campaign(tmp_path), languages=("en", "ar"))
    r = render.render_not_reached(settings, campaign, name="Ali", confirmed=1, withdraw_url="https://h/c/x/withdraw/W",
                                  lang="ar")
    assert r.headers["Content-Language"] == "ar" and '<html lang="ar" dir="rtl">' in r.html
    assert "https://h/c/x/withdraw/W?lang=ar" in r.text


@pytest.mark.parametrize("lang", ["en", "fr", "es", "ar"])
def test_skeletons_give_exactly_the_full_render(settings: Settings, tmp_path: Path, lang: str) -> None:
    """The fast paths (confirmation at intake, the release fan-out) fill a skeleton; it must hold in every language
    (the ``me`` link is a field of its own: the skeleton cannot derive it from the withdraw link)."""
    campaign = replace(make_campaign(tmp_path), languages=("en", "fr", "es", "ar"), names={"fr": FR_NAME})
    sample = {"name": "A <b>'&\"", "url": "https://a.example/c/x/share/T&x=1", "text": "Go & <i>\"now\"</i>\nok",
              "withdraw": "https://a.example/c/x/withdraw/W", "me": "https://a.example/c/x/me/W"}
    makers = {
        "confirm": lambda v: render.render_confirm(settings, campaign, v["name"], v["url"], v["withdraw"], v["me"],
                                                   lang=lang),
        "release": lambda v: render.render_release(settings, campaign, name=v["name"], share_url=v["url"],
                                                   share_text=v["text"], confirmed=1234, withdraw_url=v["withdraw"],
                                                   me_url=v["me"], lang=lang),
        "not_reached": lambda v: render.render_not_reached(settings, campaign, name=v["name"], confirmed=2,
                                                           withdraw_url=v["withdraw"], me_url=v["me"], lang=lang),
    }
    other = {"name": "Bo", "url": "https://b.example/c/x/share/U", "text": "Plain", "withdraw": "https://b.example/w/V",
             "me": "https://b.example/me/V"}
    for kind, make in makers.items():
        made = skeleton.prepare(make, sample)
        assert made is not None, kind
        assert made.fill(other) == make(other), kind
        assert made.rendered.headers["Content-Language"] == lang
