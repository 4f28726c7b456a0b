"""Choosing a page's language: ?lang=, then the cookie, then Accept-Language, then the campaign's default."""

from __future__ import annotations

import pytest

from social_campaign.i18n.negotiate import accept_language, choose, match

LANGS = ("en", "fr", "es", "ar")


def test_the_order_is_query_cookie_header_default() -> None:
    assert choose(LANGS, query="ar", cookie="fr", accept="es") == "ar"
    assert choose(LANGS, query=None, cookie="fr", accept="es") == "fr"
    assert choose(LANGS, accept="es-MX,es;q=0.9") == "es"
    assert choose(LANGS) == "en"
    assert choose(("fr", "en")) == "fr"  # the first listed is the default


@pytest.mark.parametrize("bad", ["zz", "", "fr;drop table", "x" * 200, "../../etc", "de", "12", "fr-"])
def test_an_unknown_or_malformed_query_falls_through(bad: str) -> None:
    assert choose(LANGS, query=bad, accept="es") == "es"
    assert choose(LANGS, query=bad, cookie=bad) == "en"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE,de;q=0.9,fr;q=0.8", "fr"),
        ("fr-CA", "fr"),
        ("ES", "es"),
        ("ar-EG;q=0.5, fr;q=0.6", "fr"),
        ("fr;q=0", "en"),  # q=0 means "not this one"
        (";;;,,,q=1", "en"),
        ("*", "en"),
        ("fr;q=abc, es;q=2", "en"),  # malformed weights are skipped
        ("fr;level=1", "en"),
        ("\u00e9\u00e9", "en"),
        ("de," * 5000 + "fr", "en"),  # read only so far
    ],
)
def test_accept_language_is_matched_against_the_campaign(header: str, expected: str) -> None:
    assert choose(LANGS, accept=header) == expected


def test_accept_language_ranks_by_quality_then_order() -> None:
    assert accept_language("a;q=0.5, b, c;q=0.9, d") == ["b", "d", "c", "a"]


def test_regional_tags_match_the_primary_language_both_ways() -> None:
    assert match("pt", ("en", "pt-BR")) == "pt-BR"
    assert match("fr-BE", ("en", "fr")) == "fr"
    assert match("pt-BR", ("en", "pt-BR")) == "pt-BR"
    assert match("es", ("en", "pt-BR")) is None
