"""The pledge form's checks: each refusal is a sentence for people naming its field (``BadRequest.field``), in the
active language, and an accepted form carries the page's language."""

from __future__ import annotations

from typing import Any

import pytest

from social_campaign.errors import BadRequest
from social_campaign.i18n import use
from social_campaign.pledges.abuse import validate_form

GOOD: dict[str, Any] = {"name": "Amina", "email": "amina@example.org", "consent": "yes"}


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"name": "  "}, "name", "Please enter your name."),
    ({"name": "x" * 101}, "name", "Please keep your name to 100 characters."),
    ({"name": "@cmd"}, "name", "Your name cannot start with =, +, - or @."),
    ({"name": "Ami\u202ena"}, "name", "Your name contains characters we cannot accept. Please type it again."),
    ({"email": "amina@"}, "email", "Please enter a valid email address, such as name@example.org."),
    ({"consent": None}, "consent", "Please tick the box, so that we may email you the confirmation link and the call to act."),
    ({"minimum_age": 16}, "age_ok", "This pledge is for people aged 16 or older. Please tick the box if you are."),
    ({"country": "c" * 61}, "country", "Please keep the country to 60 characters."),
    ({"postcode": "12\x0034"}, "postcode", "The postcode contains characters we cannot accept. Please type it again."),
])
def test_each_refusal_names_its_field_in_a_sentence(changes: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_form(**{**GOOD, **changes})
    assert caught.value.field == field and str(caught.value) == message
    assert ":" not in str(caught.value).split(" ")[0]  # no "field:" prefix


def test_an_accepted_form_carries_the_page_language() -> None:
    assert validate_form(**GOOD).lang == "en"
    with use("fr", "en"):
        form = validate_form(**GOOD, minimum_age=16, age_ok="yes", country=" Suisse ", postcode="")
    assert (form.lang, form.age_ok, form.country, form.postcode) == ("fr", True, "Suisse", None)
    assert validate_form(**GOOD, lang="ar").lang == "ar"


def test_messages_follow_the_active_language() -> None:
    """Outside a request the source text; inside ``use`` the catalogue's (English falls back to the source)."""
    with use("ar", "en"), pytest.raises(BadRequest) as caught:
        validate_form(**{**GOOD, "name": ""})
    assert caught.value.field == "name" and str(caught.value)  # a translation, or the English text with a warning
