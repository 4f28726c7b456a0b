"""tomledit keeps everything it does not change: golden tests on the shipped schedule.toml."""

from __future__ import annotations

import difflib
import tomllib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from social_campaign.errors import NotFound
from social_campaign.workspace import tomledit
from tests.workspace.support import REPO

NY = ZoneInfo("America/New_York")
SHIPPED = (REPO / "schedule.toml").read_text(encoding="utf-8")


def _changed(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def _edit(fn: object, *args: object, **kw: object) -> str:
    doc = tomledit.parse(SHIPPED)
    fn(doc, *args, **kw)  # type: ignore[operator]
    return tomledit.dump(doc)


def test_changing_one_time_changes_exactly_one_line() -> None:
    after = _edit(tomledit.set_at, "only-country", datetime(2027, 11, 18, 9, 15), NY)
    assert _changed(SHIPPED, after) == ["-at = 2027-11-18T10:00:00", "+at = 2027-11-18T09:15:00"]


def test_a_changed_value_keeps_its_comment_and_place() -> None:
    after = _edit(tomledit.set_message, "show-support", "other-text")
    assert _changed(SHIPPED, after) == [
        '-message = "show-support"          # messages/show-support.md on X, messages/show-support.facebook.md on '
        "Facebook",
        '+message = "other-text"          # messages/show-support.md on X, messages/show-support.facebook.md on '
        "Facebook",
    ]
    after = _edit(tomledit.set_pledge, "goal", 250)
    assert _changed(SHIPPED, after) == [
        "-goal = 100                        # supporters needed, or nothing is posted",
        "+goal = 250                        # supporters needed, or nothing is posted",
    ]


def test_channels_and_lang() -> None:
    after = _edit(tomledit.set_channels, "infant-mortality", ["x"])
    assert _changed(SHIPPED, after) == ['-channels = ["x", "facebook"]', '+channels = ["x"]']
    after = _edit(tomledit.set_lang, "infant-mortality", "fr")
    assert _changed(SHIPPED, after) == ['+lang = "fr"']
    assert tomllib.loads(after)["post"][2]["lang"] == "fr"


def test_media_with_alt_texts() -> None:
    after = _edit(tomledit.set_media, "childrens-day", [("photos/a.png", "Children at school"),
                                                         ("infographics/show-support.toml", None)])
    post = tomllib.loads(after)["post"][3]
    assert post["media"] == ["photos/a.png", "infographics/show-support.toml"]
    assert post["alt"] == ["Children at school"]
    assert len(_changed(SHIPPED, after)) == 3  # media replaced (comment kept), alt added


def test_an_offset_time_keeps_its_offset_style() -> None:
    source = SHIPPED.replace("at = 2027-11-18T10:00:00", "at = 2027-11-18T10:00:00-05:00")
    doc = tomledit.parse(source)
    tomledit.set_at(doc, "only-country", datetime(2027, 7, 1, 9, 0), NY)  # summer: the zone's offset then
    assert _changed(source, tomledit.dump(doc)) == ["-at = 2027-11-18T10:00:00-05:00", "+at = 2027-07-01T09:00:00-04:00"]
    doc = tomledit.parse(SHIPPED)
    tomledit.set_at(doc, "only-country", datetime(2027, 11, 18, 20, 0, tzinfo=UTC), NY)  # local file stays local
    assert "at = 2027-11-18T15:00:00\n" in tomledit.dump(doc)


def test_a_fold_choice_is_written_with_its_offset_and_a_gap_stays_local() -> None:
    doc = tomledit.parse(SHIPPED)
    tomledit.set_at(doc, "only-country", datetime(2027, 11, 7, 1, 30), NY, fold=0)
    assert "at = 2027-11-07T01:30:00-04:00\n" in tomledit.dump(doc)
    tomledit.set_at(doc, "only-country", datetime(2027, 11, 7, 1, 30), NY, fold=1)
    assert "at = 2027-11-07T01:30:00-05:00\n" in tomledit.dump(doc)
    source = SHIPPED.replace("at = 2027-11-18T10:00:00", "at = 2027-11-18T10:00:00-05:00")
    doc = tomledit.parse(source)
    tomledit.set_at(doc, "only-country", datetime(2027, 3, 14, 2, 30), NY)
    assert "at = 2027-03-14T02:30:00\n" in tomledit.dump(doc)  # check reports the gap at the field


def test_add_duplicate_delete_keep_the_rest() -> None:
    doc = tomledit.parse(SHIPPED)
    new_id = tomledit.add_post(doc, "show-support", datetime(2027, 11, 21, 9, 0), ["outbox"], "thanks")
    assert new_id == "show-support-2"
    after = tomledit.dump(doc)
    assert _changed(SHIPPED, after) == ["+[[post]]", '+id = "show-support-2"', "+at = 2027-11-21T09:00:00",
                                        '+channels = ["outbox"]', '+message = "thanks"', "+"]
    assert after.index('id = "show-support-2"') < after.index("[pledge]")

    doc = tomledit.parse(SHIPPED)
    assert tomledit.duplicate_post(doc, "only-country") == "only-country-copy"
    assert tomledit.duplicate_post(doc, "only-country") == "only-country-copy-2"
    after = tomledit.dump(doc)
    copies = tomllib.loads(after)["post"][4:]
    assert [p["id"] for p in copies] == ["only-country-copy", "only-country-copy-2"]
    assert after.count("# a card spec: each channel gets its own size") == 6  # the copies keep the comment

    doc = tomledit.parse(SHIPPED)
    tomledit.delete_post(doc, "infant-mortality")
    after = tomledit.dump(doc)
    assert [p["id"] for p in tomllib.loads(after)["post"]] == ["show-support", "only-country", "childrens-day"]
    assert all(line.startswith("-") for line in _changed(SHIPPED, after))
    assert len(_changed(SHIPPED, after)) == 7


def test_unknown_post_is_not_found() -> None:
    with pytest.raises(NotFound):
        _edit(tomledit.set_message, "nope", "x")


def test_segments_edit_one_post_and_keep_every_other_byte() -> None:
    segments = tomledit.Segments(SHIPPED)
    assert segments.post_ids() == ["show-support", "only-country", "infant-mortality", "childrens-day"]
    assert segments.dump() == SHIPPED
    tomledit.set_at(segments.post("infant-mortality"), "infant-mortality", datetime(2027, 11, 19, 13, 0), NY)
    tomledit.set_channels(segments.post("infant-mortality"), "infant-mortality", ["facebook"])
    assert _changed(SHIPPED, segments.dump()) == ["-at = 2027-11-19T12:00:00", '-channels = ["x", "facebook"]',
                                                  "+at = 2027-11-19T13:00:00", '+channels = ["facebook"]']
    with pytest.raises(NotFound):
        segments.post("nope")


def test_segments_append_duplicate_delete_match_the_document_functions() -> None:
    for action in ("append", "duplicate", "delete"):
        segments, doc = tomledit.Segments(SHIPPED), tomledit.parse(SHIPPED)
        if action == "append":
            a = segments.append_post("show-support", datetime(2027, 11, 21, 9, 0), ["outbox"], "thanks")
            b = tomledit.add_post(doc, "show-support", datetime(2027, 11, 21, 9, 0), ["outbox"], "thanks")
        elif action == "duplicate":
            a, b = segments.duplicate("only-country"), tomledit.duplicate_post(doc, "only-country")
        else:
            segments.delete("only-country")
            tomledit.delete_post(doc, "only-country")
            a = b = ""
        assert a == b
        assert segments.dump() == tomledit.dump(doc), action
        assert tomllib.loads(segments.dump())  # still valid TOML


def test_segments_skip_headers_inside_multiline_strings() -> None:
    text = '[campaign]\ndescription = """\n[[post]]\nid = "fake"\n"""\n\n[[post]]\nid = "real"\nat = 2030-01-01T10:00:00\n'
    segments = tomledit.Segments(text)
    assert segments.post_ids() == ["real"]
    tomledit.set_message(segments.post("real"), "real", "m")
    assert segments.dump() == text + 'message = "m"\n'
