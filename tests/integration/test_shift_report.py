"""The shift report kept at a shift's end, on real servers: the simulator (m1 idles,
faults 7 s, then runs), a whole gateway with its API and SQLite store, and Mosquitto.

The calendar's `early` shift began 30 s before the gateway and ends 12 s after it:
when it ends, the output engine's final figures make the gateway build the line's
report in a history worker and keep it; a fresh subscriber then finds the retained
summary on `…/_line/report`, and `GET …/report` answers the kept report (the same
`built_at`) with the stops the simulator made."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from edge.config.loading import parse_config
from tests.fixtures.mosquitto import MqttCollector
from tests.fixtures.order_events import asyncapi_errors
from tests.fixtures.ports import free_port
from tests.integration.gateway import modbus_machines, running, wait_until

SCENARIO = Path(__file__).with_name("alarm_scenario.yaml")
CONFIG = """
gateway: {{id: gw-report, data_dir: "{data}"}}
site: plant
area: area1
line: rep
api: {{port: {api}}}
mqtt: {{host: 127.0.0.1, port: {mqtt}}}
oee: {{windows: [1h], publish_interval_s: 0.25}}
orders:
  fixed: [{{id: R-1, product: "101", quantity: 1000000, due: "{due}", machine: m1,
           planned_start: "{start}", ideal_cycle_s: 0.0333333333}}]
calendar:
  timezone: UTC
  shifts:
    - {{name: early, start: "{early}", end: "{late}"}}
    - {{name: late, start: "{late}", end: "{early}"}}
machines:"""


async def test_the_report_is_kept_and_published_at_the_shift_end(
    simulator_factory, mosquitto, tmp_path: Path
) -> None:
    sim = simulator_factory(SCENARIO)
    now = datetime.now(UTC).replace(microsecond=0)
    early, late = now - timedelta(seconds=30), now + timedelta(seconds=12)
    text = CONFIG.format(
        data=tmp_path / "data", api=free_port(), mqtt=mosquitto.port,
        early=f"{early:%H:%M:%S}", late=f"{late:%H:%M:%S}", due=late.isoformat(),
        start=early.isoformat(),
    ) + modbus_machines(str(sim.port), {"m1": 0.0333333333})  # fmt: skip
    config = parse_config(text, "report.yaml", {})
    topic = "oee/plant/area1/rep/_line/report"
    shift_id = f"{early:%Y-%m-%d}/early"
    async with (
        running(config) as gw,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{config.api.port}") as http,
    ):
        await wait_until(lambda: gw.live.started, 10, "the gateway to start")
        await wait_until(
            lambda: (late - datetime.now(UTC)).total_seconds() < -1, 30, "the shift's end"
        )
        # Waited for without blocking: the gateway runs on this event loop, and a blocking
        # wait stops it from publishing a report not yet out (it failed so on a loaded box).
        with MqttCollector(mosquitto.host, mosquitto.port, [topic]) as c:
            await wait_until(lambda: c.on(topic), 20, "the report")
        # Retained: a subscriber that comes after the publication still gets it.
        with MqttCollector(mosquitto.host, mosquitto.port, [topic]) as c:
            await wait_until(lambda: c.on(topic), 10, "the retained report")
            (msg,) = c.on(topic)
        assert msg.retain
        summary = json.loads(msg.payload)
        assert summary["shift"] == {
            "id": shift_id, "name": "early", "date": f"{early:%Y-%m-%d}",
            "start": early.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "end": late.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "timezone": "UTC",
        }  # fmt: skip
        assert (summary["v"], summary["line"], summary["path"]) == (2, "rep", "plant/area1/rep")
        assert asyncapi_errors("Report", summary) == []
        assert summary["stops"] >= 1 and summary["stop_min"] > 0  # the fault (and idle)
        assert summary["good"] > 0 and summary["scrap"] == 0 and summary["alarms"] == 0
        r = await http.get(f"/api/v1/shifts/{shift_id}/report")
        assert r.status_code == 200, r.text
        doc = r.json()
        # The kept report: built when the shift ended, not now.
        assert doc["built_at"] == summary["ts"] and doc["final"] is True
        assert doc["output"]["good"] == summary["good"] and doc["oee"] == summary["oee"]
        states = {s["state"] for s in doc["stops"]}
        assert "fault" in states, doc["stops"]
        fault = next(s for s in doc["stops"] if s["state"] == "fault")
        assert (fault["reason_code"], fault["machine"]) == (12, "m1")
        assert len([s for s in doc["stops"] if not s["planned"]]) == summary["stops"]
        # The order R-1 (queued: started at m1's first part) as last published in the
        # shift; due at the shift's end, a million parts: late.
        (r1,) = doc["orders"]
        assert (r1["order"], r1["machine"], r1["status"], r1["on_time"]) == (
            "R-1", "m1", "late", None)  # fmt: skip
        assert 0 < r1["good"] == r1["total_good"] <= doc["output"]["good"]
        assert (summary["orders"], summary["orders_late"], summary["changeovers"]) == (1, 1, 0)
        # Planned from the shift's start at the ideal cycle: all of its 42 s; decided at
        # its due, the shift's end: late.
        plan = doc["plan"]
        assert plan["planned"] == round(42 / 0.0333333333, 3) and plan["produced"] == r1["good"]
        assert (plan["otd_count"], plan["delivered_orders"]) == (0.0, 1)
        assert summary["plan_attainment"] == plan["attainment"] and summary["otd_count"] == 0.0
