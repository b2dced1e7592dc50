"""Fixtures for the API tests: a real Config, a real LiveView and the app over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api.app import create_app
from edge.config import Config
from edge.live import LiveView
from edge.types import StateRecord

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


class NoHistory:
    """The history reader of tests whose routes must not read history: any read fails.

    Not a stand-in for the store (the states tests use the real SQLite store); it makes
    a test fail loudly if a live-only route starts reading history. A read raises, which
    is also what a broken store does.
    """

    async def state_history(
        self, machine: str, start: datetime, end: datetime
    ) -> list[StateRecord]:
        raise RuntimeError("history read in a test that has no history")


@pytest.fixture
def config() -> Config:
    return make_config()


@pytest.fixture
def live(config: Config) -> LiveView:
    return LiveView.from_config(config)


@pytest.fixture
async def client(config: Config, live: LiveView) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(config, live, NoHistory(), clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
        yield c
