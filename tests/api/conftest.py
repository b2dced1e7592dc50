"""Fixtures for the API tests: a real Config, a real LiveView and the app over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from edge.config import Config, SqliteConfig
from edge.pipeline.gateway import Gateway
from edge.pipeline.live import LiveView
from tests.api.plant import HISTORY, make_plant_config

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


# --------------------------------------------------------------------------- the plant
# (tests/api/plant.py): a real store holding its history, a real Gateway as the control.


@pytest.fixture
def plant_config(tmp_path: Path) -> Config:
    return make_plant_config(tmp_path / "data")


@pytest.fixture
async def plant_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(SqliteConfig(path=tmp_path / "plant.sqlite")) as store:
        await store.handle(HISTORY)
        yield store


def plant_gateway(config: Config, store: SqliteStore) -> Gateway:
    """Not run: only its `emit` and `set_product` serve the API, as in the daemon."""
    return Gateway(config, sinks=[store], history=store, clock=lambda: NOW)


def plant_api(config: Config, store: SqliteStore, gateway: Gateway) -> httpx.AsyncClient:
    """A client of the plant's API with `gateway` to hand changes to (use it in `async with`)."""
    app = create_app(config, gateway.live, store, lambda: NOW, control=gateway)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


@pytest.fixture
def gateway(plant_config: Config, plant_store: SqliteStore) -> Gateway:
    return plant_gateway(plant_config, plant_store)


@pytest.fixture
async def plant_client(
    plant_config: Config, plant_store: SqliteStore, gateway: Gateway
) -> AsyncIterator[httpx.AsyncClient]:
    async with plant_api(plant_config, plant_store, gateway) as c:
        yield c


@pytest.fixture
async def bottleneck_client(
    tmp_path: Path, plant_store: SqliteStore
) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
    """The plant with line1 paced by press2 (`rollup: bottleneck`): a client and its gateway."""
    lines = {"line1": {"rollup": "bottleneck", "bottleneck": "press2"}}
    config = make_plant_config(tmp_path / "data", lines)
    gateway = plant_gateway(config, plant_store)
    async with plant_api(config, plant_store, gateway) as c:
        yield c, gateway


@pytest.fixture
async def read_only_client(
    plant_config: Config, plant_store: SqliteStore
) -> AsyncIterator[httpx.AsyncClient]:
    """The plant's API without a gateway to hand changes to (`control` None)."""
    app = create_app(plant_config, LiveView.from_config(plant_config), plant_store, lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c


async def publish_live(gateway: Gateway, machines: list[str] | None = None) -> None:
    """What a running gateway does at start and on each tick: the engine replays the stored
    history, and its figures at NOW go to the live view (and the store)."""
    assert gateway.history is not None
    await gateway.engine.preload(gateway.history, NOW)
    await gateway.emit(gateway.engine.figures(NOW, machines))
