"""API key: required on /api/v1 and /metrics when configured; /health, /ready, / stay open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from edge.config import SqliteConfig
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW, make_config

KEY = "s3cret-key-7d41c2"
PROTECTED = [
    "/api/v1/machines",
    "/api/v1/machines/press1",
    "/api/v1/machines/press1/oee",
    "/api/v1/machines/press1/reasons",
    "/api/v1/lines/line1/oee",
    "/api/v1/losses?machine=press1",
    "/metrics",
]
OPEN = ["/health", "/ready", "/"]


@pytest.fixture
async def keyed(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = make_config(host="0.0.0.0", api_key=KEY)
    async with SqliteStore(SqliteConfig(path=tmp_path / "auth.sqlite")) as store:
        app = create_app(config, LiveView.from_config(config), store, clock=lambda: NOW)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
            yield c


@pytest.mark.parametrize("path", PROTECTED)
async def test_without_key_401(keyed: httpx.AsyncClient, path: str) -> None:
    r = await keyed.get(path)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json() == {
        "detail": "missing or wrong API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
    }


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer wrong"},
        {"X-API-Key": "wrong"},
        {"X-API-Key": ""},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": KEY},
        {"X-API-Key": KEY + "x"},
    ],
)
async def test_wrong_key_401(keyed: httpx.AsyncClient, headers: dict[str, str]) -> None:
    assert (await keyed.get("/api/v1/machines", headers=headers)).status_code == 401


@pytest.mark.parametrize("path", PROTECTED)
@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY}])
async def test_with_key_200(keyed: httpx.AsyncClient, path: str, headers: dict[str, str]) -> None:
    assert (await keyed.get(path, headers=headers)).status_code == 200


@pytest.mark.parametrize("path", OPEN)
async def test_open_routes_need_no_key(keyed: httpx.AsyncClient, path: str) -> None:
    r = await keyed.get(path)
    assert r.status_code in (200, 503)  # /ready is 503 here: nothing started
    assert r.status_code != 401


async def test_unknown_machine_is_401_before_404_without_key(keyed: httpx.AsyncClient) -> None:
    # The key check runs first, so ids are not revealed to unauthenticated callers.
    assert (await keyed.get("/api/v1/machines/nope")).status_code == 401
    r = await keyed.get("/api/v1/machines/nope", headers={"X-API-Key": KEY})
    assert r.status_code == 404


async def test_no_key_configured_means_open(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/machines")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200


async def test_changes_need_the_key(keyed: httpx.AsyncClient) -> None:
    # 401 before anything else. With the key: no gateway here (503), an empty store (404).
    for url, body, with_key in [
        ("/api/v1/machines/press1/product", {"product": None}, 503),
        ("/api/v1/machines/press1/stops/2026-11-03T07:00:00Z/reason", {"code": None}, 404),
    ]:
        assert (await keyed.put(url, json=body)).status_code == 401
        r = await keyed.put(url, json=body, headers={"X-API-Key": KEY})
        assert r.status_code == with_key
