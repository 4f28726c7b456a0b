"""The release fan-out writes each supporter's email in the pledge's language (``PledgeData.lang``)."""

from __future__ import annotations

import json
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign import i18n
from social_campaign.config import Settings
from social_campaign.i18n import _, formatting
from social_campaign.mail.mime import message_from_row
from social_campaign.models import EmailMessage, Pledge
from social_campaign.pledges import release
from tests.pledges.release_support import (
    DEADLINE,
    FIRE_AT,
    FR_NAME,
    FR_VARIANTS,
    VARIANTS,
    add_pledges,
    make_campaign,
)


def _by_address(engine: Engine) -> dict[str, EmailMessage]:
    with Session(engine) as s:
        return {e.to_addr: e for e in s.exec(select(EmailMessage)).all()}


def _tokens(engine: Engine) -> dict[str, str | None]:
    with Session(engine) as s:
        return {p.email: p.share_token for p in s.exec(select(Pledge)).all()}


def _in(lang: str, msgid: str, **values: str) -> str:
    """``msgid`` as the shipped catalogue gives it in ``lang`` (English until the catalogue has it)."""
    with i18n.use(lang, "en"):
        return _(msgid) % values


def test_release_emails_follow_each_pledges_language(any_engine: Engine, settings: Settings, tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path, goal=3, languages=("en", "fr"))
    add_pledges(any_engine, 2, lang="fr")  # p0, p1
    add_pledges(any_engine, 1, start=2, lang="en")  # p2
    add_pledges(any_engine, 1, start=3, lang="de")  # p3: a language the campaign does not list
    add_pledges(any_engine, 1, start=4)  # p4: no recorded language (pledged before languages existed)
    release.advance(settings, any_engine, campaign, DEADLINE)
    assert release.advance(settings, any_engine, campaign, FIRE_AT).queued == 5
    emails, tokens = _by_address(any_engine), _tokens(any_engine)
    page = f"{settings.public_url}/c/childrens-day"

    for who in ("p0@example.org", "p1@example.org"):
        e = emails[who]
        assert json.loads(e.headers_json)["Content-Language"] == "fr"
        assert e.subject == _in("fr", "It's time: share %(campaign_name)s now", campaign_name=FR_NAME)
        assert FR_NAME in e.body_text and "Universal Children's Day" not in e.body_text
        assert f"{page}/share/{tokens[who]}?lang=fr" in e.body_text
        assert f'href="{page}/share/{tokens[who]}?lang=fr"' in e.body_html and '<html lang="fr" dir="ltr">' in e.body_html
        assert any(v in e.body_text for v in FR_VARIANTS) and not any(v in e.body_text for v in VARIANTS)
        assert "/withdraw/" in e.body_text and "?lang=fr" in e.body_text.split("/withdraw/")[1].split()[0]
        raw = message_from_bytes(message_from_row(e, "campaign@example.org"), policy=default_policy)
        assert raw["Content-Language"] == "fr"
        assert raw["List-Unsubscribe"].startswith(f"<{page}/withdraw/") and "lang" not in raw["List-Unsubscribe"]
    assert emails["p0@example.org"].body_text != emails["p1@example.org"].body_text  # the French variants rotate

    for who in ("p2@example.org", "p3@example.org", "p4@example.org"):  # English, and the default for the others
        e = emails[who]
        assert json.loads(e.headers_json)["Content-Language"] == "en"
        assert e.subject == "It's time: share Universal Children's Day now"
        assert f"{page}/share/{tokens[who]}?lang=en" in e.body_text  # the page opens in English, whatever the browser
        assert any(v in e.body_text for v in VARIANTS) and FR_NAME not in e.body_text


def test_not_reached_emails_follow_the_pledges_language(any_engine: Engine, settings: Settings, tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path, goal=10, languages=("en", "fr"))
    add_pledges(any_engine, 1, lang="fr")
    add_pledges(any_engine, 1, start=1, lang="en")
    assert release.advance(settings, any_engine, campaign, DEADLINE).evaluated == "failed"
    release.advance(settings, any_engine, campaign, FIRE_AT)
    emails = _by_address(any_engine)
    fr, en = emails["p0@example.org"], emails["p1@example.org"]
    assert json.loads(fr.headers_json)["Content-Language"] == "fr"
    assert fr.subject == _in("fr", "%(campaign_name)s: the goal was not reached", campaign_name=FR_NAME)
    with i18n.use("fr", "en"):
        closed = i18n.ngettext("The pledge for %(campaign)s closed with %(confirmed)s of %(num)s supporter.",
                               "The pledge for %(campaign)s closed with %(confirmed)s of %(num)s supporters.", 10)
        numbers = {"campaign": FR_NAME, "confirmed": formatting.number(2), "num": formatting.number(10)}
    assert closed % numbers in fr.body_text
    assert "/me/" in fr.body_text and "?lang=fr" in fr.body_text.split("/me/")[1].split()[0]
    assert json.loads(en.headers_json)["Content-Language"] == "en"
    assert en.subject == "Universal Children's Day: the goal was not reached"
    assert "closed with 2 of 10 supporters" in en.body_text


def test_single_language_campaign_emails_carry_no_lang_query(any_engine: Engine, settings: Settings,
                                                              tmp_path: Path) -> None:
    campaign = make_campaign(tmp_path, goal=1)
    add_pledges(any_engine, 1, lang="fr")  # French page language recorded, but the campaign is English only
    release.advance(settings, any_engine, campaign, DEADLINE)
    release.advance(settings, any_engine, campaign, FIRE_AT + timedelta(seconds=1))
    (e,) = _by_address(any_engine).values()
    assert json.loads(e.headers_json)["Content-Language"] == "en"
    assert "?lang=" not in e.body_text and "?lang=" not in e.body_html
    assert e.subject == "It's time: share Universal Children's Day now"
