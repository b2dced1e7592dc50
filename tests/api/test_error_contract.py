"""Every error the API answers is the one `docs/openapi.json` declares: the status is
listed for the operation, and the body validates against its schema (`ErrorOut`, or
`InvalidConfigOut` for a reload). Requests go to the daemon's real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from api.app import create_app
from api.openapi_export import document
from connectors.sqlite.store import SqliteStore
from edge.config import SqliteConfig
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW, make_config
from tests.api.test_scopes import ADMIN, KEYS, READ, bearer
from tests.fixtures.api_server import daemon_api

DOC = document()
M = "/api/v1/machines/{machine_id}"
STOP = f"{M}/stops/{{at}}/reason"
# (method, route template, path values, query, json body, key, status)
CASES: list[tuple[str, str, dict[str, str], dict[str, str], Any, str | None, int]] = [
    ("get", "/api/v1/machines", {}, {}, None, None, 401),
    ("get", "/metrics", {}, {}, None, "wrong", 401),
    ("put", f"{M}/product", {"machine_id": "press1"}, {}, {"product": None}, READ, 403),
    ("get", f"{M}/states", {"machine_id": "nope"}, {}, None, READ, 404),
    ("get", f"{M}/states", {"machine_id": "press1"}, {"from": "yesterday"}, None, READ, 422),
    ("get", f"{M}/states", {"machine_id": "press1"}, {"limit": "0"}, None, READ, 422),
    ("get", f"{M}/states", {"machine_id": "press1"}, {"to": "0001-01-01T00:00Z"}, None, READ, 422),
    ("get", f"{M}/oee", {"machine_id": "press1"}, {"window": "9h"}, None, READ, 422),
    ("get", f"{M}/oee", {"machine_id": "press1"}, {"from": "x"}, None, READ, 422),
    ("get", "/api/v1/lines/{line}/oee", {"line": "nope"}, {}, None, READ, 404),
    ("get", "/api/v1/plant/oee", {}, {"to": "2026-11-03T07:00:00Z"}, None, READ, 422),
    ("get", "/api/v1/losses", {}, {}, None, READ, 422),
    ("get", f"{M}/tags/{{tag}}", {"machine_id": "press1", "tag": "nope"}, {}, None, READ, 404),
    ("get", f"{M}/tags/{{tag}}", {"machine_id": "press1", "tag": "state"}, {"every": "x"},
     None, READ, 422),
    ("get", f"{M}/reasons", {"machine_id": "nope"}, {}, None, READ, 404),
    ("put", f"{M}/product", {"machine_id": "press1"}, {}, {"product": 5}, ADMIN, 422),
    ("put", f"{M}/product", {"machine_id": "press1"}, {}, {"product": "x" * 70_000}, ADMIN, 413),
    ("put", f"{M}/product", {"machine_id": "press1"}, {}, {"product": None}, ADMIN, 503),
    ("put", STOP, {"machine_id": "press1", "at": "then"}, {}, {"code": None}, ADMIN, 422),
    ("put", STOP, {"machine_id": "press1", "at": "2026-11-03T07:00:00Z"}, {}, {"code": "x"},
     ADMIN, 422),
    ("post", "/api/v1/config/reload", {}, {}, None, ADMIN, 503),
    ("get", "/api/v1/orders", {}, {"machine": "nope"}, None, READ, 404),
    ("get", "/api/v1/orders", {}, {}, None, READ, 503),
    ("get", "/api/v1/orders/{order_id}", {"order_id": "A"}, {}, None, READ, 503),
    ("post", "/api/v1/orders/import", {}, {"dry_run": "maybe"}, [], ADMIN, 422),
    ("post", "/api/v1/orders/import", {}, {}, [], ADMIN, 503),
    ("post", f"{M}/order", {"machine_id": "press1"}, {}, {"order": "A", "action": "go"},
     ADMIN, 422),
    ("get", "/api/v1/plan", {}, {"period": "month"}, None, READ, 422),
    ("get", "/api/v1/changeovers", {}, {"from": "x"}, None, READ, 422),
]  # fmt: skip


def declared_schema(method: str, route: str, status: int) -> dict[str, Any]:
    responses = DOC["paths"][route][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {route}: {status} is not declared"
    content = responses[str(status)]["content"]
    assert list(content) == ["application/json"], f"{method.upper()} {route}: {status} {content}"
    # Resolved against the document itself, so `#/components/...` references work.
    return {**content["application/json"]["schema"], "components": DOC["components"]}


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = make_config(host="0.0.0.0", keys=KEYS)
    async with SqliteStore(SqliteConfig(path=tmp_path / "errors.sqlite")) as store:
        app = create_app(config, LiveView.from_config(config), store, clock=lambda: NOW)
        async with (
            daemon_api(app) as port,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
        ):
            yield client


@pytest.mark.parametrize("method, route, values, query, body, key, status", CASES)
async def test_every_error_is_the_documented_one(
    http: httpx.AsyncClient,
    method: str,
    route: str,
    values: dict[str, str],
    query: dict[str, str],
    body: Any,
    key: str | None,
    status: int,
) -> None:
    headers = bearer(key) if key else {}
    r = await http.request(method, route.format(**values), params=query, json=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    jsonschema.validate(r.json(), declared_schema(method, route, status))


def test_no_operation_declares_fastapi_s_validation_error_form() -> None:
    """Every 422 is an `ErrorOut` (a reload's an `InvalidConfigOut`), never the list form."""
    assert "HTTPValidationError" not in DOC["components"]["schemas"]
    for route, item in DOC["paths"].items():
        for method, op in item.items():
            refs = {
                c["schema"].get("$ref")
                for r in op["responses"].values()
                for c in r.get("content", {}).values()
            }
            assert "#/components/schemas/HTTPValidationError" not in refs, (method, route)
