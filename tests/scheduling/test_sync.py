from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlmodel import Session, select

from social_campaign.campaign.model import MediaRef
from social_campaign.models import CampaignRevision, Delivery, DeliveryState
from social_campaign.scheduling.sync import sync_loaded
from tests.scheduling.helpers import T0, campaign, post, rows, set_state, states

NOW = T0 - timedelta(days=1)


def test_sync_creates_one_row_per_post_and_channel_and_is_idempotent(settings, engine, tmp_path):
    camp = campaign(tmp_path, [post("a"), post("b", channels=("x",))])
    first = sync_loaded(settings, engine, camp, NOW)
    assert (first.created, first.changed) == (3, 3)
    assert states(engine) == {("a", "x", ""): "scheduled", ("a", "facebook", ""): "scheduled", ("b", "x", ""): "scheduled"}
    before = [(r.id, r.updated_at, r.content_hash) for r in rows(engine)]
    again = sync_loaded(settings, engine, camp, NOW + timedelta(minutes=5))
    assert again.changed == 0 and again.unchanged == 3
    assert [(r.id, r.updated_at, r.content_hash) for r in rows(engine)] == before
    row = rows(engine, post_id="a", channel="x")[0]
    assert row.text == "Post a #ChildrensDay (x)" and row.due_at == T0 and row.kind == "post"


def test_edit_updates_scheduled_rows_in_place_and_never_touches_sent_ones(settings, engine, tmp_path):
    sync_loaded(settings, engine, campaign(tmp_path, [post("a"), post("b")]), NOW)
    sent = rows(engine, post_id="a", channel="x")[0]
    set_state(engine, sent.id, DeliveryState.sent)
    sending = rows(engine, post_id="b", channel="x")[0]
    set_state(engine, sending.id, DeliveryState.sending)
    edited = campaign(tmp_path, [post("a", text="New words"), post("b", text="Other", at=T0 + timedelta(hours=1))])
    report = sync_loaded(settings, engine, edited, NOW)
    assert report.updated == 2 and report.created == 0  # a/facebook and b/facebook
    by_key = {(r.post_id, r.channel): r for r in rows(engine)}
    assert by_key["a", "x"].text == "Post a #ChildrensDay (x)" and by_key["a", "x"].state == "sent"
    assert by_key["b", "x"].text == "Post b #ChildrensDay (x)" and by_key["b", "x"].due_at == T0
    assert by_key["a", "facebook"].text == "New words (facebook)"
    assert by_key["b", "facebook"].due_at == T0 + timedelta(hours=1)
    assert len(rows(engine)) == 4


def test_removed_post_and_channel_are_cancelled_and_revived_when_re_added(settings, engine, tmp_path):
    full = campaign(tmp_path, [post("a"), post("b")])
    sync_loaded(settings, engine, full, NOW)
    set_state(engine, rows(engine, post_id="b", channel="x")[0].id, DeliveryState.sent)
    smaller = campaign(tmp_path, [post("a", channels=("x",))])
    report = sync_loaded(settings, engine, smaller, NOW)
    assert report.cancelled == 2  # a/facebook and b/facebook; b/x was sent and stays sent
    assert states(engine) == {
        ("a", "x", ""): "scheduled", ("a", "facebook", ""): "cancelled",
        ("b", "x", ""): "sent", ("b", "facebook", ""): "cancelled",
    }  # fmt: skip
    report = sync_loaded(settings, engine, full, NOW)
    assert report.revived == 2 and report.created == 0
    assert states(engine)["a", "facebook", ""] == "scheduled" and states(engine)["b", "x", ""] == "sent"
    assert len(rows(engine)) == 4


def test_missed_row_is_revived_only_by_an_edit(settings, engine, tmp_path):
    sync_loaded(settings, engine, campaign(tmp_path, [post("a", channels=("x",))]), NOW)
    set_state(engine, rows(engine)[0].id, DeliveryState.missed)
    assert sync_loaded(settings, engine, campaign(tmp_path, [post("a", channels=("x",))]), NOW).changed == 0
    later = T0 + timedelta(days=2)
    sync_loaded(settings, engine, campaign(tmp_path, [post("a", channels=("x",), at=later)]), NOW)
    (row,) = rows(engine)
    assert (row.state, row.due_at) == ("scheduled", later)


def test_cron_posts_expand_within_the_horizon_and_roll_forward(settings, engine, tmp_path):
    settings = settings.model_copy(update={"horizon_days": 14})
    camp = campaign(tmp_path, [post("weekly", cron="0 9 * * MON", channels=("outbox",))])
    sync_loaded(settings, engine, camp, NOW)  # NOW is Friday 2027-11-19 14:00 UTC
    occ = [r.occurrence for r in rows(engine)]
    assert occ == ["2027-11-22T14:00:00+00:00", "2027-11-29T14:00:00+00:00"]  # 09:00 New York (EST)
    report = sync_loaded(settings, engine, camp, NOW + timedelta(days=7))
    assert report.created == 1 and report.cancelled == 0
    assert len(rows(engine)) == 3


def test_media_is_resolved_per_channel_and_part_of_the_content_hash(settings, engine, tmp_path):
    img = tmp_path / "card.png"
    Image.new("RGB", (20, 20), "red").save(img)
    media = (MediaRef(img, "A red square"),)
    sync_loaded(settings, engine, campaign(tmp_path, [post("a", channels=("x",), media=media)]), NOW)
    (row,) = rows(engine)
    assert row.media_json == f'[{{"path": "{img}", "alt": "A red square", "mime_type": "image/png"}}]'
    Image.new("RGB", (20, 20), "blue").save(img)  # same path, new picture: an edit
    report = sync_loaded(settings, engine, campaign(tmp_path, [post("a", channels=("x",), media=media)]), NOW)
    assert report.updated == 1 and rows(engine)[0].content_hash != row.content_hash


def test_revision_is_recorded(settings, engine, tmp_path):
    camp = campaign(tmp_path, [post("a")])
    sync_loaded(settings, engine, camp, NOW)
    with Session(engine) as session:
        rev = session.exec(select(CampaignRevision)).one()
        assert rev.campaign == "childrens-day" and rev.content_hash == camp.content_hash
        assert rev.source == str(Path(tmp_path / "schedule.toml").resolve())
        assert session.exec(select(Delivery)).all()


def test_a_managers_cancel_sticks_until_the_post_changes(settings, engine, tmp_path):
    from social_campaign.workspace.deliveries import cancel

    camp = campaign(tmp_path, [post("a", channels=("x",))])
    sync_loaded(settings, engine, camp, NOW)
    row = rows(engine, post_id="a", channel="x")[0]
    cancel(engine, camp.slug, row.id, actor="amina@example.org", now=NOW)
    again = sync_loaded(settings, engine, camp, NOW + timedelta(minutes=1))  # any re-sync, e.g. another post edited
    assert again.revived == 0 and states(engine) == {("a", "x", ""): "cancelled"}
    edited = sync_loaded(settings, engine, campaign(tmp_path, [post("a", channels=("x",), text="New")]), NOW)
    assert edited.revived == 1 and states(engine) == {("a", "x", ""): "scheduled"}
