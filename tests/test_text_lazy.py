"""The shortcuts that keep ``social_campaign.text`` cheap answer exactly as twitter-text and ``emoji`` do.

- twitter-text's regexes, compiled lazily here, find the same URLs at the same places as twitter-text imported the
  usual way (its ``__init__`` run, every regex compiled at import), compared in two fresh processes;
- a text without a ``.`` loads no URL regex, and an all-ASCII text does not load ``emoji``: that is only right because
  no emoji sequence is all ASCII, which is checked against both tables.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = ROOT.parent / "shared" / "conformance" / "twitter-text" / "validate.yml"

TEXTS = [
    "",
    "no link here",
    "End of a sentence. Next one.",
    "https://example.org/crc",
    "see example.org/crc?x=1&y=2#frag, and http://t.co/abcdefghij and https://t.co/" + "a" * 45,
    "bare example.com. and sub.domain.co.uk/path(with)parens",
    "a.b c.d 1.5 e.g. www.example.xn--p1ai/x",
    "http://twitter.com/これは日本語です。example.com中国語",
    "_example.com -example.com /example.com .example.com",
    "mailto:someone@example.com @user.name #tag.org",
    "https://example.org:8080/a/b/c?q=1 ftp://example.org",
    "UPPER.COM Mixed.Org/Path www.例え.テスト/パス 例え.jp",
    "https://ex-ample.org/" + "p" * 5000,
    "url at end example.org",
    "\u200fexample.org \u202aexample.com\u202c",
]

LAZY = """
import json, sys
from social_campaign.text import _normalise, _urls
print(json.dumps([_urls(_normalise(t)) for t in json.loads(sys.stdin.read())]))
"""
PLAIN = """
import json, sys
from twitter_text import extract_urls_with_indices
from social_campaign.text import _normalise
print(json.dumps([extract_urls_with_indices(_normalise(t)) for t in json.loads(sys.stdin.read())]))
"""


def run(code: str, texts: list[str]) -> object:
    out = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(texts), capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(out.stdout)


def test_lazily_compiled_url_regexes_find_what_twitter_text_finds() -> None:
    texts = list(TEXTS)
    if CONFORMANCE.is_file():
        groups = yaml.safe_load(CONFORMANCE.read_text(encoding="utf-8"))["tests"].values()
        texts += [case["text"] for group in groups for case in group if isinstance(case.get("text"), str)]
    assert len(texts) > len(TEXTS) or not CONFORMANCE.is_file()
    lazy, plain = run(LAZY, texts), run(PLAIN, texts)
    assert lazy == plain
    assert any(plain)  # the texts do hold URLs


def test_a_text_without_a_dot_or_beyond_ascii_loads_neither_table() -> None:
    code = (
        "import sys\nfrom social_campaign.text import x_parse, find_urls\n"
        "assert x_parse('No link, no emoji: just words!').weighted_length == 30 and find_urls('a b') == []\n"
        "print(sorted(m for m in sys.modules if m.startswith(('twitter_text', 'emoji'))))\n"
        "assert x_parse('Read https://example.org/crc now').weighted_length == 32\n"
        "print('emoji' in sys.modules, 'twitter_text.extract_urls' in sys.modules)\n"
        "assert x_parse('Read it \N{PARTY POPPER}').weighted_length == 10\n"
        "print('emoji' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    loaded, after_url, after_emoji = out.splitlines()
    assert "twitter_text.extract_urls" not in loaded and "emoji" not in loaded
    assert after_url == "False True"
    assert after_emoji == "True"


def test_no_emoji_sequence_is_all_ascii() -> None:
    """The premise of skipping ``emoji`` for ASCII text, in the ``emoji`` package's table and in twitter-text's."""
    import emoji

    assert [e for e in emoji.EMOJI_DATA if e.isascii()] == []
    table = files("twitter_text.regexp").joinpath("emoji-test.txt").read_text(encoding="utf-8")
    sequences = [
        "".join(chr(int(cp, 16)) for cp in line.split(";")[0].split())
        for line in table.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(sequences) > 3000
    assert [s for s in sequences if s.isascii()] == []
