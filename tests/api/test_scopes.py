"""API keys with scopes: `read` for every GET, `operate` for an operator's changes
(reasons, products, scrap, notes, alarm acknowledgements), `admin` for every change
(counts, config reload); `api.api_key` is the admin key "default". Exact statuses and bodies, and
the configuration's checks with their field paths."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.auth import UNAUTHORIZED, find_key, required_scope
from connectors.sqlite.store import SqliteStore
from core.types import ProductChanged
from edge.config import SqliteConfig
from edge.config.loading import ConfigError, parse_config
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW, make_config, plant_api
from tests.api.test_auth import PROTECTED

READ, ADMIN, LEGACY = "r-9f2c1e77b4d3a0", "a-51d0c8e2aa6f19", "legacy-k3y-8e2d04"
OPERATE = "o-7c3e9b1d5f2a84"
KEYS = [
    {"name": "viewer", "key": READ},
    {"name": "ops", "key": ADMIN, "scope": "admin"},
    {"name": "line3-tablet", "key": OPERATE, "scope": "operate"},
]
FORBIDDEN = {"detail": "API key 'viewer' has the read scope; this route needs an admin key"}
NOT_OPERATE = {
    "detail": "API key 'viewer' has the read scope; this route needs an operate or admin key"
}
NOT_ADMIN = {
    "detail": "API key 'line3-tablet' has the operate scope; this route needs an admin key"
}
# (method, path, body, status with an admin key: no gateway behind this app)
OPERATE_CHANGES = [
    ("PUT", "/api/v1/machines/press1/product", {"product": None}, 503),
    ("PUT", "/api/v1/machines/press1/stops/2026-11-03T07:00:00Z/reason", {"code": None}, 404),
    ("POST", "/api/v1/spc/charts/gauge/measurements", {"values": [1.0]}, 404),
    (
        "POST",
        "/api/v1/orders",
        {
            "id": "A-1",
            "product": "101",
            "quantity": 1,
            "due": "2026-11-04T00:00:00Z",
            "machine": "press1",
        },
        503,
    ),
    ("POST", "/api/v1/orders/import", [], 503),
    ("DELETE", "/api/v1/orders/A-1", None, 503),
    ("POST", "/api/v1/machines/press1/order", {"order": "A-1", "action": "start"}, 503),
]
ADMIN_CHANGES = [
    ("POST", "/api/v1/config/reload", None, 503),
    ("POST", "/api/v1/machines/press1/counts", {"good": 1, "reject": 0}, 503),
    ("POST", "/api/v1/machines/press1/suspects/1/accept", {}, 503),
    ("POST", "/api/v1/spc/charts/gauge/limits", {"last": 5}, 404),
    ("PUT", "/api/v1/spc/charts/gauge/limits", {"center": 1, "ucl": 2, "lcl": 0}, 404),
    ("DELETE", "/api/v1/spc/charts/gauge/limits", None, 404),
]
CHANGES = OPERATE_CHANGES + ADMIN_CHANGES


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@contextlib.asynccontextmanager
async def scoped_app(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with a read key, an admin key and `api_key`, on any address."""
    config = make_config(host="0.0.0.0", keys=KEYS, api_key=LEGACY)
    async with SqliteStore(SqliteConfig(path=tmp_path / "scopes.sqlite")) as store:
        app = create_app(config, LiveView.from_config(config), store, clock=lambda: NOW)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
            yield c


@pytest.fixture
async def scoped(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with scoped_app(tmp_path) as c:
        yield c


@pytest.mark.parametrize(
    "headers", [{}, bearer("r-9f2c1e77b"), bearer("r-9f2c1e77b5"), bearer(READ + "0"), bearer("")]
)
@pytest.mark.parametrize(
    "method, path, body, _", [("GET", "/api/v1/machines", None, 200), *CHANGES]
)
async def test_no_or_wrong_key_is_401(scoped, headers, method, path, body, _) -> None:  # type: ignore[no-untyped-def]
    r = await scoped.request(method, path, json=body, headers=headers)
    assert (r.status_code, r.json()) == (401, {"detail": UNAUTHORIZED})
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", PROTECTED)
@pytest.mark.parametrize(
    "headers", [bearer(READ), {"X-API-Key": READ}, bearer(ADMIN), bearer(LEGACY)]
)
async def test_every_key_reads(
    scoped: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    assert (await scoped.get(path, headers=headers)).status_code == 200


@pytest.mark.parametrize("method, path, body, admin_status", CHANGES)
async def test_a_read_key_may_not_change(scoped, method, path, body, admin_status) -> None:  # type: ignore[no-untyped-def]
    refusal = FORBIDDEN if (method, path, body, admin_status) in ADMIN_CHANGES else NOT_OPERATE
    for headers in (bearer(READ), {"X-API-Key": READ}):
        r = await scoped.request(method, path, json=body, headers=headers)
        assert (r.status_code, r.json()) == (403, refusal)
    # An admin key gets past the check: what answers then is the route (no gateway, an
    # empty store, no config file behind this app).
    for headers in (bearer(ADMIN), {"X-API-Key": ADMIN}, bearer(LEGACY)):
        r = await scoped.request(method, path, json=body, headers=headers)
        assert r.status_code == admin_status, r.text
    r = await scoped.post("/api/v1/config/reload", headers=bearer(ADMIN))
    assert r.json() == {"detail": "no config file to reload: the gateway runs without `-c FILE`"}


@pytest.mark.parametrize("method, path, body, admin_status", OPERATE_CHANGES)
async def test_an_operate_key_makes_an_operators_changes(
    scoped, method, path, body, admin_status
) -> None:  # type: ignore[no-untyped-def]
    r = await scoped.request(method, path, json=body, headers=bearer(OPERATE))
    assert r.status_code == admin_status, r.text  # past both checks: the route answered


@pytest.mark.parametrize("method, path, body, _", ADMIN_CHANGES)
async def test_an_operate_key_may_not_make_an_admins_changes(scoped, method, path, body, _) -> None:  # type: ignore[no-untyped-def]
    r = await scoped.request(method, path, json=body, headers=bearer(OPERATE))
    assert (r.status_code, r.json()) == (403, NOT_ADMIN)


@pytest.mark.parametrize(
    "method, path, scope",
    [
        ("GET", "/api/v1/machines/p1/stops/x/reason", "read"),
        ("PUT", "/api/v1/machines/p1/stops/2026-11-03T07:00:00Z/reason", "operate"),
        ("PUT", "/api/v1/machines/p1/stops/2026-11-03T07:00:00Z/planned", "operate"),
        ("POST", "/api/v1/machines/p1/scrap", "operate"),
        ("PUT", "/api/v1/machines/p1/product", "operate"),
        ("PUT", "/api/v1/shifts/2026-11-03/early/notes", "operate"),
        ("POST", "/api/v1/alarms/a17/ack", "operate"),
        ("POST", "/api/v1/machines/p1/counts", "admin"),
        ("POST", "/api/v1/machines/p1/scrap/x", "admin"),
        ("PUT", "/api/v1/machines/p1/stops/a/b/reason", "admin"),
        ("POST", "/api/v1/config/reload", "admin"),
    ],
)
def test_the_scope_a_request_needs(method: str, path: str, scope: str) -> None:
    assert required_scope(method, path) == scope


async def test_an_operate_key_changes_the_product_and_it_is_audited(  # type: ignore[no-untyped-def]
    plant_config, plant_store, gateway
) -> None:
    config = plant_config.model_copy(update={"api": make_config(keys=KEYS).api})
    seen: list[ProductChanged] = []
    gateway.live.listeners.append(
        lambda e: seen.append(e) if isinstance(e, ProductChanged) else None
    )
    async with plant_api(config, plant_store, gateway) as c:
        url = "/api/v1/machines/press1/product"
        r = await c.put(url, json={"product": "102"}, headers=bearer(READ))
        assert r.status_code == 403
        assert gateway.normalisers["press1"].product is None
        r = await c.put(url, json={"product": "102"}, headers=bearer(OPERATE))
        assert r.status_code == 200, r.text
        assert gateway.normalisers["press1"].product == "102"
        r = await c.put(url, json={"product": None}, headers=bearer(ADMIN))
        assert r.status_code == 200, r.text
        audit = (await c.get("/api/v1/audit", headers=bearer(READ))).json()
    # Who set which product when, and what it replaced: in the store's audit and as
    # events (the retained `…/product` on MQTT, SSE `product`, InfluxDB `product_change`).
    assert [(a["action"], a["by"], a["old"], a["new"]) for a in audit] == [
        ("product", "line3-tablet", {"product": None}, {"product": "102"}),
        ("product", "ops", {"product": "102"}, {"product": None}),
    ]
    assert [(e.product, e.previous, e.by, e.name) for e in seen] == [
        ("102", None, "line3-tablet", "Bracket"),  # its name in tests/api/plant.py
        (None, "102", "ops", None),
    ]


async def test_keys_appear_nowhere(scoped: httpx.AsyncClient, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    bodies = [(await scoped.get(p)).text for p in ("/openapi.json", "/docs")]
    for method, path, body, _ in CHANGES:
        for headers in ({}, bearer("nope"), bearer(READ), bearer(ADMIN)):
            bodies.append((await scoped.request(method, path, json=body, headers=headers)).text)
    text = "\n".join(bodies) + caplog.text
    assert "Bearer" in text  # the docs and the 401s say how to send a key...
    for key in (READ, ADMIN, LEGACY):
        assert key not in text  # ...and never show one


def test_every_key_is_compared() -> None:
    api = make_config(keys=KEYS, api_key=LEGACY).api
    assert [k.name for k in api.all_keys()] == ["default", "viewer", "ops", "line3-tablet"]
    assert [k.scope for k in api.all_keys()] == ["admin", "read", "admin", "operate"]
    assert find_key(api, [None, ADMIN]) == api.keys[1]
    assert find_key(api, ["wrong", READ]) == api.keys[0]
    assert find_key(api, [READ[:-1], None, ""]) is None


# --------------------------------------------------------------------------- the config

BASE = """gateway: {id: g}
site: s
area: a
line: l
machines:
  - {id: m1, modbus: {host: 127.0.0.1}, tags: {state: {address: 0}}, ideal_cycle_s: 1}
"""


def issues(api: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(BASE + "api: " + api + "\n", env=env or {})
    return [str(i) for i in e.value.issues]


def test_keys_from_env_and_file(tmp_path: Path) -> None:
    secret = tmp_path / "admin.key"
    secret.write_text(ADMIN + "\n")
    text = BASE + (
        "api:\n  host: 0.0.0.0\n  keys:\n    - {name: viewer, key: '${READ_KEY}'}\n"
        f"    - {{name: ops, key: '${{file:{secret}}}', scope: admin}}\n"
    )
    api = parse_config(text, env={"READ_KEY": READ}).api
    assert [(k.name, k.key.get_secret_value(), k.scope) for k in api.keys] == [
        ("viewer", READ, "read"),
        ("ops", ADMIN, "admin"),
    ]
    assert READ not in repr(api) and ADMIN not in repr(api)


def test_a_read_key_alone_allows_any_address() -> None:
    assert parse_config(BASE + f"api: {{host: 0.0.0.0, keys: [{{name: v, key: {READ}}}]}}\n")


def test_duplicate_names_and_keys_name_their_path() -> None:
    got = issues(
        f"{{api_key: {LEGACY}, keys: [{{name: a, key: {READ}}}, {{name: a, key: {READ}}}, "
        f"{{name: default, key: {ADMIN}}}, {{name: b, key: {LEGACY}}}]}}"
    )
    assert got == [
        "api.keys[1].name: 'a' is already the name of api.keys[0]; names must be unique",
        "api.keys[1].key: the same key as api.keys[0]; every key must be different",
        "api.keys[2].name: 'default' is already the name of api.api_key; names must be unique",
        "api.keys[3].key: the same key as api.api_key; every key must be different",
    ]
    assert not any(k in line for line in got for k in (READ, ADMIN, LEGACY))


def test_bad_keys() -> None:
    got = issues("{keys: [{name: ' x', key: '${UNSET:-}', scope: root}, {key: k}]}")
    assert got == [
        "api.keys[0].name: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.-]*$'",
        "api.keys[0].key: the key is empty (is its environment variable or file set?)",
        "api.keys[0].scope: Input should be 'read', 'operate' or 'admin'",
        "api.keys[1].name: required field is missing",
        "api.keys[1].key: the key is shorter than 16 characters: make one with "
        "`openssl rand -hex 16`",
    ]


def test_cors_origins() -> None:
    got = issues(
        "{cors_origins: ['https://a.b:3000', 'http://x/y', '*'], cors_allow_credentials: true}"
    )
    assert got == [
        "api.cors_origins[1]: 'http://x/y' is not an origin: write scheme://host[:port] without "
        "a path, e.g. https://grafana.plant:3000, or '*'",
        "api.cors_origins[2]: '*' cannot go with cors_allow_credentials: true (browsers refuse "
        "it); list them",
    ]
