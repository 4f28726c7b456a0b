"""The outbox: one row and one readable file per delivery, never two, listed by ``social-campaign outbox``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlmodel import Session, select
from typer.testing import CliRunner

from social_campaign.cli import typer_app
from social_campaign.models import OutboxItem
from social_campaign.publishers.base import Media, OutgoingPost
from social_campaign.publishers.outbox import OutboxPublisher, item_media, list_outbox


def rows(engine) -> list[OutboxItem]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxItem)).all())


def test_publishing_the_same_delivery_twice_keeps_one_row_and_one_file(settings, engine):
    pub = OutboxPublisher(settings=settings, engine=engine, channel="x")
    first = pub.publish(OutgoingPost(5, "x", "Show your support for #ChildrensDay"))
    again = pub.publish(OutgoingPost(5, "x", "Show your support for #ChildrensDay"))
    assert first.remote_id == again.remote_id
    assert len(rows(engine)) == 1
    folder = settings.data_dir / "outbox" / "x"
    assert [p.name for p in folder.glob("*.md")] == [p.name for p in folder.glob("*-5.md")] and len(list(folder.glob("*.md"))) == 1
    assert not list(folder.glob(".tmp-*"))


def test_concurrent_publishes_of_one_delivery_make_one_row(any_engine, settings):
    pub = OutboxPublisher(settings=settings, engine=any_engine, channel="facebook")
    barrier = threading.Barrier(6)
    results = []

    def go() -> None:
        barrier.wait()
        results.append(pub.publish(OutgoingPost(9, "facebook", "once")).remote_id)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 6 and len(set(results)) == 1
    assert len(rows(any_engine)) == 1
    assert len(list((settings.data_dir / "outbox" / "facebook").glob("*.md"))) == 1


def test_a_file_left_by_a_crash_before_the_commit_is_reused_not_duplicated(settings, engine):
    folder = settings.data_dir / "outbox" / "x"
    folder.mkdir(parents=True)
    (folder / "20271118T150000Z-3.md").write_text("half")  # written, then the process died before the row committed
    OutboxPublisher(settings=settings, engine=engine, channel="x").publish(OutgoingPost(3, "x", "hello"))
    [file] = folder.glob("*.md")
    assert file.name == "20271118T150000Z-3.md" and "hello" in file.read_text()


def test_find_recent_looks_the_delivery_up(settings, engine):
    pub = OutboxPublisher(settings=settings, engine=engine, channel="x")
    post = OutgoingPost(11, "x", "text")
    assert pub.find_recent(post, datetime.now(UTC)) is None
    made = pub.publish(post)
    assert pub.find_recent(post, datetime.now(UTC)).remote_id == made.remote_id


def test_list_outbox_and_the_cli_show_text_media_and_alt(settings, engine, tmp_path, monkeypatch):
    image = tmp_path / "map.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    for channel, n in (("x", 1), ("facebook", 2)):
        OutboxPublisher(settings=settings, engine=engine, channel=channel).publish(
            OutgoingPost(n, channel, f"{channel}: ratify", (Media(image, "Map"),))
        )
    items = list_outbox(engine, channel="x")
    assert [i.channel for i in items] == ["x"] and item_media(items[0])[0]["alt"] == "Map"
    assert len(list_outbox(engine)) == 2

    monkeypatch.setenv("SOCIAL_CAMPAIGN_DATA_DIR", str(settings.data_dir))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(typer_app, ["outbox", "--channel", "facebook"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "facebook: ratify" in result.output and "(Map)" in result.output and "x: ratify" not in result.output
    empty = CliRunner().invoke(typer_app, ["outbox", "--channel", "mastodon"], catch_exceptions=False)
    assert empty.exit_code == 0 and "empty" in empty.output
