"""`GET /api/v1/lines/{line}/oee`: line OEE from its machines, summed or bottleneck-paced."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, TypeVar

import httpx
import pytest

from api.app import create_app
from connectors.sqlite.store import SqliteStore
from core.types import LineOeeUpdate, OeeUpdate
from edge.config import Config
from edge.pipeline.gateway import Gateway
from tests.api.conftest import NOW, publish_live
from tests.api.expected import (
    LINE_LOSSES,
    LINE_RATIOS,
    NO_PERIOD,
    PRESS1_RATIOS,
    PRESS2_RATIOS,
    RANGE,
    RANGE_HEAD,
    SUMS,
    r4,
)
from tests.api.plant import z

URL = "/api/v1/lines/line1/oee"
T = TypeVar("T")


async def test_sum_rollup_over_a_range(plant_client: httpx.AsyncClient) -> None:
    r = await plant_client.get(URL, params=RANGE)
    assert r.status_code == 200
    assert r.json() == {
        "line": "line1",
        **RANGE_HEAD,
        "mode": "sum",
        "bottleneck": None,
        **LINE_RATIOS,  # the ratios of the sums, not the mean of the machines' ratios
        "performance_flagged": False,
        **SUMS,
        "losses": LINE_LOSSES,
        "machines": {"press1": PRESS1_RATIOS, "press2": PRESS2_RATIOS},
        **NO_PERIOD,
    }


async def test_bottleneck_rollup_over_a_range(
    bottleneck_client: tuple[httpx.AsyncClient, Gateway],
) -> None:
    client, _ = bottleneck_client
    body = (await client.get(URL, params=RANGE)).json()
    # A and P are press2's; Q is the line's rolled yield, press1's Q x press2's Q.
    a, p = 3000 / 3300, 2600 / 3000
    q = 2144.5 / 2185 * (2590 / 2600)
    assert (body["mode"], body["bottleneck"]) == ("bottleneck", "press2")
    assert (body["availability"], body["performance"], body["quality"]) == r4(a, p, q)
    assert body["oee"] == round(a * p * q, 4)
    assert body["performance_flagged"] is False
    # The times, counts and losses are still the sums.
    assert {k: body[k] for k in SUMS} == SUMS
    assert body["losses"] == LINE_LOSSES
    assert body["machines"] == {"press1": PRESS1_RATIOS, "press2": PRESS2_RATIOS}


async def test_live_window_sums_the_machines_latest_figures(
    plant_client: httpx.AsyncClient, gateway: Gateway
) -> None:
    await publish_live(gateway)
    body = (await plant_client.get(URL, params={"window": "1h"})).json()
    # [07:00, 08:00). press1: run 2100, PPT 2700, ideal 1665, good-ideal 1639.5, 920 parts,
    # 11 rejects (test_oee_history). press2: break 07:00-07:15, running 07:15-07:20 300 s,
    # fault 07:20-07:25, running 07:25-08:00 2100 s: run 2400, PPT 2700; counts in
    # (07:00, 08:00]: 1500 + 540 at 1 s: ideal = good-ideal = 2040.
    # Sums: run 4500, PPT 5400, ideal 3705, good-ideal 3679.5, 2960 parts, 11 rejects.
    assert {k: body[k] for k in ("window", "from", "to", "source", "computed", "missing")} == {
        "window": "1h",
        "from": z("07:00:00"),
        "to": z("08:00:00"),
        "source": "live",
        "computed": True,
        "missing": [],
    }
    assert (body["availability"], body["performance"]) == r4(4500 / 5400, 3705 / 4500)
    assert (body["quality"], body["oee"]) == r4(3679.5 / 3705, 3679.5 / 5400)
    assert (body["total"], body["good"], body["reject"]) == (2960, 2949, 11)
    assert body["machines"]["press2"] == {
        "availability": 0.8889,  # 2400 / 2700
        "performance": 0.85,  # 2040 / 2400
        "quality": 1.0,
        "oee": 0.7556,  # 2040 / 2700
    }


async def test_machines_without_figures_are_missing_and_left_out(
    plant_client: httpx.AsyncClient, gateway: Gateway
) -> None:
    await publish_live(gateway, ["press1"])
    body = (await plant_client.get(URL, params={"window": "1h"})).json()
    assert body["missing"] == ["press2"]
    assert list(body["machines"]) == ["press1"]
    assert (body["run_s"], body["planned_s"], body["oee"]) == (
        2100.0,
        2700.0,
        0.6072,
    )  # 1639.5 / 2700


async def test_bottleneck_without_figures_leaves_the_ratios_null(
    bottleneck_client: tuple[httpx.AsyncClient, Gateway],
) -> None:
    client, gateway = bottleneck_client
    await publish_live(gateway, ["press1"])
    body = (await client.get(URL, params={"window": "1h"})).json()
    assert body["missing"] == ["press2"]
    ratios = ("availability", "performance", "quality", "oee", "performance_flagged")
    assert [body[k] for k in ratios] == [None, None, None, None, False]
    assert (body["run_s"], body["planned_s"]) == (2100.0, 2700.0)  # press1's sums stand


async def test_before_any_figures_the_line_is_not_computed(
    plant_client: httpx.AsyncClient,
) -> None:
    body = (await plant_client.get(URL)).json()
    assert body == {
        "line": "line1",
        "window": "15m",
        "from": None,
        "to": None,
        "source": "live",
        "computed": False,
        "missing": ["press1", "press2"],
        "mode": "sum",
        "bottleneck": None,
        "availability": None,
        "performance": None,
        "quality": None,
        "oee": None,
        "performance_flagged": None,
        **dict.fromkeys(SUMS),
        "losses": [],
        "machines": {},
        **NO_PERIOD,
    }


async def test_a_line_without_history_is_all_unknown(plant_client: httpx.AsyncClient) -> None:
    # press3 (line2) has no stored state: the whole hour is unknown, PPT 0, no ratios.
    params = {"from": "2026-11-03T07:00:00Z", "to": "2026-11-03T08:00:00Z"}
    body = (await plant_client.get("/api/v1/lines/line2/oee", params=params)).json()
    assert (body["window_s"], body["unknown_s"], body["planned_s"], body["coverage"]) == (
        3600.0,
        3600.0,
        0.0,
        0.0,
    )
    assert body["machines"] == {
        "press3": {"availability": None, "performance": None, "quality": None, "oee": None}
    }


async def test_unknown_line_is_404_listing_the_lines(plant_client: httpx.AsyncClient) -> None:
    r = await plant_client.get("/api/v1/lines/line9/oee")
    assert r.status_code == 404
    assert r.json() == {
        "detail": "unknown line 'line9'; known lines: line1, line2",
        "known": ["line1", "line2"],
    }


async def test_bad_period_is_422(plant_client: httpx.AsyncClient) -> None:
    r = await plant_client.get(URL, params={"to": "2026-11-03T07:00:00Z"})
    assert (r.status_code, r.json()) == (422, {"detail": "`from` is required with `to`"})


async def test_failing_store_is_503(client_with_closed_store: httpx.AsyncClient) -> None:
    r = await client_with_closed_store.get(URL, params=RANGE)
    assert r.status_code == 503
    assert r.json() == {"detail": "history store unavailable: the SQLite store is not open"}


@pytest.mark.parametrize("window", ["15m", "1h"])
async def test_a_window_answers_with_the_published_line_figures(
    plant_client: httpx.AsyncClient, gateway: Gateway, window: str
) -> None:
    """The gateway's tick publishes the line's figures after the machines'; the route
    answers with those (kept in the live view), the same as rolled up from the machines."""
    assert gateway.history is not None
    await gateway.engine.preload(gateway.history, NOW)
    tick = gateway.engine.tick(NOW)
    lines = [e for e in tick if isinstance(e, LineOeeUpdate)]
    assert [(u.line, u.window) for u in lines] == [
        ("line1", "15m"), ("line1", "1h"), ("line2", "15m"), ("line2", "1h"),
    ]  # fmt: skip
    await gateway.emit([e for e in tick if isinstance(e, OeeUpdate)])
    rolled_up_here = (await plant_client.get(URL, params={"window": window})).json()
    await gateway.emit(lines)
    published = (await plant_client.get(URL, params={"window": window})).json()
    assert published == rolled_up_here
    assert published["computed"] is True and published["missing"] == []
    # Without the machines' figures the route still answers: from the line's.
    for m in gateway.live.machines.values():
        m.oee.clear()
    assert (await plant_client.get(URL, params={"window": window})).json() == published


class CountingReader:
    """The real store, counting the reads under way at once (each held a moment so that
    reads issued together overlap)."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.now = self.peak = 0

    async def _held(self, read: Awaitable[T]) -> T:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await asyncio.sleep(0.02)
            return await read
        finally:
            self.now -= 1

    async def state_history(
        self, machine: str, start: datetime, end: datetime, limit: Any = None
    ) -> Any:
        return await self._held(self.store.state_history(machine, start, end, limit))

    async def count_history(
        self, machine: str, start: datetime, end: datetime, limit: Any = None
    ) -> Any:
        return await self._held(self.store.count_history(machine, start, end, limit))

    async def tag_history(
        self, machine: str, tag: str, start: datetime, end: datetime, limit: Any = None
    ) -> Any:
        return await self._held(self.store.tag_history(machine, tag, start, end, limit))

    async def history_rows(self, machine: str, start: datetime, end: datetime) -> int:
        return await self.store.history_rows(machine, start, end)  # (counted, not read)


async def test_a_range_reads_the_machines_side_by_side(
    plant_config: Config, plant_store: SqliteStore, gateway: Gateway
) -> None:
    reader = CountingReader(plant_store)
    app = create_app(plant_config, gateway.live, reader, lambda: NOW, control=gateway)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        r = await client.get(URL, params=RANGE)
    assert r.status_code == 200
    assert r.json()["machines"] == {"press1": PRESS1_RATIOS, "press2": PRESS2_RATIOS}
    assert reader.peak == 4  # two machines, states and counts of each at once
