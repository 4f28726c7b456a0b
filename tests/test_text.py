"""X weighted length (twitter-text v3 with current emoji) and the other length helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from social_campaign.text import (
    BLUESKY_MAX,
    BLUESKY_MAX_BYTES,
    FACEBOOK_MAX,
    MASTODON_MAX,
    MASTODON_URL_LENGTH,
    X_MAX,
    bluesky_bytes,
    bluesky_length,
    facebook_length,
    find_urls,
    graphemes,
    mastodon_length,
    x_parse,
    x_weighted_length,
)

CONFORMANCE = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance" / "twitter-text" / "validate.yml"


def _cases(group: str) -> list[dict]:
    if not CONFORMANCE.is_file():
        return []
    return yaml.safe_load(CONFORMANCE.read_text(encoding="utf-8"))["tests"][group]


V3_CASES = _cases("WeightedTweetsWithDiscountedEmojiCounterTest")
DIRECTIONAL_CASES = _cases("UnicodeDirectionalMarkerCounterTest")


@pytest.mark.skipif(not CONFORMANCE.is_file(), reason=f"conformance file {CONFORMANCE} is absent")
def test_conformance_group_is_complete() -> None:
    assert len(V3_CASES) == 22  # every case of the group runs below


@pytest.mark.skipif(not CONFORMANCE.is_file(), reason=f"conformance file {CONFORMANCE} is absent")
@pytest.mark.parametrize("case", V3_CASES + DIRECTIONAL_CASES, ids=lambda c: c["description"])
def test_twitter_text_conformance(case: dict) -> None:
    parsed = x_parse(case["text"])
    expected = case["expected"]
    assert parsed.weighted_length == expected["weightedLength"]
    assert parsed.valid == expected["valid"]
    assert x_weighted_length(case["text"]) == expected["weightedLength"]
    assert parsed.permillage == expected["permillage"]
    assert (parsed.display_range_start, parsed.display_range_end) == (
        expected["displayRangeStart"],
        expected["displayRangeEnd"],
    )
    assert (parsed.valid_range_start, parsed.valid_range_end) == (
        expected["validRangeStart"],
        expected["validRangeEnd"],
    )


@pytest.mark.parametrize(
    "text",
    [
        "\U0001f9d1\u200d\U0001f9d1\u200d\U0001f9d2",  # 🧑‍🧑‍🧒 family: adult, adult, child (Emoji 15.1)
        "\U0001faf6\U0001f3fd",  # 🫶🏽 heart hands, medium skin tone (Emoji 14)
        "\U0001f9d1\U0001f3fd\u200d\U0001fa70",  # 🧑🏽‍🩰 (Emoji 16-era ZWJ)
        "\U0001f426\u200d\U0001f525",  # 🐦‍🔥 phoenix (Emoji 15.1)
        "\U0001fae8",  # 🫨 shaking face (Emoji 15)
        "\U0001f1fa\U0001f1f8",  # 🇺🇸 flag
        "1\ufe0f\u20e3",  # keycap one
    ],
)
def test_every_emoji_sequence_counts_two(text: str) -> None:
    assert x_weighted_length(text) == 2
    assert x_weighted_length(f"a{text}b") == 4


def test_newer_emoji_do_not_overcount_in_a_full_post() -> None:
    family = "\U0001f9d1\u200d\U0001f9d1\u200d\U0001f9d2"
    assert x_parse(family * 140).valid  # 140 x 2 = 280
    assert not x_parse(family * 141).valid


def test_urls_count_23_including_bare_domains() -> None:
    assert x_weighted_length("https://example.org/a/very/long/path/that/goes/on/and/on/and/on") == 23
    assert x_weighted_length("see example.com") == 4 + 23
    assert find_urls("see example.com and https://example.org/crc") == ["example.com", "https://example.org/crc"]
    assert find_urls("no links here, just #CRC") == []


def test_cjk_weighs_two_and_nfc() -> None:
    assert x_weighted_length("日本語") == 6
    assert x_weighted_length("e\u0301") == 1  # NFC: é is one code point
    assert facebook_length("e\u0301") == 1


def test_limits() -> None:
    assert X_MAX == 280
    assert FACEBOOK_MAX == 63206
    assert x_parse("x" * 280).valid and not x_parse("x" * 281).valid
    assert not x_parse("").valid


def test_weights_are_twitter_texts_v3_config() -> None:
    from twitter_text.config import config

    from social_campaign import text

    v3 = config["version3"]
    assert (text._SCALE, text._DEFAULT_WEIGHT, text._URL_LENGTH) == (v3["scale"], v3["default_weight"], v3["transformed_url_length"])
    assert text._RANGES == tuple((r["start"], r["end"], r["weight"]) for r in v3["ranges"])


def test_every_emoji_of_twitter_texts_table_counts_two() -> None:
    """The ``emoji`` package alone finds every sequence of twitter-text's (2019) table, alone and inside text."""
    from importlib.resources import files

    table = files("twitter_text.regexp").joinpath("emoji-test.txt").read_text(encoding="utf-8")
    sequences = []
    for line in table.splitlines():
        fields = line.split(";")
        if line.startswith("#") or len(fields) < 2 or "component" in fields[1]:
            continue  # a lone skin tone or hair component is not an emoji of its own on X
        sequences.append("".join(chr(int(cp, 16)) for cp in fields[0].split()))
    assert len(sequences) > 3000
    wrong = [s for s in sequences if x_weighted_length(s) != 2 or x_weighted_length(f"a {s} b") != 6]
    assert wrong == []


# Mastodon and Bluesky: grapheme clusters, URLs as 23 (Mastodon) or in full (Bluesky), Bluesky's byte cap.
FAMILY = "\U0001f9d1\u200d\U0001f9d1\u200d\U0001f9d2"  # 🧑‍🧑‍🧒: five code points, one grapheme


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello", 5),
        (FAMILY, 1),
        (FAMILY * 3 + "!", 4),
        ("\U0001f44d\U0001f3fd", 1),  # thumbs up with a skin tone
        ("\U0001f1eb\U0001f1f7\U0001f1ea\U0001f1f8", 2),  # two flags
        ("1\ufe0f\u20e3", 1),  # keycap one
        ("e\u0301", 1),  # e + combining acute (NFC makes it é)
        ("q\u0307\u0323", 1),  # q with two marks that have no precomposed form
        ("مَرْحَبًا", 5),  # Arabic with its harakat: five letters
        ("\u1100\u1161\u11a8", 1),  # Hangul jamo L V T
        ("a\r\nb", 3),
    ],
)
def test_graphemes(text: str, expected: int) -> None:
    assert graphemes(text) == expected


def test_mastodon_length_counts_urls_as_23_and_remote_mentions_as_the_user() -> None:
    url = "https://example.org/" + "x" * 80
    assert mastodon_length(url) == MASTODON_URL_LENGTH == 23
    assert mastodon_length(f"Read {url}, then share.") == len("Read , then share.") + 23
    assert mastodon_length("http://a.example and https://b.example/c") == 23 + len(" and ") + 23
    assert mastodon_length("example.org") == 11  # no scheme: plain text on Mastodon (X would count 23)
    assert mastodon_length("Thanks @unicef@mastodon.social!") == len("Thanks @unicef!")
    assert mastodon_length(FAMILY * 500) == 500 == MASTODON_MAX


def test_bluesky_counts_urls_in_full_and_bytes() -> None:
    url = "https://example.org/" + "x" * 80
    assert bluesky_length(f"Read {url}") == 5 + 100
    assert bluesky_length(FAMILY * 300) == BLUESKY_MAX and bluesky_bytes(FAMILY * 300) == 18 * 300
    arabic = "حقوق الطفل أولًا"  # 15 graphemes; 14 Arabic code points of 2 bytes and 2 spaces
    assert (bluesky_length(arabic), bluesky_bytes(arabic)) == (15, 30)
    vocalised = "بًّ" * 300  # a letter with two marks: one grapheme, 6 bytes
    assert bluesky_length(vocalised) == 300 and bluesky_bytes(vocalised) == 1800 < BLUESKY_MAX_BYTES
    over = (arabic + " ") * 10 + FAMILY * 160
    assert bluesky_length(over) == 320 and bluesky_bytes(over) == 310 + 2880
    assert bluesky_length("e\u0301") == 1 and bluesky_bytes("e\u0301") == 2  # measured as sent: NFC
