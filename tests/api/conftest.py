"""Fixtures for the API tests: a real Config, a real LiveView and the app over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from connectors.sqlite import SqliteStore
from edge.config import Config, SqliteConfig
from edge.live import LiveView

NOW = datetime(2026, 11, 3, 8, 0, 0, tzinfo=UTC)


def make_config(**api: Any) -> Config:
    """Two machines; press2 sits on another line. `api` goes to the `api` section."""
    machine = {"modbus": {"host": "127.0.0.1"}, "tags": {"state": {"address": 0}}}
    return Config.model_validate(
        {
            "gateway": {"id": "gw1"},
            "site": "plant1",
            "area": "press",
            "line": "line1",
            "machines": [
                {"id": "press1", "name": "Press 1", "ideal_cycle_s": 2, **machine},
                {"id": "press2", "line": "line2", "ideal_cycle_s": 1.5, **machine},
            ],
            "oee": {"windows": ["15m", "1h"]},
            "api": api,
        }
    )


@pytest.fixture
def config() -> Config:
    return make_config()


@pytest.fixture
def live(config: Config) -> LiveView:
    return LiveView.from_config(config)


@pytest.fixture
async def client(
    config: Config, live: LiveView, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    # A real, empty store: the live-only routes must answer without reading it.
    async with SqliteStore(SqliteConfig(path=tmp_path / "api.sqlite")) as store:
        app = create_app(config, live, store, clock=lambda: NOW)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
            yield c


@pytest.fixture
async def client_with_closed_store(
    config: Config, live: LiveView, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    store = SqliteStore(SqliteConfig(path=tmp_path / "never-opened.sqlite"))
    app = create_app(config, live, store, clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
        yield c
