"""Fake platform servers (real HTTP on 127.0.0.1) and their pytest fixtures.

``fake_x`` and ``fake_graph`` give a started :class:`~tests.fakes.x_api.FakeX` / :class:`~tests.fakes.graph_api.FakeGraph`
on a random port, stopped after the test. ``x_oauth1_settings(fake)``, ``x_oauth2_settings(fake)`` and
``facebook_settings(fake)`` give the ``Settings`` keyword arguments that point the real publishers at a fake.
``tests/conftest.py`` loads this module with ``pytest_plugins = ["tests.fakes"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.fakes.smtp import (
    smtp_server,  # SMTP fixture (aiosmtpd), owned by the mail part
)

if TYPE_CHECKING:
    from tests.fakes.graph_api import FakeGraph
    from tests.fakes.mastodon_api import FakeMastodon
    from tests.fakes.x_api import FakeX

# x_api and graph_api are imported lazily, so that ``python -m tests.fakes.x_api`` runs that module once, as __main__.


def __getattr__(name: str) -> Any:
    if name == "FakeX":
        from tests.fakes.x_api import FakeX

        return FakeX
    if name == "FakeGraph":
        from tests.fakes.graph_api import FakeGraph

        return FakeGraph
    if name == "FakeMastodon":
        from tests.fakes.mastodon_api import FakeMastodon

        return FakeMastodon
    raise AttributeError(name)

__all__ = ["FakeGraph", "FakeMastodon", "FakeX", "facebook_settings", "fake_graph", "fake_mastodon", "fake_x", "mastodon_settings", "smtp_server", "x_oauth1_settings", "x_oauth2_settings"]


def x_oauth1_settings(fake: FakeX) -> dict[str, Any]:
    from tests.fakes import x_api

    return {
        "x_api_url": fake.url,
        "x_consumer_key": x_api.CONSUMER_KEY,
        "x_consumer_secret": x_api.CONSUMER_SECRET,
        "x_access_token": x_api.ACCESS_TOKEN,
        "x_access_token_secret": x_api.ACCESS_TOKEN_SECRET,
    }


def x_oauth2_settings(fake: FakeX) -> dict[str, Any]:
    from tests.fakes import x_api

    return {
        "x_api_url": fake.url,
        "x_client_id": x_api.CLIENT_ID,
        "x_client_secret": fake.client_secret,
        "x_oauth2_refresh_token": x_api.REFRESH_TOKEN,
    }


def facebook_settings(fake: FakeGraph) -> dict[str, Any]:
    from tests.fakes import graph_api

    return {"facebook_graph_url": fake.url, "facebook_page_id": graph_api.PAGE_ID, "facebook_page_token": graph_api.PAGE_TOKEN}


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    from tests.fakes.x_api import FakeX

    fake = FakeX().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_graph() -> Iterator[FakeGraph]:
    from tests.fakes.graph_api import FakeGraph

    fake = FakeGraph().start()
    try:
        yield fake
    finally:
        fake.stop()


def mastodon_settings(fake: FakeMastodon) -> dict[str, Any]:
    from tests.fakes import mastodon_api

    return {"mastodon_api_url": fake.url, "mastodon_access_token": mastodon_api.ACCESS_TOKEN}


@pytest.fixture
def fake_mastodon() -> Iterator[FakeMastodon]:
    from tests.fakes.mastodon_api import FakeMastodon

    fake = FakeMastodon()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


if TYPE_CHECKING:
    from tests.fakes.bluesky_pds import FakeBlueskyPDS


def bluesky_settings(fake: FakeBlueskyPDS) -> dict[str, Any]:
    from tests.fakes import bluesky_pds

    return {"bluesky_pds_url": fake.url, "bluesky_handle": bluesky_pds.HANDLE, "bluesky_app_password": bluesky_pds.APP_PASSWORD}


@pytest.fixture
def fake_bluesky() -> Iterator[FakeBlueskyPDS]:
    from tests.fakes.bluesky_pds import FakeBlueskyPDS

    fake = FakeBlueskyPDS().start()
    try:
        yield fake
    finally:
        fake.stop()
