"""The shipped catalogues: complete for every string the code and templates use, compiled, and safe when one is not.

``make messages`` extracts and merges, ``make catalogs`` compiles; these tests fail when a template or module uses a
string a catalogue lacks (or has only as fuzzy, or with different placeholders), or when a ``.mo`` is stale.
"""

from __future__ import annotations

import gettext
import io
import logging
import re
import threading
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from social_campaign.i18n import _, catalogs, current, ngettext, use

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [lang for lang in catalogs.SHIPPED if lang != catalogs.SOURCE]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _used() -> dict[str, str | None]:
    """Every msgid the package marks (Python and Jinja2 templates), with its plural when it has one."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found: dict[str, str | None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        if isinstance(message, tuple):
            found[message[0]] = message[1]
        else:
            found.setdefault(message, None)
    return found


def _po(lang: str) -> Catalog:
    with (catalogs.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


@pytest.fixture(scope="module")
def used() -> dict[str, str | None]:
    return _used()


def test_the_package_marks_its_strings(used: dict[str, str | None]) -> None:
    assert len(used) > 100  # pages, emails, form errors and titles all go through the catalogues


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_used_string_is_translated(lang: str, used: dict[str, str | None]) -> None:
    catalog = _po(lang)
    problems = []
    for msgid, plural in sorted(used.items()):
        entry = catalog.get(msgid)
        if entry is None:
            problems.append(f"missing: {msgid!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy or not all(strings):
            problems.append(f"untranslated or fuzzy: {msgid!r}")
            continue
        wanted = set(PLACEHOLDER.findall(msgid)) | set(PLACEHOLDER.findall(plural or ""))
        for text in strings:
            if not set(PLACEHOLDER.findall(text)) <= wanted:
                problems.append(f"placeholders differ: {msgid!r} -> {text!r}")
        if plural is not None and len(strings) != catalog.num_plurals:
            problems.append(f"{len(strings)} plural forms, {lang} needs {catalog.num_plurals}: {msgid!r}")
    assert not problems, f"{lang}: " + "\n".join(problems[:40])


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalogue_is_up_to_date(lang: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, _po(lang))
    compiled.seek(0)
    fresh = gettext.GNUTranslations(compiled)
    with (catalogs.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        shipped = gettext.GNUTranslations(fh)
    assert shipped._catalog == fresh._catalog, f"run `make catalogs`: {lang}'s messages.mo is stale"  # type: ignore[attr-defined]


def _compile(directory: Path, lang: str, entries: dict[str, str]) -> None:
    catalog = Catalog(locale=lang)
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr)
    target = directory / lang / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as fh:
        write_mo(fh, catalog)


def test_a_missing_string_falls_back_to_the_default_language_then_english_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _compile(tmp_path, "fr", {"Pledge": "Je m'engage", "Only in French": "Seulement en français"})
    _compile(tmp_path, "es", {"Pledge": "Me comprometo"})
    chain = catalogs.build_chain("es", "fr", tmp_path)
    with caplog.at_level(logging.WARNING, logger="social_campaign.i18n.catalogs"):
        assert chain.gettext("Pledge") == "Me comprometo"
        assert chain.gettext("Only in French") == "Seulement en français"  # the campaign's default language
        assert chain.gettext("Nowhere at all") == "Nowhere at all"  # English source text, never a key
        assert chain.gettext("Nowhere at all") == "Nowhere at all"
        assert chain.ngettext("one thing", "%(num)s things", 3) == "%(num)s things"
    warnings = [r.getMessage() for r in caplog.records]
    assert sum("Nowhere at all" in w for w in warnings) == 1  # once per language and string
    assert all("es" in w for w in warnings)


def test_english_needs_no_catalogue_and_never_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), use("en"):
        assert _("Nothing to translate here") == "Nothing to translate here"
        assert ngettext("%(num)s supporter", "%(num)s supporters", 1) == "%(num)s supporter"
    assert not caplog.records


def test_an_unknown_language_shows_english(caplog: pytest.LogCaptureFixture) -> None:
    with use("zz"):
        assert _("Some sentence that exists nowhere.") == "Some sentence that exists nowhere."


def test_the_active_language_never_leaks_between_threads() -> None:
    seen: dict[str, str] = {}
    started = threading.Barrier(2)

    def worker(lang: str) -> None:
        with use(lang):
            started.wait(timeout=5)
            seen[lang] = current()

    threads = [threading.Thread(target=worker, args=(lang,)) for lang in ("fr", "ar")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"fr": "fr", "ar": "ar"}
    assert current() == "en"
