"""Connections cannot pin the gateway's descriptors, on the daemon's real server: request
headers must be complete within `api.limits.header_timeout_s`, a connection waiting for
a request or in the middle of a body is closed after `idle_timeout_s`, and beyond
`max_connections` a connection is answered 503 and closed at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from edge.config import SqliteConfig
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW, make_config
from tests.fixtures.api_server import RawConnection, daemon_api, request_head

MACHINES = request_head("GET", "/api/v1/machines")


@contextlib.asynccontextmanager
async def served(tmp_path: Path, **limits: Any) -> AsyncIterator[int]:
    config = make_config(limits=limits)
    async with SqliteStore(SqliteConfig(path=tmp_path / "conn.sqlite")) as store:
        app = create_app(config, LiveView.from_config(config), store, clock=lambda: NOW)
        async with daemon_api(app) as port:
            yield port


async def test_headers_not_complete_in_time_are_a_408_and_the_connection_closes(
    tmp_path: Path,
) -> None:
    async with served(tmp_path, header_timeout_s=0.5) as port:
        silent = await RawConnection.open(port)  # connects and sends nothing
        partial = await RawConnection.open(port)
        await partial.send(b"GET /api/v1/machines HTTP/1.1\r\nHost: gw\r\n")  # no blank line
        r = await partial.response(within_s=3)
        assert (r.status, json.loads(r.body)) == (
            408,
            {"detail": "request headers not complete within 0.5 s (api.limits.header_timeout_s)"},
        )
        assert r.headers["connection"] == "close"
        assert await partial.closed_within(2)
        assert (await silent.response(within_s=3)).status == 408
        assert await silent.closed_within(2)


async def test_a_trickle_of_header_bytes_does_not_keep_a_connection(tmp_path: Path) -> None:
    async with served(tmp_path, header_timeout_s=0.6) as port:
        conn = await RawConnection.open(port)
        sent = 0
        # A byte every 0.1 s: always something new, never complete.
        with contextlib.suppress(ConnectionError):
            for sent in range(1, 31):  # noqa: B007 (read below)
                await conn.send(b"GET /api/v1/machines HTTP/1.1\r\n"[sent % 32 : sent % 32 + 1])
                await asyncio.sleep(0.1)
        assert 5 <= sent < 30  # the server closed it after 0.6 s, well within 3 s


async def test_an_idle_keep_alive_connection_closes_after_idle_timeout(tmp_path: Path) -> None:
    async with served(tmp_path, idle_timeout_s=0.5, header_timeout_s=5) as port:
        conn = await RawConnection.open(port)
        await conn.send(MACHINES)
        assert (await conn.response()).status == 200
        await asyncio.sleep(0.2)
        await conn.send(MACHINES)  # still open: a second request on it
        assert (await conn.response()).status == 200
        assert await conn.closed_within(2)  # then nothing for 0.5 s: closed


async def test_a_body_that_stops_coming_is_a_408_after_idle_timeout(tmp_path: Path) -> None:
    async with served(tmp_path, idle_timeout_s=0.5) as port:
        conn = await RawConnection.open(port)
        head = {"Content-Type": "application/json", "Content-Length": "100"}
        await conn.send(request_head("PUT", "/api/v1/machines/press1/product", head))
        await conn.send(b'{"product": ')  # 12 of 100 bytes, then nothing
        r = await conn.response(within_s=3)
        assert (r.status, json.loads(r.body)) == (
            408,
            {"detail": "no data from the client for 0.5 s (api.limits.idle_timeout_s)"},
        )
        assert await conn.closed_within(2)


async def test_beyond_max_connections_a_connection_is_a_503_at_once(tmp_path: Path) -> None:
    async with served(tmp_path, max_connections=4, header_timeout_s=1.5) as port:
        held = [await RawConnection.open(port) for _ in range(4)]
        await asyncio.sleep(0.2)  # (the server has taken them)
        extra = await RawConnection.open(port)
        r = await extra.response(within_s=1)
        assert (r.status, json.loads(r.body)) == (
            503,
            {"detail": "too many connections: 4 open (api.limits.max_connections); retry later"},
        )
        assert r.headers["retry-after"] == "1"
        assert await extra.closed_within(1)
        # The held ones time out (408), which frees the places for real requests.
        for conn in held:
            assert (await conn.response(within_s=3)).status == 408
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/api/v1/machines")).status_code == 200


async def test_a_long_event_stream_is_not_cut_by_the_timeouts(tmp_path: Path) -> None:
    """The timeouts wait for the client's bytes; a stream the server writes is not idle."""
    from api.events import StreamSettings

    config = make_config(limits={"idle_timeout_s": 0.3, "header_timeout_s": 0.3})
    async with SqliteStore(SqliteConfig(path=tmp_path / "sse.sqlite")) as store:
        app = create_app(config, LiveView.from_config(config), store, clock=lambda: NOW)
        from api.events import EventHub

        app.state.events = EventHub(StreamSettings(heartbeat_s=0.2))
        async with daemon_api(app) as port:
            conn = await RawConnection.open(port)
            await conn.send(request_head("GET", "/api/v1/events"))
            await asyncio.sleep(1.5)
            data = await asyncio.wait_for(conn.reader.read(65536), 1)
            assert b"200 OK" in data and b"event: hello" in data
            assert data.count(b": keep-alive") >= 5
            assert not await conn.closed_within(0.5)
            await conn.close()
