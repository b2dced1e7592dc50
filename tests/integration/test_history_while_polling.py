"""The worst history requests the API allows, against a real gateway (in-process, its
store holding 92 days of m1: a state change every 11 s, a count every 30 s) that polls
the Modbus simulator every 50 ms: the polls go on. Before, a 92-day `…/states` answer
(110 MB) was built on the event loop and stopped polling for 19 s.

Timing is the benchmark's (bench/history_load.py); here only that polling continues, with
generous bounds: no gap of 2 s in m1's successful polls while the requests run, and
each request answered as the limits say."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from connectors.sqlite.store import SqliteStore
from edge.config import Config, SqliteConfig
from edge.pipeline.gateway import Gateway
from tests.fixtures.simulator import SimulatorFactory
from tests.integration.gateway import SCENARIO, gateway_config, running, wait_until

DAYS = 92
STATES = ("running", "idle", "fault", "setup")


def fill(path: Path, end: datetime) -> tuple[int, int]:
    """92 days of m1 before `end` straight into the store file: (states, counts)."""
    start_ms = int((end - timedelta(days=DAYS)).timestamp() * 1000)
    end_ms = int(end.timestamp() * 1000) - 3_600_000  # leave the last hour to the gateway
    states = range(start_ms, end_ms, 11_000)
    counts = range(start_ms + 5_000, end_ms, 30_000)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO machine_state (machine, ts, state, code, previous, duration_s, "
            "reason_code, reason, seq) VALUES ('m1', ?, ?, 1, NULL, 11.0, NULL, NULL, 0)",
            ((ts, STATES[i % 4]) for i, ts in enumerate(states)),
        )
        conn.executemany(
            "INSERT INTO production (machine, ts, total, good, reject, product) "
            "VALUES ('m1', ?, 3, 3, 0, NULL)",
            ((ts,) for ts in counts),
        )
    return len(states), len(counts)


async def watch(gateway: Gateway, gaps: list[float], stop: asyncio.Event) -> None:
    """The longest stretch without a new successful poll of m1 (the loop's own stalls
    included: this runs on it)."""
    loop = asyncio.get_running_loop()
    seen, since = gateway.live.machines["m1"].last_seen, loop.time()
    while not stop.is_set():
        await asyncio.sleep(0.02)
        now, last = loop.time(), gateway.live.machines["m1"].last_seen
        if last != seen:
            gaps.append(now - since)
            seen, since = last, now
    gaps.append(loop.time() - since)


async def test_the_worst_history_requests_do_not_stop_polling(
    tmp_path: Path, simulator_factory: SimulatorFactory
) -> None:
    _, port, _ = simulator_factory(SCENARIO)
    config: Config = gateway_config(tmp_path / "data", port)
    store_path = tmp_path / "data" / "oee.sqlite"
    async with SqliteStore(SqliteConfig(path=store_path)):
        pass  # the schema
    now = datetime.now(UTC)
    states, counts = fill(store_path, now)
    assert states > 700_000
    base = f"http://127.0.0.1:{config.api.port}/api/v1"
    far = (now - timedelta(days=DAYS) + timedelta(minutes=5)).isoformat()
    near = (now - timedelta(days=20)).isoformat()
    async with running(config) as gateway, httpx.AsyncClient(base_url=base, timeout=60) as http:
        await wait_until(lambda: gateway.live.machines["m1"].last_seen is not None, 15, "a poll")
        gaps: list[float] = []
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch(gateway, gaps, stop))
        answers = await asyncio.gather(
            http.get("/machines/m1/states", params={"from": far}),
            http.get("/machines/m1/oee", params={"from": far}),
            http.get("/machines/m1/oee", params={"from": near}),
            http.get("/plant/oee", params={"from": near}),
            http.get("/machines/m1/tags/code", params={"from": far, "every": "1h"}),
        )
        stop.set()
        await watcher
    statuses = [r.status_code for r in answers]
    assert statuses == [200, 422, 200, 200, 200], [r.text[:300] for r in answers]
    page = answers[0].json()
    assert len(page["intervals"]) == 10_000 and page["next_from"] is not None
    assert "more than 250000 (api.limits.max_history_rows)" in answers[1].json()["detail"]
    assert answers[2].json()["total"] > 150_000  # 20 days of counts, computed
    assert max(gaps) < 2.0, sorted(gaps)[-5:]
