"""The HTTP contract as a document: `/openapi.json` has every path of DESIGN.md's HTTP API,
declares the key schemes and the 401 on every keyed operation (and the 403 on the admin
ones, which a read key really gets), and `docs/openapi.json` is exactly that document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import UNAUTHORIZED, required_scope
from api.openapi_export import DEFAULT_PATH, document, main, render
from tests.api.test_scopes import FORBIDDEN, NOT_OPERATE, READ, scoped_app

DOC = document()
# DESIGN.md, "HTTP API" (path parameters named as in the code). Not here: `GET /` (the
# dashboard page) and `/docs` are pages, not operations (see test_pages_are_served).
DESIGN = {
    ("get", "/api/v1/machines"),
    ("get", "/api/v1/machines/{machine_id}"),
    ("get", "/api/v1/machines/{machine_id}/oee"),
    ("get", "/api/v1/machines/{machine_id}/states"),
    ("get", "/api/v1/machines/{machine_id}/tags/{tag}"),
    ("get", "/api/v1/lines/{line}/oee"),
    ("get", "/api/v1/losses"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/alarms"),
    ("post", "/api/v1/alarms/{alarm_id}/ack"),
    ("put", "/api/v1/machines/{machine_id}/stops/{at}/reason"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/metrics"),
}
ADMIN = {
    ("put", "/api/v1/machines/{machine_id}/stops/{at}/reason"),
    ("put", "/api/v1/machines/{machine_id}/product"),
    ("post", "/api/v1/config/reload"),
    ("post", "/api/v1/machines/{machine_id}/suspects/{seq}/accept"),
    ("post", "/api/v1/machines/{machine_id}/suspects/{seq}/discard"),
    ("post", "/api/v1/machines/{machine_id}/counts"),
    ("post", "/api/v1/machines/{machine_id}/scrap"),
    ("put", "/api/v1/machines/{machine_id}/stops/{at}/planned"),
    ("delete", "/api/v1/machines/{machine_id}/stops/{at}/planned"),
    ("put", "/api/v1/shifts/{day}/{name}/notes"),
    ("post", "/api/v1/alarms/{alarm_id}/ack"),
    ("post", "/api/v1/spc/charts/{chart}/limits"),
    ("put", "/api/v1/spc/charts/{chart}/limits"),
    ("delete", "/api/v1/spc/charts/{chart}/limits"),
    ("post", "/api/v1/spc/charts/{chart}/measurements"),
    ("post", "/api/v1/orders"),
    ("post", "/api/v1/orders/import"),
    ("delete", "/api/v1/orders/{order_id}"),
    ("post", "/api/v1/machines/{machine_id}/order"),
}
KEY_SCHEMES: list[dict[str, list[str]]] = [{"HTTPBearer": []}, {"APIKeyHeader": []}]
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {(m, p): op for p, item in DOC["paths"].items() for m, op in item.items()}


def test_every_path_of_the_design_is_there() -> None:
    assert DESIGN - set(operations()) == set()  # the missing ones


def test_keyed_operations_declare_the_schemes_401_and_403() -> None:
    schemes = DOC["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer API_KEY",
    }
    assert schemes["APIKeyHeader"]["in"] == "header"
    keyed = {k for k in operations() if k[1].startswith("/api/v1/") or k[1] == "/metrics"}
    assert {k for k, op in operations().items() if "security" in op} == keyed
    for key in keyed:
        op = operations()[key]
        assert op["security"] == KEY_SCHEMES, key
        assert "401" in op["responses"], key
        # (/metrics too: its 200 is text, its 401 JSON as everywhere)
        assert op["responses"]["401"]["content"] == ERROR, key
        assert ("403" in op["responses"]) == (key in ADMIN), key
    # Every change needs an operate or admin key; every read is a GET.
    assert {k for k in keyed if k[0] != "get"} == ADMIN


@pytest.mark.parametrize("method, path", sorted(ADMIN))
async def test_a_read_key_gets_the_documented_403(method: str, path: str, tmp_path: Path) -> None:
    url = path.format(
        machine_id="press1",
        at="2026-11-03T07:00:00Z",
        seq=1,
        day="2026-11-03",
        name="early",
        alarm_id="press1.r.1",
        chart="gauge",
        order_id="A-1",
    )
    async with scoped_app(tmp_path) as c:
        body = {"code": None} if "reason" in path else {"product": None}
        body = {"good": 1, "reject": 0} if path.endswith("/counts") else body
        r = await c.request(method, url, json=body, headers={"Authorization": f"Bearer {READ}"})
        refusal = FORBIDDEN if required_scope(method.upper(), url) == "admin" else NOT_OPERATE
        assert (r.status_code, r.json()) == (403, refusal)
        assert (
            refusal["detail"].removeprefix("API key 'viewer' has the read scope; ")
            in (operations()[(method, path)]["responses"]["403"]["description"])
        )
        r = await c.request(method, url, json=body)
        assert (r.status_code, r.json()) == (401, {"detail": UNAUTHORIZED})


async def test_pages_are_served(client: httpx.AsyncClient) -> None:
    assert "/" not in DOC["paths"]
    for page in ("/", "/docs"):
        r = await client.get(page)
        assert (r.status_code, r.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert (await client.get("/openapi.json")).json()["paths"] == DOC["paths"]


def test_docs_openapi_json_is_the_document() -> None:
    assert json.loads(DEFAULT_PATH.read_text(encoding="utf-8")) == DOC
    assert DEFAULT_PATH.read_text(encoding="utf-8") == render()  # as the exporter writes it
    assert main(["--check"]) == 0


def test_the_exporter_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "openapi.json"
    assert main([str(out), "--check"]) == 1
    assert capsys.readouterr().err == (f"{out} is stale: run python -m api.openapi_export\n")
    assert main([str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render()
    assert main([str(out), "--check"]) == 0
