"""``check`` and ``plan`` for the mastodon and bluesky channels: lengths, media, alt text, overrides, the plan's column."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from social_campaign.campaign.check import check_campaign
from social_campaign.campaign.loader import load_campaign
from tests.campaign.campaign_helpers import HEAD, errors, line_of, make_campaign, post, warnings, write_png
from tests.campaign.test_campaign_check import pledge
from tests.campaign.test_campaign_cli import cli  # noqa: F401  (the in-process command fixture)

NOW = datetime(2026, 11, 1, tzinfo=UTC)
FAMILY = "\U0001f9d1\u200d\U0001f9d1\u200d\U0001f9d2"  # one grapheme, 18 bytes in UTF-8
URL = "https://example.org/" + "p" * 60  # 80 characters


def on(channels: str, body: str = "") -> str:
    return post().replace('["x", "facebook"]', channels) + body


def media(n: int, alt: str = "A chart") -> str:
    names = ", ".join(f'"infographics/{i}.png"' for i in range(n))
    return f"media = [{names}]\nalt = [{', '.join(repr(alt).replace(chr(39), chr(34)) for _ in range(n))}]\n"


def test_mastodon_and_bluesky_are_channels(tmp_path: Path) -> None:
    path = make_campaign(
        tmp_path,
        on('["x", "mastodon", "bluesky"]'),
        {"hello.md": "Hello #CRC", "hello.mastodon.md": "Hello fediverse", "hello.bluesky.md": "Hello sky"},
    )
    assert check_campaign(path, NOW) == []
    texts = load_campaign(path).posts[0].texts
    assert texts == {"x": "Hello #CRC", "mastodon": "Hello fediverse", "bluesky": "Hello sky"}


def test_mastodon_length_names_the_message_file(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, on('["x", "mastodon"]'), {"hello.md": "Hi", "hello.mastodon.md": "a" * 501})
    assert errors(check_campaign(path, NOW)) == [
        f"{tmp_path / 'messages' / 'hello.mastodon.md'}:1: post 'one': too long for Mastodon: 501 characters > 500 "
        "(each URL counts 23)"
    ]


def test_mastodon_counts_each_url_as_23_and_takes_the_servers_limit(tmp_path: Path) -> None:
    text = "a" * 476 + " " + URL  # 477 + 23 = 500 on Mastodon, though 557 characters long
    path = make_campaign(tmp_path, on('["mastodon"]'), {"hello.md": text})
    assert check_campaign(path, NOW) == []
    assert errors(check_campaign(path, NOW, mastodon_max=400)) == [
        f"{tmp_path / 'messages' / 'hello.md'}:1: post 'one': too long for Mastodon: 500 characters > 400 "
        "(each URL counts 23)"
    ]


def test_bluesky_counts_graphemes_and_urls_in_full(tmp_path: Path) -> None:
    fits = FAMILY * 300  # 300 graphemes, 5,400 bytes: over the byte cap
    path = make_campaign(tmp_path, on('["bluesky"]'), {"hello.md": "a" * 220 + " " + URL})  # 301 graphemes
    assert errors(check_campaign(path, NOW)) == [
        f"{tmp_path / 'messages' / 'hello.md'}:1: post 'one': too long for Bluesky: 301 characters > 300"
    ]
    (tmp_path / "messages" / "hello.md").write_text("e\u0301" * 300, encoding="utf-8")  # marks count with their letter
    assert check_campaign(path, NOW) == []
    (tmp_path / "messages" / "hello.md").write_text(fits, encoding="utf-8")
    assert errors(check_campaign(path, NOW)) == [
        f"{tmp_path / 'messages' / 'hello.md'}:1: post 'one': too long for Bluesky: 5400 bytes in UTF-8 > 3000"
    ]


def test_bluesky_byte_cap_with_arabic(tmp_path: Path) -> None:
    words = "حقوق الطفل أولًا "  # 16 graphemes (the tanween rides on its lam), 31 bytes
    text = words * 10 + FAMILY * 140  # 160 + 140 = 300 graphemes; 310 + 2,520 = 2,830 bytes
    path = make_campaign(tmp_path, on('["bluesky", "x"]'), {"hello.md": "Hi", "hello.bluesky.md": text})
    assert check_campaign(path, NOW) == []
    (tmp_path / "messages" / "hello.bluesky.md").write_text(words * 5 + FAMILY * 150, encoding="utf-8")
    # 80 + 150 = 230 graphemes; 155 + 2,700 = 2,855 bytes: still fits
    assert check_campaign(path, NOW) == []
    (tmp_path / "messages" / "hello.bluesky.md").write_text(words * 5 + FAMILY * 160, encoding="utf-8")
    # 240 graphemes, well under 300; 155 + 2,880 = 3,035 bytes: over the cap
    assert errors(check_campaign(path, NOW)) == [
        f"{tmp_path / 'messages' / 'hello.bluesky.md'}:1: post 'one': too long for Bluesky: 3035 bytes in UTF-8 > 3000"
    ]


def test_media_count_per_network(tmp_path: Path) -> None:
    for i in range(5):
        write_png(tmp_path / "infographics" / f"{i}.png")
    path = make_campaign(tmp_path, on('["mastodon", "bluesky"]', media(5)), {"hello.md": "Hi"})
    line = line_of(path, "media =")
    assert errors(check_campaign(path, NOW)) == [
        f"{path}:{line}: post 'one': 5 images, but Mastodon takes at most 4 per post",
        f"{path}:{line}: post 'one': 5 images, but Bluesky takes at most 4 per post",
    ]


def test_alt_text_limits_and_required(tmp_path: Path) -> None:
    write_png(tmp_path / "infographics" / "0.png")
    path = make_campaign(tmp_path, on('["x", "mastodon"]', media(1, "d" * 1200)), {"hello.md": "Hi"})
    alt_line = line_of(path, "alt =")
    assert errors(check_campaign(path, NOW)) == [
        f"{path}:{alt_line}: post 'one': alt text #1 is 1200 characters; X takes at most 1000"
    ]
    make_campaign(tmp_path, on('["mastodon", "bluesky"]', media(1, "d" * 1500)), {"hello.md": "Hi"})
    assert check_campaign(path, NOW) == []
    make_campaign(tmp_path, on('["mastodon"]', media(1, "d" * 1501)), {"hello.md": "Hi"})
    assert errors(check_campaign(path, NOW)) == [
        f"{path}:{alt_line}: post 'one': alt text #1 is 1501 characters; Mastodon takes at most 1500"
    ]
    make_campaign(tmp_path, on('["bluesky"]', 'media = ["infographics/0.png"]\n'), {"hello.md": "Hi"})
    assert errors(check_campaign(path, NOW)) == [
        f"{path}:{line_of(path, 'media =')}: post 'one': media #1 ({tmp_path / 'infographics' / '0.png'}) has no alt "
        "text; add one per item to 'alt'"
    ]


def test_overrides_per_language(tmp_path: Path) -> None:
    head = HEAD + 'languages = ["en", "fr"]\n'
    files = {
        "hello.md": "Hello #CRC",
        "hello.mastodon.md": "Hello fediverse",
        "hello.bluesky.md": "Hello sky",
        "hello.fr.md": "Bonjour #CRC",
        "hello.fr.mastodon.md": "Bonjour le fédivers",
    }
    path = make_campaign(tmp_path, on('["x", "mastodon", "bluesky"]'), files, head=head)
    problems = check_campaign(path, NOW)
    assert errors(problems) == []
    assert warnings(problems) == [
        f"{path}:{line_of(path, 'message =')}: warning: post 'one': {tmp_path / 'messages' / 'hello.fr.bluesky.md'} "
        f"not found: bluesky gets {tmp_path / 'messages' / 'hello.fr.md'} in 'fr', although the default language has its own "
        "bluesky version"
    ]
    fr = load_campaign(path).posts[0].texts_in("fr")
    assert fr == {"x": "Bonjour #CRC", "mastodon": "Bonjour le fédivers", "bluesky": "Bonjour #CRC"}
    (tmp_path / "messages" / "hello.fr.mastodon.md").write_text("é" * 501, encoding="utf-8")
    assert errors(check_campaign(path, NOW)) == [
        f"{tmp_path / 'messages' / 'hello.fr.mastodon.md'}:1: post 'one' (fr): too long for Mastodon: "
        "501 characters > 500 (each URL counts 23)"
    ]


def test_pledge_may_name_the_new_channels(tmp_path: Path) -> None:
    body = post() + pledge().replace('channels = ["x"]', 'channels = ["x", "mastodon", "bluesky"]')
    files = {"hello.md": "Hello #CRC", "clap.md": "We did it {hashtags}", "clap.bluesky.md": "b" * 301}
    path = make_campaign(tmp_path, body, files)
    assert errors(check_campaign(path, NOW)) == [
        f"{tmp_path / 'messages' / 'clap.bluesky.md'}:1: [pledge]: too long for Bluesky: 301 characters > 300"
    ]
    (tmp_path / "messages" / "clap.bluesky.md").write_text("We did it, sky", encoding="utf-8")
    spec = load_campaign(path).pledge
    assert spec is not None and spec.channels == ("x", "mastodon", "bluesky")
    assert spec.org_texts["bluesky"] == "We did it, sky" and spec.org_texts["mastodon"].startswith("We did it #")


def test_plan_shows_length_against_each_limit(cli, tmp_path: Path) -> None:  # noqa: F811
    text = "Hello #CRC " + URL  # X 11 + 23, Mastodon 11 + 23, Bluesky 91 in full, Facebook 91
    make_campaign(tmp_path, on('["x", "facebook", "mastodon", "bluesky", "outbox"]'), {"hello.md": text})
    result = cli(["plan"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [[c.strip() for c in line.split("│")[1:]] for line in result.stdout.splitlines() if "│" in line]
    lengths = {row[1]: row[4] for row in rows if row[0] == "one"}
    assert lengths == {"x": "34/280", "facebook": "91/63206", "mastodon": "34/500", "bluesky": "91/300", "outbox": "91"}
    assert "5 deliveries" in result.stdout
