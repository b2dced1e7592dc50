"""What a request may cost before the API says no, on the daemon's real server (uvicorn on
a loopback port): the key is checked before a body is read, a body over
`api.limits.max_body_bytes` is refused before it is read (413, connection closed), and a
422 says what is wrong without echoing the body or a secret back. Non-JSON numbers (NaN,
1e309) and times outside 1970..2261 are a 422, never a 500."""

from __future__ import annotations

import asyncio
import contextlib
import json
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
from tests.api.test_scopes import ADMIN, KEYS, READ, bearer
from tests.fixtures.api_server import RawConnection, daemon_api, request_head

PRODUCT = "/api/v1/machines/press1/product"
REASON = "/api/v1/machines/press1/stops/2026-11-03T07:00:00Z/reason"
UNAUTHORIZED = {
    "detail": "missing or wrong API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
}
TOO_LARGE = {"detail": "the request body is larger than 65536 bytes (api.limits.max_body_bytes)"}


@contextlib.asynccontextmanager
async def served(tmp_path: Path, **limits: Any) -> AsyncIterator[int]:
    """The API with a read and an admin key on the daemon's server; yields its port."""
    extra = {"limits": limits} if limits else {}
    config = make_config(host="0.0.0.0", keys=KEYS, **extra)
    async with SqliteStore(SqliteConfig(path=tmp_path / "limits.sqlite")) as store:
        app = create_app(config, LiveView.from_config(config), store, clock=lambda: NOW)
        async with daemon_api(app) as port:
            yield port


@pytest.fixture
async def port(tmp_path: Path) -> AsyncIterator[int]:
    async with served(tmp_path) as p:
        yield p


def json_head(path: str, length: int, key: str | None = None, method: str = "PUT") -> bytes:
    headers = {"Content-Type": "application/json", "Content-Length": str(length)}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return request_head(method, path, headers)


async def test_no_key_is_a_401_before_a_byte_of_the_body_is_read(port: int) -> None:
    # 100 MB declared, none sent: the answer cannot wait for the body.
    conn = await RawConnection.open(port)
    await conn.send(json_head(PRODUCT, 100_000_000))
    r = await conn.response(within_s=5)
    assert (r.status, json.loads(r.body)) == (401, UNAUTHORIZED)
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.headers["connection"] == "close"  # the unread body is never read
    assert await conn.closed_within(5)


async def test_a_read_key_is_a_403_before_the_body_is_read(port: int) -> None:
    conn = await RawConnection.open(port)
    await conn.send(json_head(PRODUCT, 100_000_000, READ))
    r = await conn.response(within_s=5)
    assert r.status == 403
    assert json.loads(r.body) == {
        "detail": "API key 'viewer' has the read scope; this route needs an operate or admin key"
    }
    assert await conn.closed_within(5)


async def test_a_declared_body_over_the_limit_is_a_413_before_it_is_read(port: int) -> None:
    conn = await RawConnection.open(port)
    await conn.send(json_head(PRODUCT, 15_000_000, ADMIN))
    r = await conn.response(within_s=5)
    assert (r.status, json.loads(r.body)) == (413, TOO_LARGE)
    assert r.headers["connection"] == "close"
    assert await conn.closed_within(5)


async def test_a_chunked_body_is_cut_at_the_limit(port: int) -> None:
    """Without a Content-Length the body is counted as it arrives: 413 past the limit."""
    conn = await RawConnection.open(port)
    head = request_head(
        "PUT",
        PRODUCT,
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"} | bearer(ADMIN),
    )
    await conn.send(head)
    chunk = b"x" * 16384
    for _ in range(5):  # 80 KiB, past 64 KiB; the rest is never sent
        await conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    r = await conn.response(within_s=5)
    assert (r.status, json.loads(r.body)) == (413, TOO_LARGE)
    assert await conn.closed_within(5)


async def test_a_body_at_the_limit_is_read(port: int) -> None:
    body = json.dumps({"product": None}).encode().ljust(65536)  # whitespace is JSON
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        r = await http.put(PRODUCT, content=body, headers=bearer(ADMIN) | _JSON)
    # Read and understood: no gateway behind this app to hand the change to.
    assert (r.status_code, r.json()) == (
        503,
        {"detail": "read-only API: no running gateway to hand the change to"},
    )


_JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "body, detail",
    [
        (
            {"product": ["x" * 60_000]},
            "invalid request: body.product: Input should be a valid string",
        ),
        (
            {"code": ADMIN},
            "invalid request: body.code: Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
    ],
)
async def test_a_422_names_the_problem_without_echoing_the_input(
    port: int, body: dict[str, Any], detail: str
) -> None:
    url = PRODUCT if "product" in body else REASON
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        r = await http.put(url, json=body, headers=bearer(ADMIN))
    assert (r.status_code, r.json()) == (422, {"detail": detail})
    assert ADMIN not in r.text


@pytest.mark.parametrize(
    "text, detail",
    [
        (
            '{"code": NaN}',
            "invalid request: body: NaN, Infinity and numbers out of range are not JSON",
        ),
        (
            '{"code": 1e309}',
            "invalid request: body: NaN, Infinity and numbers out of range are not JSON",
        ),
        (
            '{"code": -Infinity}',
            "invalid request: body: NaN, Infinity and numbers out of range are not JSON",
        ),
        (
            '{"code": 20',
            "invalid request: body: not JSON: Expecting ',' delimiter (at character 11)",
        ),
    ],
)
async def test_a_body_that_is_not_json_is_a_422(port: int, text: str, detail: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        r = await http.put(REASON, content=text, headers=bearer(ADMIN) | _JSON)
    assert (r.status_code, r.json()) == (422, {"detail": detail})


TIMES = "times from 1970-01-01T00:00:00Z until 2262-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "path, params, detail",
    [
        (
            "/api/v1/machines/press1/states",
            {"to": "0001-01-01T00:30:00Z"},
            f"invalid request: query.to: {TIMES}, not 0001-01-01T00:30:00Z",
        ),
        (
            "/api/v1/machines/press1/states",
            {"from": "0944-12-20T00:00:00Z", "to": "0944-12-21T00:00:00Z"},
            f"invalid request: query.from: {TIMES}, not 0944-12-20T00:00:00Z; "
            f"query.to: {TIMES}, not 0944-12-21T00:00:00Z",
        ),
        (
            "/api/v1/machines/press1/oee",
            {"from": "9999-12-31T23:00:00Z"},
            f"invalid request: query.from: {TIMES}, not 9999-12-31T23:00:00Z",
        ),
        (
            "/api/v1/machines/press1/tags/state",
            {"from": "9999-12-01T00:00:00Z", "to": "9999-12-31T23:59:59.999999+00:00"},
            f"invalid request: query.from: {TIMES}, not 9999-12-01T00:00:00Z; "
            f"query.to: {TIMES}, not 9999-12-31T23:59:59.999999Z",
        ),
        (
            "/api/v1/plant/oee",
            {"from": "0001-01-01T00:00:00+01:00", "to": "0001-01-02T00:00:00Z"},
            f"invalid request: query.from: {TIMES}, not 0001-01-01T00:00:00+01:00; "
            f"query.to: {TIMES}, not 0001-01-02T00:00:00Z",
        ),
    ],
)
async def test_times_outside_the_store_s_are_a_422(
    port: int, path: str, params: dict[str, str], detail: str
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        r = await http.get(path, params=params, headers=bearer(READ))
    assert (r.status_code, r.json()) == (422, {"detail": detail})


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:59:59.9999Z", "0001-01-01T00:00:00+01:00", "1969-12-31T23:59:59Z"]
)
async def test_a_stop_outside_the_store_s_times_is_a_422(port: int, start: str) -> None:
    url = f"/api/v1/machines/press1/stops/{start}/reason"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        r = await http.put(url, json={"code": None}, headers=bearer(ADMIN))
    assert (r.status_code, r.json()) == (
        422,
        {"detail": f"`at` '{start}': {TIMES}"},
    )


async def test_a_query_that_is_not_a_time_is_a_422_in_the_documented_form(port: int) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        r = await http.get(
            "/api/v1/machines/press1/states",
            params={"from": "yesterday", "to": "2026-11-03T08:00:00"},
            headers=bearer(READ),
        )
    assert (r.status_code, r.json()) == (
        422,
        {
            "detail": "invalid request: query.from: write an RFC 3339 time with an offset "
            "(2026-12-06T06:00:00Z) or a plant date (2026-12-06); query.to: write an RFC 3339 "
            "time with an offset (2026-12-06T06:00:00Z) or a plant date (2026-12-06)"
        },
    )


async def test_the_server_still_answers_after_the_refusals(port: int) -> None:
    conns = []
    for _ in range(3):
        conn = await RawConnection.open(port)
        await conn.send(json_head(PRODUCT, 100_000_000))
        conns.append(conn)
    await asyncio.gather(*(c.response() for c in conns))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        r = await http.get("/api/v1/machines", headers=bearer(READ))
    assert r.status_code == 200


def test_every_year_is_written_with_four_digits() -> None:
    """(strftime wrote the year 944 as '944-12-20T…'; such times are refused as input
    now, but the form is the contract's whatever the year)"""
    from datetime import UTC, datetime, timedelta, timezone

    from api.schemas import rfc3339

    assert rfc3339(datetime(944, 12, 20, 6, 5, 4, 3000, tzinfo=UTC)) == "0944-12-20T06:05:04.003Z"
    assert rfc3339(datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == (
        "0001-01-01T00:00:00.000Z"
    )
    assert rfc3339(datetime(2026, 11, 3, 7, 15, 0, 250999)) == "2026-11-03T07:15:00.250Z"
