"""Publishers under test, built from settings alone and pointed at the fake servers (tests/fakes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.db import make_engine, upgrade
from social_campaign.models import OutboxItem
from social_campaign.publishers import build_publisher
from social_campaign.publishers.base import Media, OutgoingPost, Publisher
from tests.fakes import (
    FakeGraph,
    FakeMastodon,
    FakeX,
    facebook_settings,
    mastodon_settings,
    x_oauth1_settings,
    x_oauth2_settings,
)

KINDS = ("outbox", "x-oauth1", "x-oauth2", "facebook", "mastodon")


def make_settings(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", pledge_rate_limits="", _env_file=None, **kw)  # type: ignore[call-arg]


def settings_for(kind: str, tmp_path: Path, fake_x: FakeX, fake_graph: FakeGraph, fake_mastodon: FakeMastodon | None = None, **kw: Any) -> Settings:
    extra: dict[str, Any] = {
        "outbox": {},
        "x-oauth1": x_oauth1_settings(fake_x),
        "x-oauth2": x_oauth2_settings(fake_x),
        "facebook": facebook_settings(fake_graph),
        "mastodon": mastodon_settings(fake_mastodon) if fake_mastodon is not None else {},
    }[kind]
    return make_settings(tmp_path, **{**extra, **kw})


def channel_of(kind: str) -> str:
    return kind.split("-")[0]


@dataclass
class Harness:
    """One publisher kind with a view of what its remote end (fake server or outbox table) holds."""

    kind: str
    publisher: Publisher
    engine: Engine
    settings: Settings
    fake: FakeX | FakeGraph | FakeMastodon | None

    @property
    def channel(self) -> str:
        return channel_of(self.kind)

    def remote_texts(self) -> list[str]:
        if isinstance(self.fake, FakeX):
            return [p["sent_text"] for p in self.fake.posts]
        if isinstance(self.fake, FakeGraph):
            return self.fake.messages()
        if isinstance(self.fake, FakeMastodon):
            return self.fake.texts()
        with Session(self.engine) as s:
            return [i.text for i in s.exec(select(OutboxItem)).all()]

    def post(self, delivery_id: int, text: str, media: tuple[Media, ...] = ()) -> OutgoingPost:
        return OutgoingPost(delivery_id=delivery_id, channel=self.channel, text=text, media=media)


@pytest.fixture
def png(tmp_path: Path) -> Callable[[str, str], Path]:
    def make(name: str = "card.png", color: str = "red") -> Path:
        path = tmp_path / "media" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 16), color).save(path)
        return path

    return make


@pytest.fixture
def build(tmp_path: Path, fake_x: FakeX, fake_graph: FakeGraph, fake_mastodon: FakeMastodon) -> Iterator[Callable[..., Harness]]:
    """``build(kind, **settings)`` -> a Harness; everything is closed after the test."""
    made: list[Harness] = []

    def make(kind: str, **kw: Any) -> Harness:
        settings = settings_for(kind, tmp_path, fake_x, fake_graph, fake_mastodon, **kw)
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        publisher = build_publisher(channel_of(kind), settings, engine)
        fake = {"x": fake_x, "facebook": fake_graph, "mastodon": fake_mastodon}.get(channel_of(kind))
        harness = Harness(kind, publisher, engine, settings, fake)
        made.append(harness)
        return harness

    yield make
    for h in made:
        h.publisher.close()
        h.engine.dispose()
