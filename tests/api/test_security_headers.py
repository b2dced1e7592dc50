"""Every answer carries the security headers (`api.guard.SECURITY_HEADERS`): the pages,
their files, `/docs` and its Swagger UI files (served by the gateway, no CDN), the
data, and every refusal, the server's own (408, 503) included."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.guard import SECURITY_HEADERS
from connectors.sqlite.store import SqliteStore
from edge.config import SqliteConfig
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW, make_config
from tests.api.test_scopes import ADMIN, KEYS, READ, bearer
from tests.fixtures.api_server import RawConnection, daemon_api

POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, int]]:
    config = make_config(host="0.0.0.0", keys=KEYS, limits={"header_timeout_s": 0.3})
    async with SqliteStore(SqliteConfig(path=tmp_path / "headers.sqlite")) as store:
        app = create_app(config, LiveView.from_config(config), store, clock=lambda: NOW)
        async with (
            daemon_api(app) as port,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
        ):
            yield http, port


def test_the_policy_is_the_documented_one() -> None:
    assert SECURITY_HEADERS == {
        "content-security-policy": POLICY,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
    }


@pytest.mark.parametrize(
    "method, path, key, status, media",
    [
        ("GET", "/", None, 200, "text/html; charset=utf-8"),
        ("GET", "/static/live.js", None, 200, "text/javascript; charset=utf-8"),
        ("GET", "/docs", None, 200, "text/html; charset=utf-8"),
        ("GET", "/docs/start.js", None, 200, "text/javascript; charset=utf-8"),
        ("GET", "/docs/swagger-ui-bundle.js", None, 200, "text/javascript; charset=utf-8"),
        ("GET", "/docs/swagger-ui.css", None, 200, "text/css; charset=utf-8"),
        ("GET", "/docs/favicon.png", None, 200, "image/png"),
        ("GET", "/docs/redoc.standalone.js", None, 404, "application/json"),
        ("GET", "/openapi.json", None, 200, "application/json"),
        ("GET", "/api/v1/machines", READ, 200, "application/json"),
        ("GET", "/api/v1/machines", None, 401, "application/json"),
        ("PUT", "/api/v1/machines/press1/product", READ, 403, "application/json"),
        ("GET", "/api/v1/machines/nope", READ, 404, "application/json"),
        ("GET", "/health", None, 200, "application/json"),
        ("GET", "/metrics", READ, 200, "text/plain; version=0.0.4; charset=utf-8"),
    ],
)
async def test_every_answer_has_the_headers(
    served: tuple[httpx.AsyncClient, int],
    method: str,
    path: str,
    key: str | None,
    status: int,
    media: str,
) -> None:
    http, _ = served
    r = await http.request(method, path, headers=bearer(key) if key else {}, json=None)
    assert (r.status_code, r.headers["content-type"]) == (status, media)
    for name, value in SECURITY_HEADERS.items():
        assert r.headers[name] == value, (path, name)


async def test_the_docs_page_loads_nothing_from_elsewhere(
    served: tuple[httpx.AsyncClient, int],
) -> None:
    http, _ = served
    page = (await http.get("/docs")).text
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls == [
        "docs/favicon.png",
        "docs/swagger-ui.css",
        "docs/swagger-ui-bundle.js",
        "docs/start.js",
    ]
    assert "<script>" not in page  # every script is a file: the policy allows no inline one
    start = (await http.get("/docs/start.js")).text
    assert 'url: "openapi.json"' in start and "validatorUrl: null" in start
    bundle = await http.get("/docs/swagger-ui-bundle.js")
    assert len(bundle.content) > 1_000_000 and b"SwaggerUIBundle" in bundle.content[:2000]


async def test_the_server_s_own_refusals_have_them_too(
    served: tuple[httpx.AsyncClient, int],
) -> None:
    http, port = served
    conn = await RawConnection.open(port)
    r = await conn.response(within_s=3)  # nothing sent: 408 after 0.3 s
    assert r.status == 408
    for name, value in SECURITY_HEADERS.items():
        assert r.headers[name] == value
    big = await http.put(
        "/api/v1/machines/press1/product", content=b"{}" * 40_000, headers=bearer(ADMIN)
    )
    assert big.status_code == 413
    assert big.headers["content-security-policy"] == POLICY
