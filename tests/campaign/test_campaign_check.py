"""One test per check rule: a small broken campaign, the exact ``path:line`` and the message."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from social_campaign.campaign.check import check_campaign
from tests.campaign.campaign_helpers import HEAD, errors, line_of, make_campaign, post, warnings, write_png

NOW = datetime(2026, 11, 1, tzinfo=UTC)
HELLO = {"hello.md": "Hello #CRC"}


def check(path: Path) -> list:
    return check_campaign(path, now=NOW)


def only_error(path: Path) -> str:
    found = errors(check(path))
    assert len(found) == 1, found
    return found[0]


def test_clean_small_campaign(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(), HELLO)
    assert check(path) == []


def test_toml_syntax_error_has_line(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post() + "\nchannels = [x]\n", HELLO)
    message = only_error(path)
    assert message.startswith(f"{path}:{line_of(path, 'channels = [x]')}: invalid TOML")


def test_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post().replace("channels", "chanels"), HELLO)
    found = errors(check(path))
    assert f"{path}:{line_of(path, 'chanels')}: unknown key 'chanels' in post 'one'; did you mean 'channels'?" in found


def test_unknown_top_level_and_campaign_keys(tmp_path: Path) -> None:
    path = make_campaign(
        tmp_path, post() + "\n[bagde]\noverlay = 'x.png'\n", HELLO, head=HEAD.replace("timezone", "time_zone")
    )
    found = errors(check(path))
    assert any(
        f":{line_of(path, '[bagde]')}: unknown key 'bagde' in the schedule; did you mean 'badge'?" in f for f in found
    )
    assert any(
        f":{line_of(path, 'time_zone')}: unknown key 'time_zone' in [campaign]; did you mean 'timezone'?" in f
        for f in found
    )


def test_wrong_types(tmp_path: Path) -> None:
    body = (
        post()
        .replace("at = 2027-11-18T10:00:00", 'at = "2027-11-18T10:00:00"')
        .replace('channels = ["x", "facebook"]', 'channels = "x"')
    )
    path = make_campaign(tmp_path, body, HELLO)
    found = errors(check(path))
    assert (
        f"{path}:{line_of(path, 'at = ')}: 'at' in post 'one' must be a date-time such as 2027-11-18T10:00:00, not the string '2027-11-18T10:00:00' (remove the quotes: TOML date-times are written bare)"
        in found
    )
    assert f"{path}:{line_of(path, 'channels =')}: 'channels' in post 'one' must be a list, not the string 'x'" in found


def test_missing_required_keys(tmp_path: Path) -> None:
    path = make_campaign(
        tmp_path, '\n[[post]]\nid = "one"\nat = 2027-11-18T10:00:00\n', HELLO, head='[campaign]\nslug = "s"\n'
    )
    found = errors(check(path))
    assert f"{path}:1: [campaign] is missing required key 'name'" in found
    assert f"{path}:1: [campaign] is missing required key 'timezone'" in found
    assert f"{path}:{line_of(path, '[[post]]')}: post 'one' is missing required key 'channels'" in found
    assert f"{path}:{line_of(path, '[[post]]')}: post 'one' is missing required key 'message'" in found


def test_missing_campaign_table(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(), HELLO, head="")
    assert only_error(path) == f"{path}:1: missing the [campaign] table (slug, name, timezone, hashtags)"


def test_duplicate_ids(tmp_path: Path) -> None:
    path = make_campaign(
        tmp_path, post("one") + post("one", "2027-11-19T10:00:00", "other"), {**HELLO, "other.md": "Other text"}
    )
    first, second = line_of(path, 'id = "one"'), line_of(path, 'id = "one"', 2)
    assert only_error(path) == f"{path}:{second}: duplicate post id 'one' (first used on line {first})"


def test_unknown_channel(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post().replace('["x", "facebook"]', '["x", "facebok"]'), HELLO)
    assert only_error(path) == (
        f"{path}:{line_of(path, 'channels')}: unknown channel 'facebok' in post 'one' (choose from outbox, x, facebook, mastodon, bluesky); did you mean 'facebook'?"
    )


def test_missing_message_file(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(message="nothere"), HELLO)
    assert (
        only_error(path)
        == f"{path}:{line_of(path, 'message =')}: post 'one': message file {tmp_path / 'messages' / 'nothere.md'} not found"
    )


def test_channel_override_and_placeholders(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(), {"hello.md": "Hi {link} {{literal}}\n", "hello.x.md": "On X {hashtags}\n\n"})
    from social_campaign.campaign.loader import load_campaign

    campaign = load_campaign(path)
    assert campaign.posts[0].texts == {
        "x": "On X #ChildrensDay #CRC",
        "facebook": "Hi https://example.org/crc {literal}",
    }


def test_unknown_placeholder_names_message_line(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(), {"hello.md": "First line\nSecond {lnk} line\n"})
    assert only_error(path).startswith(f"{tmp_path / 'messages' / 'hello.md'}:2: unknown placeholder {{lnk}}")


def test_link_placeholder_without_link(tmp_path: Path) -> None:
    path = make_campaign(
        tmp_path, post(), {"hello.md": "Go {link}"}, head=HEAD.replace('link = "https://example.org/crc"\n', "")
    )
    assert only_error(path) == f"{tmp_path / 'messages' / 'hello.md'}:1: {{link}} is used but [campaign] has no link"


def test_missing_media_and_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "infographics").mkdir()
    (tmp_path / "infographics" / "fake.png").write_text("not an image")
    body = post() + 'media = ["infographics/gone.png", "infographics/fake.png"]\nalt = ["a", "b"]\n'
    path = make_campaign(tmp_path, body, HELLO)
    found = errors(check(path))
    line = line_of(path, "media =")
    assert f"{path}:{line}: post 'one': media {tmp_path / 'infographics' / 'gone.png'}: file not found" in found
    assert any(
        f.startswith(f"{path}:{line}: post 'one': media {tmp_path / 'infographics' / 'fake.png'}: not a readable image")
        for f in found
    )


def test_truncated_image(tmp_path: Path) -> None:
    good = write_png(tmp_path / "infographics" / "cut.png", (300, 300))
    good.write_bytes(good.read_bytes()[:200])
    path = make_campaign(tmp_path, post() + 'media = ["infographics/cut.png"]\nalt = ["a"]\n', HELLO)
    assert "broken image" in only_error(path)


def test_image_without_alt_text(tmp_path: Path) -> None:
    write_png(tmp_path / "infographics" / "a.png")
    write_png(tmp_path / "infographics" / "b.png")
    path = make_campaign(
        tmp_path, post() + 'media = ["infographics/a.png", "infographics/b.png"]\nalt = ["A chart"]\n', HELLO
    )
    assert (
        only_error(path)
        == f"{path}:{line_of(path, 'alt =')}: post 'one': media #2 ({tmp_path / 'infographics' / 'b.png'}) has no alt text; add one per item to 'alt'"
    )


def test_unknown_time_zone(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(), HELLO, head=HEAD.replace("America/New_York", "America/Nowhere"))
    assert (
        only_error(path)
        == f"{path}:{line_of(path, 'timezone')}: unknown time zone 'America/Nowhere' (use an IANA name such as 'America/New_York')"
    )


def test_nonexistent_local_time(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(at="2027-03-14T02:30:00"), HELLO)
    assert (
        only_error(path)
        == f"{path}:{line_of(path, 'at =')}: 'at' in post 'one': 2027-03-14 02:30 does not exist in America/New_York (clocks spring forward)"
    )


def test_ambiguous_local_time(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(at="2027-11-07T01:30:00"), HELLO)
    message = only_error(path)
    assert message.startswith(
        f"{path}:{line_of(path, 'at =')}: 'at' in post 'one': 2027-11-07 01:30 happens twice in America/New_York"
    )
    # the suggested fix works: an explicit offset is taken as it is
    path.write_text(path.read_text().replace("2027-11-07T01:30:00", "2027-11-07T01:30:00-05:00"))
    assert errors(check(path)) == []


def test_bad_cron(tmp_path: Path) -> None:
    body = post().replace("at = 2027-11-18T10:00:00", 'cron = "0 25 * * MON"')
    path = make_campaign(tmp_path, body, HELLO)
    message = only_error(path)
    assert message.startswith(f"{path}:{line_of(path, 'cron =')}: post 'one': cron '0 25 * * MON' is invalid")


def test_cron_wrong_field_count_and_at_with_cron(tmp_path: Path) -> None:
    body = post().replace("at = 2027-11-18T10:00:00", 'at = 2027-11-18T10:00:00\ncron = "0 9 * *"')
    path = make_campaign(tmp_path, body, HELLO)
    found = errors(check(path))
    assert f"{path}:{line_of(path, '[[post]]')}: post 'one' has both 'at' and 'cron'; give one" in found
    assert any("needs 5 fields" in f for f in found)


def test_times_in_the_past_are_warnings(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(at="2025-01-10T10:00:00"), HELLO)
    problems = check(path)
    assert errors(problems) == []
    assert warnings(problems) == [
        f"{path}:{line_of(path, 'at =')}: warning: post 'one' is in the past (2025-01-10T10:00:00-05:00); it will not be posted"
    ]


def test_x_length(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(), {"hello.md": "日本" * 100 + "!", "hello.facebook.md": "short"})
    assert (
        only_error(path)
        == f"{tmp_path / 'messages' / 'hello.md'}:1: post 'one': too long for X: weighted length 401 > 280"
    )


def test_x_length_counts_new_emoji_as_two(tmp_path: Path) -> None:
    family = "\U0001f9d1\u200d\U0001f9d1\u200d\U0001f9d2"
    path = make_campaign(tmp_path, post(), {"hello.md": family * 140})
    assert errors(check(path)) == []


def test_facebook_length(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(), {"hello.md": "short", "hello.facebook.md": "a" * 63207})
    assert (
        only_error(path)
        == f"{tmp_path / 'messages' / 'hello.facebook.md'}:1: post 'one': too long for Facebook: 63207 characters > 63206"
    )


def test_x_takes_four_images(tmp_path: Path) -> None:
    names = [f"infographics/{i}.png" for i in range(5)]
    for name in names:
        write_png(tmp_path / name)
    media = (
        "media = ["
        + ", ".join(f'"{n}"' for n in names)
        + "]\nalt = ["
        + ", ".join(f'"alt {i}"' for i in range(5))
        + "]\n"
    )
    path = make_campaign(tmp_path, post() + media, HELLO)
    assert (
        only_error(path) == f"{path}:{line_of(path, 'media =')}: post 'one': 5 images, but X takes at most 4 per post"
    )


def test_image_size_limits(tmp_path: Path) -> None:
    big = tmp_path / "infographics" / "big.png"
    big.parent.mkdir()
    import os

    Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3)).save(big, compress_level=0)
    assert 5 * 1024 * 1024 < big.stat().st_size < 10 * 1024 * 1024
    path = make_campaign(tmp_path, post() + 'media = ["infographics/big.png"]\nalt = ["noise"]\n', HELLO)
    message = only_error(path)  # X refuses it; Facebook (10 MB) takes it
    assert (
        message.startswith(f"{path}:{line_of(path, 'media =')}: post 'one': {big} is ")
        and "X takes images up to 5 MB" in message
    )


def test_same_text_twice_on_one_channel(tmp_path: Path) -> None:
    path = make_campaign(
        tmp_path,
        post("one") + post("two", "2027-11-19T10:00:00", "again"),
        {**HELLO, "again.md": "Hello  #CRC\n", "again.facebook.md": "Different"},
    )
    line = line_of(path, 'message = "again"')
    assert only_error(path) == f"{path}:{line}: post 'two' has the same text on x as post 'one'; X rejects duplicates"


def test_url_on_x_is_a_warning(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post(), {"hello.md": "Read example.org/crc", "hello.facebook.md": "Read {link}"})
    problems = check(path)
    assert errors(problems) == []
    assert warnings(problems) == [
        f"{path}:{line_of(path, 'message =')}: warning: post 'one': the X text contains a URL (example.org/crc); under X pay-per-use a post with a URL costs more"
    ]


def test_hashtags_and_link_and_slug(tmp_path: Path) -> None:
    head = (
        HEAD.replace('"#CRC"]', '"CRC"]')
        .replace("https://example.org/crc", "ftp://example.org")
        .replace("test-campaign", "Test Campaign")
    )
    path = make_campaign(tmp_path, post(), HELLO, head=head)
    found = errors(check(path))
    assert f"{path}:{line_of(path, 'hashtags')}: hashtag 'CRC' must start with '#' and contain no spaces" in found
    assert f"{path}:{line_of(path, 'link =')}: link 'ftp://example.org' must be an http:// or https:// URL" in found
    assert any(
        f.startswith(f"{path}:{line_of(path, 'slug =')}: slug 'Test Campaign' must be lower-case") for f in found
    )


PLEDGE = """
[pledge]
goal = {goal}
deadline = {deadline}
fire_at = {fire_at}
message = "clap"
channels = ["x"]
"""


def pledge(goal: str = "100", deadline: str = "2027-11-20T09:00:00", fire_at: str = "2027-11-20T12:00:00") -> str:
    return PLEDGE.format(goal=goal, deadline=deadline, fire_at=fire_at)


def test_pledge_ok_with_variants(tmp_path: Path) -> None:
    path = make_campaign(
        tmp_path, post() + pledge(), {**HELLO, "clap.md": "One {hashtags}", "clap.v2.md": "Two", "clap.v3.md": "Three"}
    )
    assert check(path) == []
    from social_campaign.campaign.loader import load_campaign

    spec = load_campaign(path).pledge
    assert (
        spec is not None
        and spec.variants == ("One #ChildrensDay #CRC", "Two", "Three")
        and spec.org_texts == {"x": "One #ChildrensDay #CRC"}
    )


def test_pledge_rules(tmp_path: Path) -> None:
    path = make_campaign(
        tmp_path,
        post() + pledge(goal="0", fire_at="2027-11-20T08:00:00"),
        {**HELLO, "clap.md": "One", "clap.v2.md": "x" * 281},
    )
    found = errors(check(path))
    assert f"{path}:{line_of(path, 'goal =')}: goal must be at least 1, not 0" in found
    assert (
        f"{path}:{line_of(path, 'fire_at =')}: fire_at is before the deadline (the release comes when pledges close or later)"
        in found
    )
    assert (
        f"{tmp_path / 'messages' / 'clap.v2.md'}:1: pledge variant too long for X: weighted length 281 > 280" in found
    )


def test_pledge_missing_message_and_bad_goal_type(tmp_path: Path) -> None:
    path = make_campaign(tmp_path, post() + pledge(goal='"100"'), HELLO)
    found = errors(check(path))
    assert f"{path}:{line_of(path, 'goal =')}: 'goal' in [pledge] must be a whole number, not the string '100'" in found
    line = line_of(path, 'message = "clap"')
    assert f"{path}:{line}: message file {tmp_path / 'messages' / 'clap.md'} not found" in found


def _frame(path: Path, size: int = 500, hole: bool = True, mode: str = "RGBA") -> None:
    from PIL import ImageDraw

    img = Image.new("RGBA", (size, size), (200, 0, 0, 255))
    if hole:
        ImageDraw.Draw(img).ellipse([size // 4, size // 4, 3 * size // 4, 3 * size // 4], fill=(0, 0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    (img if mode == "RGBA" else img.convert(mode)).save(path)


BADGE = '\n[badge]\noverlay = "infographics/frame.png"\nsize = 400\ndownload_size = 500\nshape = "circle"\n'


def test_badge_ok(tmp_path: Path) -> None:
    _frame(tmp_path / "infographics" / "frame.png")
    path = make_campaign(tmp_path, post() + BADGE, HELLO)
    assert check(path) == []


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"hole": False}, "transparent; at least 5% must be"),
        ({"mode": "RGB"}, "has no alpha channel"),
        ({"size": 300}, "smaller than the badge size 400"),
    ],
)
def test_badge_overlay_rules(tmp_path: Path, kwargs: dict, fragment: str) -> None:
    _frame(tmp_path / "infographics" / "frame.png", **kwargs)
    path = make_campaign(tmp_path, post() + BADGE, HELLO)
    message = only_error(path)
    assert message.startswith(f"{path}:{line_of(path, 'overlay =')}: badge overlay") and fragment in message


def test_badge_overlay_not_square_and_missing(tmp_path: Path) -> None:
    img = Image.new("RGBA", (600, 500), (0, 0, 0, 0))
    (tmp_path / "infographics").mkdir()
    img.save(tmp_path / "infographics" / "frame.png")
    path = make_campaign(tmp_path, post() + BADGE, HELLO)
    assert "must be square, not 600x500" in only_error(path)
    path.write_text(path.read_text().replace("frame.png", "gone.png").replace('"circle"', '"hexagon"'))
    found = errors(check(path))
    assert any("badge overlay: file not found" in f for f in found)
    assert f"{path}:{line_of(path, 'shape =')}: shape 'hexagon' must be one of: circle, square" in found


def test_infographic_spec_media(tmp_path: Path) -> None:
    spec = tmp_path / "infographics" / "card.toml"
    spec.parent.mkdir()
    (spec.parent / "fonts").symlink_to(Path(__file__).resolve().parents[2] / "infographics" / "fonts")
    spec.write_text('title = "Infant mortality down 50% after the CRC"\nalt = "A chart of infant mortality"\n')
    path = make_campaign(tmp_path, post() + 'media = ["infographics/card.toml"]\n', HELLO)
    assert errors(check(path)) == []  # the spec's own alt text is the default
    from social_campaign.campaign.loader import load_campaign

    assert load_campaign(path).posts[0].media[0].alt == "A chart of infant mortality"
    path.write_text(path.read_text().replace("card.toml", "gone.toml"))
    assert any("gone.toml" in e for e in errors(check(path)))


def test_every_problem_at_once(tmp_path: Path) -> None:
    body = (
        post("one", "2027-03-14T02:30:00")
        + post("one", "2027-11-19T10:00:00", "missing").replace('"facebook"]', '"myspace"]')
        + 'colour = "red"\n'
        + post("three", "2027-11-20T10:00:00")
        + 'media = ["nope.png"]\n'
    )
    path = make_campaign(
        tmp_path, body, {"hello.md": "Hi {name}"}, head=HEAD.replace("America/New_York", "America/New_York")
    )
    found = errors(check(path))
    fragments = [
        "does not exist in America/New_York",
        "duplicate post id 'one'",
        "unknown channel 'myspace'",
        "message file",
        "unknown key 'colour'",
        "nope.png: file not found",
        "has no alt text",
        "unknown placeholder {name}",
    ]
    for fragment in fragments:
        assert any(fragment in f for f in found), (fragment, found)
    assert len(found) >= len(fragments)


def test_a_spec_shown_by_two_posts_is_reported_once(tmp_path: Path) -> None:
    spec = tmp_path / "infographics" / "card.toml"
    spec.parent.mkdir()
    (spec.parent / "fonts").symlink_to(Path(__file__).resolve().parents[2] / "infographics" / "fonts")
    spec.write_text('title = "Children first"\nalt = "A card"\ncolour = "red"\n')
    media = 'media = ["infographics/card.toml"]\n'
    path = make_campaign(
        tmp_path, post() + media + post("two", "2027-11-19T10:00:00", "two") + media, {**HELLO, "two.md": "Two #CRC"}
    )
    found = [e for e in errors(check(path)) if "colour" in e]
    assert len(found) == 1 and found[0].startswith(f"{spec}:3: ")
