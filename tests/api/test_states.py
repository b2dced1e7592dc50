"""`/api/v1/machines/{id}/states` read through the real SQLite history store.

State changes are written with the store's Sink side (`handle`) and read back by the
API through its HistoryReader side, as in the running gateway.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from core.types import MachineState
from edge.config import Config, SqliteConfig
from edge.pipeline.live import LiveView
from tests.api.conftest import NOW
from tests.api.plant import state_changes
from tests.api.plant import t as _t

RUN, IDLE, FAULT = MachineState.RUNNING, MachineState.IDLE, MachineState.FAULT


PRESS1 = state_changes(
    "press1",
    [
        ("06:50:00", IDLE, None, None),
        ("07:10:00", RUN, None, None),
        ("07:40:30.500", FAULT, 20, "jam"),
        ("07:45:00", RUN, None, None),
    ],
)
PRESS2 = state_changes("press2", [("07:20:00", FAULT, None, "motor")])

EXPECTED_LAST_HOUR = [
    {
        "state": "idle",
        "start": "2026-11-03T07:00:00.000Z",
        "end": "2026-11-03T07:10:00.000Z",
        "duration_s": 600.0,
        "reason": None,
        "reason_code": None,
        "planned_kind": None,
        "planned_reason": None,
    },
    {
        "state": "running",
        "start": "2026-11-03T07:10:00.000Z",
        "end": "2026-11-03T07:40:30.500Z",
        "duration_s": 1830.5,
        "reason": None,
        "reason_code": None,
        "planned_kind": None,
        "planned_reason": None,
    },
    {
        "state": "fault",
        "start": "2026-11-03T07:40:30.500Z",
        "end": "2026-11-03T07:45:00.000Z",
        "duration_s": 269.5,
        "reason": "jam",
        "reason_code": 20,
        "planned_kind": None,
        "planned_reason": None,
    },
    {
        "state": "running",
        "start": "2026-11-03T07:45:00.000Z",
        "end": "2026-11-03T08:00:00.000Z",
        "duration_s": 900.0,
        "reason": None,
        "reason_code": None,
        "planned_kind": None,
        "planned_reason": None,
    },
]


async def _written(store: SqliteStore, machine: str, count: int) -> None:
    """Wait until the store answers with `count` records (a sink may write behind)."""
    for _ in range(100):
        if len(await store.state_history(machine, _t("00:00:00"), NOW)) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the store never returned {count} records of {machine}")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(SqliteConfig(path=tmp_path / "history.sqlite")) as s:
        await s.handle([*PRESS1, *PRESS2])
        await _written(s, "press1", len(PRESS1))
        await _written(s, "press2", len(PRESS2))
        yield s


@pytest.fixture
async def client(
    config: Config, live: LiveView, store: SqliteStore
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(config, live, store, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c


async def test_default_range_is_the_last_hour(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/machines/press1/states")
    assert r.status_code == 200
    assert r.json() == {
        "machine": "press1",
        "from": "2026-11-03T07:00:00.000Z",
        "to": "2026-11-03T08:00:00.000Z",
        "intervals": EXPECTED_LAST_HOUR,
        "next_from": None,
    }


async def test_range_into_the_future_ends_the_last_interval_now(
    client: httpx.AsyncClient,
) -> None:
    params = {"from": "2026-11-03T07:00:00Z", "to": "2026-11-03T09:00:00Z"}
    body = (await client.get("/api/v1/machines/press1/states", params=params)).json()
    assert body["to"] == "2026-11-03T09:00:00.000Z"
    assert body["intervals"] == EXPECTED_LAST_HOUR


async def test_range_is_clipped_on_both_sides(client: httpx.AsyncClient) -> None:
    # An offset other than Z is accepted and answered in UTC.
    params = {"from": "2026-11-03T08:40:00+01:00", "to": "2026-11-03T07:42:00Z"}
    body = (await client.get("/api/v1/machines/press1/states", params=params)).json()
    assert body["from"] == "2026-11-03T07:40:00.000Z"
    assert body["intervals"] == [
        {
            "state": "running",
            "start": "2026-11-03T07:40:00.000Z",
            "end": "2026-11-03T07:40:30.500Z",
            "duration_s": 30.5,
            "reason": None,
            "reason_code": None,
            "planned_kind": None,
            "planned_reason": None,
        },
        {
            "state": "fault",
            "start": "2026-11-03T07:40:30.500Z",
            "end": "2026-11-03T07:42:00.000Z",
            "duration_s": 89.5,
            "reason": "jam",
            "reason_code": 20,
            "planned_kind": None,
            "planned_reason": None,
        },
    ]


async def test_other_machines_records_stay_apart(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/machines/press2/states")).json()
    assert body["intervals"] == [
        {
            "state": "fault",
            "start": "2026-11-03T07:20:00.000Z",
            "end": "2026-11-03T08:00:00.000Z",
            "duration_s": 2400.0,
            "reason": "motor",
            "reason_code": None,
            "planned_kind": None,
            "planned_reason": None,
        }
    ]


async def test_before_any_record_there_are_no_intervals(client: httpx.AsyncClient) -> None:
    params = {"from": "2026-11-03T06:00:00Z", "to": "2026-11-03T06:30:00Z"}
    body = (await client.get("/api/v1/machines/press1/states", params=params)).json()
    assert body["intervals"] == []


async def test_bad_ranges_are_422(client: httpx.AsyncClient) -> None:
    url = "/api/v1/machines/press1/states"
    r = await client.get(url, params={"from": "2026-11-03T07:00:00Z", "to": "2026-11-03T07:00:00Z"})
    assert r.status_code == 422
    assert r.json() == {"detail": "`from` must be earlier than `to`"}
    # A time without an offset is ambiguous on a factory floor with local clocks.
    r = await client.get(url, params={"from": "2026-11-03T07:00:00"})
    assert r.status_code == 422
    assert (await client.get(url, params={"to": "yesterday"})).status_code == 422


async def test_unknown_machine_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/machines/nope/states")
    assert r.status_code == 404
    assert r.json()["known"] == ["press1", "press2"]
