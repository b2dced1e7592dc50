"""End to end: the Modbus simulator -> the gateway (m1 with `publish_tags`, the embedded
store) -> `GET /api/v1/machines/m1/tags/{tag}` answers the values the simulator served."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymodbus.client import AsyncModbusTcpClient

from core.types import utc_now
from edge.config import Config
from edge.config.loading import parse_config
from tests.fixtures.simulator import SimulatorFactory
from tests.integration.gateway import (
    CONFIG,
    SCENARIO,
    config_env,
    modbus_machines,
    running,
    wait_until,
)

TAGS = ("code", "reason", "total", "reject")


@pytest.fixture
def gateway_config(tmp_path: Path, simulator_factory: SimulatorFactory) -> tuple[Config, int]:
    """The e2e scenario's m1 with publish_tags, stored in the embedded store; and the
    simulator's port."""
    sim = simulator_factory(SCENARIO)
    ideal = {"m1": 0.0333333333}
    machines = modbus_machines('"${MODBUS_PORT}"', ideal, m1_extra="publish_tags: true")
    text = CONFIG.split("machines:")[0] + "machines:" + machines
    return parse_config(text, "tags.yaml", config_env(tmp_path, sim.port, "tags")), sim.port


async def served(port: int) -> dict[str, int]:
    """What the simulator serves now, read with a Modbus client of our own."""
    client = AsyncModbusTcpClient("127.0.0.1", port=port)
    await client.connect()
    try:
        r = await client.read_holding_registers(0, count=12, device_id=1)
    finally:
        client.close()
    regs = r.registers  # uint32 counters: the high word first (ABCD)
    return {"code": regs[0], "reason": regs[2], "total": regs[4] << 16 | regs[5]} | {
        "reject": regs[8] << 16 | regs[9]
    }


def per_second(points: list[dict[str, Any]]) -> list[tuple[str, int, float, float, float]]:
    """The 1 s buckets of raw points, computed here: (start, count, min, max, last)."""
    groups: dict[str, list[float]] = defaultdict(list)
    for p in points:
        groups[p["ts"][:19] + ".000Z"].append(p["value"])
    return [(ts, len(v), min(v), max(v), v[-1]) for ts, v in groups.items()]


async def test_the_gateway_stores_what_the_simulator_served(
    gateway_config: tuple[Config, int],
) -> None:
    config, port = gateway_config
    started = utc_now()
    async with running(config) as gw:
        live = gw.live.machines["m1"]
        await wait_until(lambda: live.state is not None and live.state.seq == 5, 20, "m1's script")
        await wait_until(lambda: live.total == 50, 5, "m1's last part")
        await asyncio.sleep(0.3)  # a few polls of the final values
        params = {"from": started.isoformat(), "to": utc_now().isoformat()}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{config.api.port}") as http:
            url = "/api/v1/machines/m1/tags/"
            tags = {t: (await http.get(url + t, params=params)).json() for t in TAGS}
            buckets = (await http.get(url + "total", params=params | {"every": "1s"})).json()
        now = await served(port)
    codes = [p["value"] for p in tags["code"]["points"]]
    runs = [c for i, c in enumerate(codes) if i == 0 or c != codes[i - 1]]
    assert runs == [2, 1, 3, 1, 5]  # idle, running, fault, running, planned stop
    assert now == {"code": 5, "reason": 90, "total": 50, "reject": 10}
    assert {t: body["points"][-1]["value"] for t, body in tags.items()} == now
    assert {p["quality"] for body in tags.values() for p in body["points"]} == {"good"}
    assert buckets["aggregation"] == "numeric"
    got = [(b["ts"], b["count"], b["min"], b["max"], b["last"]) for b in buckets["points"]]
    assert got == per_second(tags["total"]["points"])
