"""At most `api.limits.max_event_clients` live event streams at once (each costs the
pipeline a queue and a copy of every event): the next one is a 503 with `Retry-After`,
in the documented error form, and a place that frees up is taken again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from edge.config import SqliteConfig
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW, make_config
from tests.fixtures.api_server import daemon_api
from tests.fixtures.sse import SseReader

FULL = {"detail": "too many event streams: 2 open (api.limits.max_event_clients); retry later"}


@contextlib.asynccontextmanager
async def served(tmp_path: Path, **limits: Any) -> AsyncIterator[httpx.AsyncClient]:
    config = make_config(limits=limits)
    async with SqliteStore(SqliteConfig(path=tmp_path / "sse.sqlite")) as store:
        app = create_app(config, LiveView.from_config(config), store, clock=lambda: NOW)
        async with (
            daemon_api(app) as port,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http,
        ):
            yield http


async def _stream(http: httpx.AsyncClient) -> httpx.Response:
    return await http.send(http.build_request("GET", "/api/v1/events"), stream=True)


async def test_beyond_max_event_clients_a_stream_is_a_503(tmp_path: Path) -> None:
    async with served(tmp_path, max_event_clients=2) as http:
        open_ = [await _stream(http), await _stream(http)]
        for r in open_:
            assert r.status_code == 200
            assert (await SseReader(r).next()).event == "hello"
        refused = await _stream(http)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        await refused.aread()
        assert (refused.json(), refused.headers["content-type"]) == (FULL, "application/json")
        # The other routes still answer.
        assert (await http.get("/api/v1/machines")).status_code == 200
        await open_[0].aclose()
        for _ in range(50):  # the server notices the close at its next write or read
            again = await _stream(http)
            if again.status_code == 200:
                break
            await again.aclose()
            await asyncio.sleep(0.1)
        assert again.status_code == 200
        assert (await SseReader(again).next()).event == "hello"
        await again.aclose()
        await open_[1].aclose()
