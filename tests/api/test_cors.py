"""CORS: off unless `api.cors_origins` lists origins; then a browser page from one of them
may call the API with its key (the preflight allows the Authorization header), and a page
from anywhere else gets no CORS header at all."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from edge.config import SqliteConfig
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW, make_config

GRAFANA = "https://grafana.plant.local:3000"
KEY = "cors-k3y-0123456"
PREFLIGHT = {
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization",
}


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Any]:
    """`api(**api_section)`: a client of an app with that `api` section."""
    async with contextlib.AsyncExitStack() as stack:
        store = await stack.enter_async_context(
            SqliteStore(SqliteConfig(path=tmp_path / "c.sqlite"))
        )

        async def make(**section: Any) -> httpx.AsyncClient:
            config = make_config(keys=[{"name": "viewer", "key": KEY}], **section)
            app = create_app(config, LiveView.from_config(config), store, clock=lambda: NOW)
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://gw")
            return await stack.enter_async_context(client)

        yield make


def cors_headers(r: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k.startswith("access-control-")}


async def test_preflight_from_an_allowed_origin(api) -> None:  # type: ignore[no-untyped-def]
    c = await api(cors_origins=[GRAFANA, "http://localhost:3000"])
    r = await c.options("/api/v1/machines", headers={"Origin": GRAFANA, **PREFLIGHT})
    assert (r.status_code, r.text) == (200, "OK")  # answered before the key check
    assert cors_headers(r) == {
        "access-control-allow-origin": GRAFANA,
        "access-control-allow-methods": "GET, PUT, POST",
        "access-control-allow-headers": "Accept, Accept-Language, Authorization, Content-Language, "
        "Content-Type, Last-Event-ID, X-API-Key",
        "access-control-max-age": "600",
    }
    r = await c.get(
        "/api/v1/machines", headers={"Origin": GRAFANA, "Authorization": f"Bearer {KEY}"}
    )
    assert r.status_code == 200
    assert cors_headers(r) == {"access-control-allow-origin": GRAFANA}
    # A 401 carries the header too, so the page can read why it was refused.
    r = await c.get("/api/v1/machines", headers={"Origin": GRAFANA})
    assert (r.status_code, cors_headers(r)) == (401, {"access-control-allow-origin": GRAFANA})


async def test_other_origins_get_no_cors_headers(api) -> None:  # type: ignore[no-untyped-def]
    c = await api(cors_origins=[GRAFANA])
    evil = {"Origin": "https://evil.example"}
    r = await c.options("/api/v1/machines", headers={**evil, **PREFLIGHT})
    assert (r.status_code, r.text) == (400, "Disallowed CORS origin")
    assert "access-control-allow-origin" not in r.headers
    r = await c.get("/api/v1/machines", headers={**evil, "Authorization": f"Bearer {KEY}"})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers


async def test_no_origins_no_cors(api) -> None:  # type: ignore[no-untyped-def]
    c = await api()
    r = await c.options("/api/v1/machines", headers={"Origin": GRAFANA, **PREFLIGHT})
    assert r.status_code == 405  # no CORS middleware: the route knows GET only
    r = await c.get(
        "/api/v1/machines", headers={"Origin": GRAFANA, "Authorization": f"Bearer {KEY}"}
    )
    assert (r.status_code, cors_headers(r)) == (200, {})


async def test_credentials(api) -> None:  # type: ignore[no-untyped-def]
    c = await api(cors_origins=[GRAFANA], cors_allow_credentials=True)
    r = await c.options("/api/v1/machines", headers={"Origin": GRAFANA, **PREFLIGHT})
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["access-control-allow-origin"] == GRAFANA


async def test_any_origin(api) -> None:  # type: ignore[no-untyped-def]
    c = await api(cors_origins=["*"])
    r = await c.get("/api/v1/machines", headers={"Origin": "https://x.example", "X-API-Key": KEY})
    assert cors_headers(r) == {"access-control-allow-origin": "*"}
