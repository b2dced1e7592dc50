"""The orders API on a running gateway (its real server, history worker processes, a
real Mosquitto): an order list imported over HTTP, an operator's start and pause
changing which order runs, seen on `…/order` and in `GET /orders/{id}`; plan versus
actual and the changeovers read in the history workers; the audit naming who."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from edge.config.loading import parse_config
from tests.fixtures.mosquitto import MqttCollector, Received
from tests.integration.gateway import config_env, running
from tests.integration.test_orders_e2e import CONFIG, ORDERS, SCENARIO

LINE = "ordapi"
ROOT = f"oee/plant/area1/{LINE}/m1"


def orders_on(messages: list[Received]) -> list[dict[str, Any]]:
    return [json.loads(m.payload) for m in messages if m.topic == f"{ROOT}/order"]


async def _up(c: httpx.AsyncClient) -> None:
    """Until the gateway's API answers (it starts with the gateway)."""
    for _ in range(100):
        with contextlib.suppress(httpx.TransportError):  # not listening yet
            if (await c.get("/api/v1/orders")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the API never came up")


async def test_an_operator_changes_which_order_runs_over_http(  # type: ignore[no-untyped-def]
    simulator_factory, mosquitto, tmp_path: Path
) -> None:
    sim = simulator_factory(SCENARIO)
    env = config_env(tmp_path, sim.port, LINE)
    extra = f"mqtt: {{host: 127.0.0.1, port: {mosquitto.port}}}\n"
    cfg = parse_config(CONFIG + extra, "orders.yaml", env)
    base = f"http://127.0.0.1:{cfg.api.port}"
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{ROOT}/#"]) as mq:
        async with running(cfg), httpx.AsyncClient(base_url=base, timeout=20) as c:
            await _up(c)
            r = await c.post("/api/v1/orders/import", json=ORDERS)
            assert r.json() == {"dry_run": False, "created": ["A-101", "B-102"],
                                "updated": [], "unchanged": []}  # fmt: skip
            url = "/api/v1/machines/m1/order"
            started = await c.post(url, json={"order": "B-102", "action": "start"})
            assert (started.status_code, started.json()["source"]) == (200, "operator")
            at = started.json()["progress"]["started"]

            def by_operator(ms: list[Received]) -> bool:
                return any(o["order"] and o["order"]["id"] == "B-102"
                           and o["source"] == "operator" for o in orders_on(ms))  # fmt: skip

            await asyncio.to_thread(mq.wait_for, by_operator, 10)
            b = (await c.get("/api/v1/orders/B-102")).json()
            assert (b["current"], b["source"], b["progress"]["started"]) == (True, "operator", at)
            paused = await c.post(url, json={"order": "B-102", "action": "pause"})
            assert paused.json()["progress"]["paused"][0]["end"] is None
            # Held: no order runs on m1 until a start or resume (`order` null on `…/order`).
            await asyncio.to_thread(mq.wait_for, lambda ms: orders_on(ms)[-1]["order"] is None, 10)
            assert (await c.get("/api/v1/orders/B-102")).json()["current"] is False
            day = (await c.get("/api/v1/plan", params={"period": "day"})).json()
            changeovers = (await c.get("/api/v1/changeovers")).json()
            audit = (await c.get("/api/v1/audit")).json()
            before = (await c.get("/api/v1/orders")).json()["orders"]
        # A restart (the same data directory): the book as the API left it came back
        # from the checkpoint committed with the progress.
        async with running(cfg), httpx.AsyncClient(base_url=base, timeout=20) as c:
            await _up(c)
            again = (await c.get("/api/v1/orders")).json()["orders"]
    keep = ("order", "source", "current")
    assert [{k: o[k] for k in keep} for o in again] == [{k: o[k] for k in keep} for o in before]
    assert again[1]["progress"]["paused"] == before[1]["progress"]["paused"]
    assert again[1]["progress"]["started"] == at
    # A-101's window runs from its planned start to its due (no ideal cycle), 24/7 in UTC:
    # the day holds 86400 s of it, so 24 x 86400 / the window's seconds are planned today;
    # B-102's 10 s window (100 x 0.1 s) lay on 2026-01-01.
    window = datetime(2099, 1, 1, tzinfo=UTC) - datetime(2026, 1, 1, 6, tzinfo=UTC)
    planned = round(24 * 86400 / window.total_seconds(), 3)
    assert day["orders"][0] == {"order": "A-101", "planned": planned, "produced": 0}
    assert day["orders"][1]["planned"] == 0.0
    now = datetime.fromisoformat(day["at"])
    assert datetime.fromisoformat(day["start"]) == now.replace(hour=0, minute=0, second=0,
                                                               microsecond=0)  # fmt: skip
    assert datetime.fromisoformat(day["end"]) - datetime.fromisoformat(day["start"]) == (
        timedelta(days=1)
    )
    assert (changeovers["changeovers"], changeovers["truncated"]) == ([], False)
    acts = [(a["action"], a["target"], a["by"], a["new"] and a["new"].get("action"))
            for a in audit if a["action"].startswith("order")]  # fmt: skip
    assert acts == [
        ("order", "A-101", "loopback", None),
        ("order", "B-102", "loopback", None),
        ("order_command", "B-102", "loopback", "start"),
        ("order_command", "B-102", "loopback", "pause"),
    ]
