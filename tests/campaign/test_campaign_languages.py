"""Campaigns in several languages: ``[campaign] languages``, the translations tables, messages, pledge variants and
cards per language, and the lookups in ``campaign/languages.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from social_campaign.campaign.check import check_campaign
from social_campaign.campaign.languages import (
    card_spec_for,
    is_tag,
    match,
    message_file,
    spec_translation_of,
    variant_files,
)
from social_campaign.campaign.loader import load_campaign
from social_campaign.campaign.model import PledgeSpec
from social_campaign.errors import Problem
from social_campaign.text import x_weighted_length
from tests.campaign.campaign_helpers import HEAD, errors, line_of, make_campaign, post, warnings

NOW = datetime(2026, 11, 1, tzinfo=UTC)
FONTS = Path(__file__).resolve().parents[2] / "infographics" / "fonts"
EN_FR = HEAD + 'languages = ["en", "fr"]\n'
DE = 'lang = "de"'
BOTH = {"hello.md": "Hello #CRC", "hello.fr.md": "Bonjour #CRC"}
PLEDGE = """
[pledge]
goal = 10
deadline = 2027-11-20T09:00:00
fire_at = 2027-11-20T12:00:00
message = "clap"
channels = ["x", "facebook"]
"""


def check(path: Path) -> list[Problem]:
    return check_campaign(path, now=NOW)


def test_languages_and_translations_load(tmp_path: Path) -> None:
    head = (
        HEAD
        + 'description = "The story."\nlanguages = ["en", "fr", "pt-BR"]\n'
        + '\n[campaign.translations.fr]\nname = "Campagne test"\ndescription = "L\'histoire."\n'
        + '\n[campaign.translations.pt-BR]\ndescription = "A história."\n'
    )
    messages = {**BOTH, "hello.pt-BR.md": "Olá #CRC"}
    path = make_campaign(tmp_path, post(), messages, head=head)
    assert errors(check(path)) == []
    (only_warning,) = warnings(check(path))  # no interface catalogue for Portuguese
    assert only_warning.startswith(f"{path}:{line_of(path, 'languages =')}: warning: language 'pt-BR' has no interface")
    campaign = load_campaign(path)
    assert campaign.languages == ("en", "fr", "pt-BR") and campaign.default_language == "en"
    assert campaign.name_in("fr") == "Campagne test" and campaign.description_in("fr") == "L'histoire."
    assert campaign.name_in("fr-CA") == "Campagne test"  # by the first subtag
    assert campaign.name_in("pt") == "Test campaign"  # no Portuguese name: the default's
    assert campaign.description_in("pt-br") == "A história."
    assert campaign.name_in("de") == campaign.name_in(None) == "Test campaign"
    assert campaign.description_in("en") == "The story."
    only = campaign.posts[0]
    assert only.lang == "en" and only.texts == {"x": "Hello #CRC", "facebook": "Hello #CRC"}
    assert only.texts_in("fr")["x"] == "Bonjour #CRC" and only.texts_in("pt-BR")["x"] == "Olá #CRC"
    assert only.texts_in("de") == only.texts


def test_bad_duplicate_and_empty_language_lists(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(), BOTH, head=HEAD + 'languages = ["en", "english", "fr_FR", "EN"]\n')
    line = line_of(path, "languages =")
    found = errors(check(path))
    assert f'{path}:{line}: language \'english\' is not a language tag such as "en", "fr" or "pt-BR"' in found
    assert f"{path}:{line}: language 'fr_FR' is not a language tag such as \"en\", \"fr\" or \"pt-BR\" (write 'fr-FR')" in found
    assert f"{path}:{line}: language 'EN' is listed twice in languages" in found
    path.write_text(path.read_text().replace('["en", "english", "fr_FR", "EN"]', "[]"))
    assert errors(check(path)) == [
        f"{path}:{line}: languages is empty: list the campaign's languages, the default first (e.g. [\"en\", \"fr\"])"
    ]
    path.write_text(path.read_text().replace("[]", '"en"'))
    assert errors(check(path)) == [f"{path}:{line}: 'languages' in [campaign] must be a list, not the string 'en'"]


def test_a_language_without_interface_catalogue_is_a_warning(tmp_path: Path) -> None:
    path = make_campaign(
        tmp_path,
        post(),
        {"hello.md": "Hello #CRC", "hello.de.md": "Hallo #CRC"},
        head=HEAD + 'languages = ["en", "de"]\n',
    )
    assert errors(check(path)) == []
    (found,) = warnings(check(path))
    assert found.startswith(f"{path}:{line_of(path, 'languages =')}: warning: language 'de' has no interface translation")
    assert load_campaign(path).languages == ("en", "de")


def test_translations_tables_problems(tmp_path: Path) -> None:
    head = (
        HEAD
        + 'description = "The story."\nlanguages = ["en", "fr", "es"]\n'
        + '\n[campaign.translations.de]\nname = "Testkampagne"\n'
        + '\n[campaign.translations.en]\nname = "Test"\n'
        + '\n[campaign.translations.fr]\nname = ""\ndescripton = "typo"\n'
    )
    messages = {**BOTH, "hello.es.md": "Hola #CRC"}
    path = make_campaign(tmp_path, post(), messages, head=head)
    found = errors(check(path))
    assert (
        f"{path}:{line_of(path, '[campaign.translations.de]')}: [campaign.translations.de]: 'de' is not one of the "
        "campaign's languages (en, fr, es)"
    ) in found
    assert (
        f"{path}:{line_of(path, '[campaign.translations.en]')}: [campaign.translations.en]: 'en' is the default "
        "language: its name and description are [campaign]'s own"
    ) in found
    fr_name = line_of(path, 'name = ""')
    assert f"{path}:{fr_name}: [campaign.translations.fr]: name is empty (leave it out to use [campaign]'s)" in found
    assert any(
        f.startswith(f"{path}:{line_of(path, 'descripton')}: unknown key 'descripton' in [campaign.translations.fr]")
        and "did you mean 'description'?" in f
        for f in found
    )
    # a listed language without the story: at its table when it has one, else at `languages`
    fr_table, languages = line_of(path, "[campaign.translations.fr]"), line_of(path, "languages =")
    assert (
        f"{path}:{fr_table}: [campaign] description has no 'fr' version: add description to [campaign.translations.fr]"
    ) in found
    assert (
        f"{path}:{languages}: [campaign] description has no 'es' version: add description to [campaign.translations.es]"
    ) in found
    assert len(found) == 6, found


def test_no_description_needs_no_translation(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(), BOTH, head=EN_FR)
    assert check(path) == []
    assert load_campaign(path).description_in("fr") == ""


def test_missing_message_per_language_names_the_file(tmp_path: Path) -> None:
    head = HEAD + 'languages = ["en", "fr", "es"]\n'
    path = make_campaign(tmp_path, post(), {"hello.md": "Hello #CRC", "hello.es.md": "Hola #CRC"}, head=head)
    line = line_of(path, 'message = "hello"')
    assert errors(check(path)) == [
        f"{path}:{line}: post 'one': message file {tmp_path / 'messages' / 'hello.fr.md'} not found "
        "(message 'hello' in 'fr')"
    ]
    (tmp_path / "messages" / "hello.md").unlink()  # the default language's file: today's message, one line
    found = errors(check(path))
    assert f"{path}:{line}: post 'one': message file {tmp_path / 'messages' / 'hello.md'} not found" in found
    assert len(found) == 2


def test_post_lang_chooses_the_language_of_an_organisation_post(tmp_path: Path) -> None:
    body = post() + 'lang = "fr"\n' + post("two", message="only-fr") + 'lang = "fr"\n'
    messages = {"hello.fr.md": "Bonjour #CRC", "hello.fr.x.md": "Salut #CRC", "only-fr.fr.md": "Seulement #CRC"}
    path = make_campaign(tmp_path, body, messages, head=EN_FR)
    assert check(path) == []  # a French post needs only its French files
    one, two = load_campaign(path).posts
    assert one.lang == "fr" and one.texts == {"x": "Salut #CRC", "facebook": "Bonjour #CRC"}
    assert one.texts_by_lang == {"fr": one.texts} and two.texts["x"] == "Seulement #CRC"
    path.write_text(path.read_text().replace('lang = "fr"', DE, 1))
    assert errors(check(path)) == [
        f"{path}:{line_of(path, DE)}: post 'one': lang 'de' is not one of the campaign's languages "
        "(en, fr); list it in [campaign] languages"
    ]


def test_post_lang_without_languages_is_a_problem(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post() + 'lang = "fr"\n', {"hello.md": "Hello #CRC"})
    assert any("lang 'fr' is not one of the campaign's languages (en)" in e for e in errors(check(path)))
    path.write_text(path.read_text().replace('lang = "fr"', 'lang = "en"'))
    assert check(path) == [] and load_campaign(path).posts[0].lang == "en"


def test_lookup_order(tmp_path: Path) -> None:
    folder = tmp_path / "messages"
    folder.mkdir()
    names = ["m.fr.x.md", "m.fr.md", "m.x.md", "m.md"]
    for name in names:
        (folder / name).write_text(name)
    assert message_file(folder, "m", "fr", "en", "x") == folder / "m.fr.x.md"
    assert message_file(folder, "m", "fr", "en", "facebook") == folder / "m.fr.md"
    assert message_file(folder, "m", "en", "en", "x") == folder / "m.x.md"
    assert message_file(folder, "m", "en", "en", "facebook") == folder / "m.md"
    (folder / "m.fr.x.md").unlink()
    assert message_file(folder, "m", "fr", "en", "x") == folder / "m.fr.md"
    (folder / "m.fr.md").unlink()
    assert message_file(folder, "m", "fr", "en", "x") is None  # never another language's file
    assert message_file(folder, "m", "fr", "fr", "x") == folder / "m.x.md"  # fr as the default keeps plain names


def test_variant_files_per_language(tmp_path: Path) -> None:
    folder = tmp_path / "messages"
    folder.mkdir()
    for name in ("c.md", "c.v2.md", "c.v10.md", "c.fr.md", "c.v2.fr.md", "c.v3.es.md", "c.fr.x.md", "cc.v2.fr.md"):
        (folder / name).write_text(name)
    assert variant_files(folder, "c", "en", "en") == [(1, folder / "c.md"), (2, folder / "c.v2.md"), (10, folder / "c.v10.md")]
    assert variant_files(folder, "c", "fr", "en") == [(1, folder / "c.fr.md"), (2, folder / "c.v2.fr.md")]
    assert variant_files(folder, "c", "es", "en") == [(3, folder / "c.v3.es.md")]


def test_per_language_length_and_duplicate_rules(tmp_path: Path) -> None:
    long_fr = "Bonjour " + "très " * 60 + "#CRC"
    messages = {"hello.md": "Hello #CRC", "hello.fr.md": long_fr, "two.md": "Second #CRC", "two.fr.md": long_fr}
    path = make_campaign(tmp_path, post() + post("two", "2027-11-19T10:00:00", "two"), messages, head=EN_FR)
    shown = tmp_path / "messages" / "hello.fr.md"
    found = errors(check(path))
    assert any(f.startswith(f"{shown}:1: post 'one' (fr): too long for X: weighted length") for f in found), found
    weighted = x_weighted_length(long_fr)
    assert f"{tmp_path / 'messages' / 'two.fr.md'}:1: post 'two' (fr): too long for X: weighted length {weighted} > 280" in found
    two_line = line_of(path, 'message = "two"')
    assert f"{path}:{two_line}: post 'two' has the same 'fr' text on x as post 'one'; X rejects duplicates" in found
    assert len(found) == 4, found  # the two lengths and the duplicate on x and facebook; English is fine


def test_url_warning_once_per_post_and_placeholders_in_every_language(tmp_path: Path) -> None:
    messages = {"hello.md": "Hello {link}", "hello.fr.md": "Bonjour {link} {hashtags}"}
    path = make_campaign(tmp_path, post(), messages, head=EN_FR)
    assert errors(check(path)) == []
    assert len(warnings(check(path))) == 1  # the same design choice is not repeated per language
    assert load_campaign(path).posts[0].texts_in("fr")["x"] == "Bonjour https://example.org/crc #ChildrensDay #CRC"
    (tmp_path / "messages" / "hello.fr.md").write_text("Bonjour {lien}")
    assert any("hello.fr.md:1: unknown placeholder {lien}" in e for e in errors(check(path)))


def test_missing_channel_version_in_a_language_is_a_warning(tmp_path: Path) -> None:
    messages = {**BOTH, "hello.facebook.md": "Hello, a longer text #CRC"}
    path = make_campaign(tmp_path, post(), messages, head=EN_FR)
    assert errors(check(path)) == []
    assert warnings(check(path)) == [
        f"{path}:{line_of(path, 'message = ')}: warning: post 'one': {tmp_path / 'messages' / 'hello.fr.facebook.md'} "
        f"not found: facebook gets {tmp_path / 'messages' / 'hello.fr.md'} in 'fr', although the default language has "
        "its own facebook version"
    ]


def test_pledge_variants_per_language(tmp_path: Path) -> None:
    messages = {
        **BOTH,
        "clap.md": "We act #CRC",
        "clap.v2.md": "We all act #CRC",
        "clap.x.md": "Org on X #CRC",
        "clap.fr.md": "Nous agissons #CRC",
        "clap.fr.x.md": "L'organisation sur X #CRC",
    }
    path = make_campaign(tmp_path, post() + PLEDGE, messages, head=EN_FR)
    line = line_of(path, 'message = "clap"')
    assert errors(check(path)) == [
        f"{path}:{line}: [pledge]: message file {tmp_path / 'messages' / 'clap.v2.fr.md'} not found "
        "(variant 2 of 'clap' in 'fr')"
    ]
    (tmp_path / "messages" / "clap.v2.fr.md").write_text("Nous agissons tous #CRC")
    assert check(path) == []
    spec = load_campaign(path).pledge
    assert spec is not None
    assert spec.variants == ("We act #CRC", "We all act #CRC")
    assert spec.variants_for("fr") == ("Nous agissons #CRC", "Nous agissons tous #CRC")
    assert spec.variants_for("fr-BE") == spec.variants_for("fr") and spec.variants_for("de") == spec.variants
    assert spec.org_texts == {"x": "Org on X #CRC", "facebook": "We act #CRC"}
    assert spec.org_texts_for("fr") == {"x": "L'organisation sur X #CRC", "facebook": "Nous agissons #CRC"}
    assert spec.share_text("fr", "x", 3) == "Nous agissons tous #CRC"
    assert spec.share_text(None, "x", 2) == "We act #CRC"
    (tmp_path / "messages" / "clap.v2.fr.md").write_text("Nous agissons #CRC")
    assert warnings(check(path)) == [
        f"{tmp_path / 'messages' / 'clap.v2.fr.md'}:1: warning: pledge variant is the same text as "
        f"{tmp_path / 'messages' / 'clap.fr.md'}; supporters should not all post the same words"
    ]


def test_variants_for_fallback_and_share_text() -> None:
    at = datetime(2027, 11, 20, tzinfo=UTC)
    spec = PledgeSpec(
        goal=1, deadline=at, fire_at=at, message="m", variants=("a", "b", "c"), org_texts={"x": "org"},
        variants_by_lang={"en": ("a", "b", "c"), "es": ("uno", "dos")}, org_texts_by_lang={"es": {"x": "org es"}},
    )
    assert spec.variants_for("es") == ("uno", "dos") and spec.variants_for("ES-mx") == ("uno", "dos")
    assert spec.variants_for("ar") == spec.variants_for(None) == ("a", "b", "c")
    assert [spec.share_text("es", "x", n) for n in range(4)] == ["uno", "dos", "uno", "dos"]  # its own count
    assert spec.org_texts_for("es") == {"x": "org es"} and spec.org_texts_for("fr") == {"x": "org"}
    bare = PledgeSpec(goal=1, deadline=at, fire_at=at, message="m", org_texts={"x": "org", "facebook": "org fb"})
    assert bare.variants_for("fr") == () and bare.share_text("fr", "facebook", 5) == "org fb"
    assert bare.share_text("fr", None, 0) == "org"


def _spec(path: Path, title: str, lang: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not (path.parent / "fonts").exists():
        (path.parent / "fonts").symlink_to(FONTS)
    line = f'lang = "{lang}"\n' if lang else ""
    path.write_text(f'title = "{title}"\nalt = "A card: {title}"\n{line}')


def test_card_spec_for_and_translations(tmp_path: Path) -> None:
    cards = tmp_path / "infographics"
    _spec(cards / "card.toml", "Children first", "en")
    _spec(cards / "card.fr.toml", "Les enfants d'abord", "fr")
    assert card_spec_for(cards / "card.toml", "fr") == cards / "card.fr.toml"
    assert card_spec_for(cards / "card.toml", "es") == cards / "card.toml"
    assert card_spec_for(cards / "card.toml", None) == cards / "card.toml"
    assert card_spec_for(cards / "photo.png", "fr") == cards / "photo.png"
    assert spec_translation_of(cards / "card.fr.toml", ("en", "fr")) == "fr"
    assert spec_translation_of(cards / "card.toml", ("en", "fr")) is None
    assert spec_translation_of(cards / "v1.2.toml", ("en", "fr")) is None


def test_cards_per_language_in_check(tmp_path: Path) -> None:
    cards = tmp_path / "infographics"
    _spec(cards / "card.toml", "Children first", "en")
    _spec(cards / "card.fr.toml", "Les enfants d'abord", "en")  # wrong lang
    head = HEAD + 'languages = ["en", "fr", "es"]\n'
    messages = {**BOTH, "hello.es.md": "Hola #CRC"}
    path = make_campaign(tmp_path, post() + 'media = ["infographics/card.toml"]\n', messages, head=head)
    problems = check(path)
    assert errors(problems) == [
        f"{cards / 'card.fr.toml'}:3: this is the 'fr' version of card.toml, but lang = 'en': write lang = 'fr'"
    ]
    assert warnings(problems) == [
        f"{path}:{line_of(path, 'media =')}: warning: card {cards / 'card.toml'} has no 'es' version "
        f"({cards / 'card.es.toml'} not found); pages and posts in 'es' show the default one"
    ]
    _spec(cards / "card.fr.toml", "Les enfants d'abord", "fr")
    _spec(cards / "card.es.toml", "Los niños primero", "es")
    assert check(path) == []
    campaign = load_campaign(path)
    assert campaign.posts[0].media[0].path == cards / "card.toml"  # an English post shows the English card
    before = campaign.content_hash
    _spec(cards / "card.es.toml", "Los niños primero, siempre", "es")  # translated specs count in the hash
    assert load_campaign(path).content_hash != before


def test_a_post_in_a_language_shows_its_card(tmp_path: Path) -> None:
    cards = tmp_path / "infographics"
    _spec(cards / "card.toml", "Children first", None)
    _spec(cards / "card.fr.toml", "Les enfants d'abord", "fr")
    body = post() + 'lang = "fr"\nmedia = ["infographics/card.toml"]\n'
    path = make_campaign(tmp_path, body, {"hello.fr.md": "Bonjour #CRC"}, head=EN_FR)
    assert check(path) == []
    ref = load_campaign(path).posts[0].media[0]
    assert ref.path == cards / "card.fr.toml" and ref.alt == "A card: Les enfants d'abord"


def test_default_card_lang_disagreeing_is_a_warning(tmp_path: Path) -> None:
    cards = tmp_path / "infographics"
    _spec(cards / "card.toml", "Children first", "en")
    head = HEAD.replace('hashtags', 'languages = ["fr"]\nhashtags')
    path = make_campaign(tmp_path, post() + 'media = ["infographics/card.toml"]\n', {"hello.md": "Salut #CRC"}, head=head)
    assert errors(check(path)) == []
    assert warnings(check(path)) == [
        f"{cards / 'card.toml'}:3: warning: lang = 'en', but this card is the campaign's default language, 'fr' "
        "(another language's card is card.<lang>.toml)"
    ]


def test_a_campaign_without_languages_is_unchanged(tmp_path: Path) -> None:
    messages = {"hello.md": "Hello #CRC", "hello.fr.md": "Bonjour #CRC", "clap.md": "We act #CRC"}
    cards = tmp_path / "infographics"
    _spec(cards / "card.toml", "Children first", "en")
    path = make_campaign(tmp_path, post() + 'media = ["infographics/card.toml"]\n' + PLEDGE, messages)
    assert check(path) == []
    campaign = load_campaign(path)
    assert campaign.languages == ("en",) and campaign.names == {} and campaign.descriptions == {}
    only = campaign.posts[0]
    assert only.lang == "en" and only.texts_by_lang == {"en": only.texts}
    assert campaign.pledge is not None and campaign.pledge.variants_by_lang == {"en": ("We act #CRC",)}
    before = campaign.content_hash
    (tmp_path / "messages" / "hello.fr.md").write_text("Changé")  # not a file this campaign uses
    _spec(cards / "card.fr.toml", "Les enfants d'abord", "fr")
    assert load_campaign(path).content_hash == before


def test_tags_and_matching() -> None:
    for good in ("en", "fr", "ar", "pt-BR", "zh-Hant", "zh-Hant-TW", "es-419", "sr-Latn-RS", "de-CH-1996"):
        assert is_tag(good), good
    for bad in ("", "e", "english", "fr_FR", "en-", "-en", "en.gb", "x", "fr-FRANCE1234"):
        assert not is_tag(bad), bad
    assert match("fr-CA", ("en", "fr")) == "fr" and match("PT", ("en", "pt-BR")) == "pt-BR"
    assert match("de", ("en", "fr")) is None and match(None, ("en",)) is None
