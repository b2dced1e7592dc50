"""A plant for the orders API (issue 19): two machines on a Europe/Berlin calendar (shift
early 06:00-14:00 local = 05:00-13:00 UTC on 2026-12-08, break 09:00-09:30 local =
08:00-08:30 UTC), a real SQLite store and a real Gateway (not run: its `emit` hands the
API's changes to the order engine, the live view and the store, as in the daemon).

The day (`play_day`, UTC): orders A, B, C (m1) and D (m2) imported at 04:50; m1 runs from
05:00; A (product 101) counts 300 good at 05:10 and 300 at 05:30 (done: the queue moves
to B); setup 05:31-05:40 ("Die change"); B (102) 150 at 05:50 and 150 at 06:05 (done);
setup 06:06-06:45; C (101) 100 at 07:00 and 50 at 07:20. The order engine publishes at
each of those times, as the ticker would. Now is 07:30."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from core.types import CountDelta, Event, StateChange
from edge.config import Config, SqliteConfig
from edge.pipeline.gateway import Gateway
from oee.states import MachineState

DAY = "2026-12-08"
_MACHINE = {"modbus": {"host": "127.0.0.1"}, "tags": {"state": {"address": 0}}}
ORDERS: list[dict[str, Any]] = [
    {"id": "A", "product": "101", "quantity": 600, "due": "2026-12-08T06:25:00+01:00",
     "machine": "m1", "planned_start": "2026-12-08T06:00:00+01:00", "ideal_cycle_s": 1,
     "customer": "ACME"},
    {"id": "B", "product": "102", "quantity": 300, "due": "2026-12-08T08:00:00+01:00",
     "machine": "m1", "planned_start": "2026-12-08T06:50:00+01:00", "ideal_cycle_s": 3},
    {"id": "C", "product": "101", "quantity": 200, "due": "2026-12-08T13:00:00+01:00",
     "machine": "m1", "planned_start": "2026-12-08T08:00:00+01:00", "ideal_cycle_s": 2},
    {"id": "D", "product": "201", "quantity": 100, "due": "2026-12-08T12:00:00+01:00",
     "machine": "m2", "planned_start": "2026-12-08T11:00:00+01:00", "ideal_cycle_s": 1},
]  # fmt: skip


def t(hh_mm_ss: str) -> datetime:
    """A time of the test day in UTC."""
    return datetime.fromisoformat(f"{DAY}T{hh_mm_ss}").replace(tzinfo=UTC)


def z(hh_mm_ss: str) -> str:
    """The API's form of `t(hh_mm_ss)`."""
    return f"{DAY}T{hh_mm_ss}.000Z"


def orders_config(data_dir: Path, api: dict[str, Any] | None = None) -> Config:
    """The plant's config; `api` its `api:` section."""
    return Config.model_validate(
        {
            "gateway": {"id": "gw1", "data_dir": str(data_dir)},
            "site": "plant1",
            "area": "area1",
            "line": "line1",
            "calendar": {
                "timezone": "Europe/Berlin",
                "shifts": [{"name": "early", "start": "06:00", "end": "14:00"}],
                "breaks": [{"name": "breakfast", "start": "09:00", "end": "09:30"}],
            },
            "orders": {
                "changeover_standards": [
                    {"from": "101", "to": "102", "standard_s": 300},
                    {"from": "*", "to": "101", "standard_s": 1800},
                ]
            },
            "machines": [
                {"id": "m1", "ideal_cycle_s": 2, **_MACHINE},
                {"id": "m2", "ideal_cycle_s": 1, **_MACHINE},
            ],
            "api": api or {},
        }
    )


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Plant:
    """The API client, its gateway, the store and the clock both read."""

    client: httpx.AsyncClient
    gateway: Gateway
    store: SqliteStore
    clock: Clock

    async def at(self, when: str, events: list[Event] = ()) -> None:  # type: ignore[assignment]
        """At `when`: `events` to the order engine (as the gateway feeds its engines) and
        to the store; then the order engine's publication, as the ticker makes it."""
        self.clock.now = t(when)
        for e in events:
            self.gateway.orders.apply(e)
        await self.gateway.emit(events)
        for batch in self.gateway.orders.publications(self.clock.now):
            await self.gateway.emit(batch)


@asynccontextmanager
async def orders_plant(tmp_path: Path, **api: Any) -> AsyncIterator[Plant]:
    config = orders_config(tmp_path / "data", api)
    clock = Clock(t("04:50:00"))
    async with SqliteStore(SqliteConfig(path=tmp_path / "orders.sqlite")) as store:
        gw = Gateway(config, sinks=[store], history=store, clock=clock)
        app = create_app(config, gw.live, store, clock, control=gw)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
            yield Plant(c, gw, store, clock)


def _state(at: str, state: MachineState, prev: StateChange | None, seq: int) -> StateChange:
    code, reason = (30, "Die change") if state is MachineState.SETUP else (None, None)
    since = prev.ts if prev else None
    took = (t(at) - since).total_seconds() if since else None
    before = prev.state if prev else None
    return StateChange("m1", state, before, t(at), since, took, seq, code, reason)


def _count(at: str, good: int, product: str) -> CountDelta:
    return CountDelta("m1", t(at), good, good, 0, product)


async def play_day(p: Plant) -> None:
    """The day of the module docs, up to 07:30."""
    r = await p.client.post("/api/v1/orders/import", json=ORDERS)
    assert (r.status_code, r.json()["created"]) == (200, ["A", "B", "C", "D"]), r.text
    states: list[StateChange] = []
    steps: list[tuple[str, MachineState | tuple[int, str]]] = [
        ("05:00:00", MachineState.RUNNING), ("05:10:00", (300, "101")),
        ("05:30:00", (300, "101")), ("05:31:00", MachineState.SETUP),
        ("05:40:00", MachineState.RUNNING), ("05:50:00", (150, "102")),
        ("06:05:00", (150, "102")), ("06:06:00", MachineState.SETUP),
        ("06:45:00", MachineState.RUNNING), ("07:00:00", (100, "101")),
        ("07:20:00", (50, "101")),
    ]  # fmt: skip
    for at, what in steps:
        if isinstance(what, MachineState):
            states.append(_state(at, what, states[-1] if states else None, len(states) + 1))
            await p.at(at, [states[-1]])
        else:
            await p.at(at, [_count(at, *what)])
    await p.at("07:30:00")
