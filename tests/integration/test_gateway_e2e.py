"""End to end on real servers: simulator subprocess -> gateway -> mosquitto, SQLite,
InfluxDB 1.x (v1 /write), VictoriaMetrics (v2 write API), and the HTTP API."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from core.types import utc_now
from tests.fixtures.mosquitto import MqttCollector
from tests.integration.gateway import SCENARIO, gateway_config, running, wait_until

# (state, previous, seq, code, reason) of every state change, per machine.
EVENTS = {
    "m1": [
        ("idle", None, 1, 7, "7"),
        ("running", "idle", 2, None, None),
        ("fault", "running", 3, 12, "Sensor fault"),
        ("running", "fault", 4, None, None),
        ("planned_stop", "running", 5, 90, "90"),
    ],
    "m2": [("idle", None, 1, None, None), ("running", "idle", 2, None, None),
           ("idle", "running", 3, 5, "5")],
    "m3": [("idle", None, 1, None, None), ("running", "idle", 2, None, None),
           ("fault", "running", 3, 44, "44")],
}  # fmt: skip
COUNTS = {"m1": (50, 40, 10), "m2": (30, 20, 10), "m3": (20, 20, 0)}
FINAL = {"m1": "planned_stop", "m2": "idle", "m3": "fault"}
PRODUCT = {"m1": "101", "m2": "201", "m3": "301"}


def finished(gw) -> bool:  # type: ignore[no-untyped-def]
    live = gw.live.machines
    return all(
        live[m].state is not None
        and live[m].state.seq == len(EVENTS[m])
        and (live[m].total, live[m].good, live[m].reject) == COUNTS[m]
        for m in EVENTS
    )


async def test_modbus_to_mqtt_sqlite_and_api(simulator_factory, mosquitto, tmp_path: Path) -> None:
    extra = f"mqtt: {{host: 127.0.0.1, port: {mosquitto.port}}}\n"
    sim = simulator_factory(SCENARIO)
    config = gateway_config(tmp_path, sim.port, extra, line="e2e-sqlite")
    root = "oee/plant/area1/e2e-sqlite"
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{root}/#", "oee/plant/_gateway/#"]) as c:
        async with running(config) as gw:
            await wait_until(lambda: finished(gw), 20, "the scripts to play out")
            await asyncio.to_thread(
                c.wait_for,
                lambda ms: any(m.topic == f"{root}/m1/oee/1h"
                               and json.loads(m.payload)["total"] == 50 for m in ms),
            )  # fmt: skip
            api = f"http://127.0.0.1:{config.api.port}"
            async with httpx.AsyncClient(base_url=api) as http:
                machine = (await http.get("/api/v1/machines/m1")).json()
                states = (await http.get("/api/v1/machines/m1/states")).json()
                ready = await http.get("/ready")
            history = await gw.history.state_history(  # type: ignore[union-attr]
                "m2", utc_now() - timedelta(minutes=5), utc_now()
            )
            counts = await gw.sinks[1].count_history(  # type: ignore[attr-defined]
                "m1", utc_now() - timedelta(minutes=5), utc_now()
            )
        msgs = list(c.messages)

    for m, expected in EVENTS.items():
        events = [json.loads(x.payload) for x in msgs if x.topic == f"{root}/{m}/event"]
        got = [(e["state"], e["previous"], e["seq"], e["reason_code"], e["reason"]) for e in events]
        assert got[: len(expected)] == expected, m
        assert all(e["v"] == 2 and e["machine"] == m for e in events)
        assert all(e["path"] == f"plant/area1/e2e-sqlite/{m}" for e in events)
        counted = [json.loads(x.payload) for x in msgs if x.topic == f"{root}/{m}/count"]
        sums = tuple(sum(p[k] for p in counted) for k in ("total", "good", "reject"))
        assert sums == COUNTS[m], m
        assert {p["product"] for p in counted} == {PRODUCT[m]}
        state_msgs = [x for x in msgs if x.topic == f"{root}/{m}/state"]
        assert all(x.retain is False or x.qos == 1 for x in state_msgs)
        assert json.loads(state_msgs[len(expected) - 1].payload)["state"] == FINAL[m]

    # The running segment of m1 lasted 60 sim s = 1 s wall; polls are 50 ms apart.
    m1_events = [json.loads(x.payload) for x in msgs if x.topic == f"{root}/m1/event"]
    assert m1_events[2]["duration_s"] == pytest.approx(1.0, abs=0.3)

    oee = [json.loads(x.payload) for x in msgs if x.topic == f"{root}/m1/oee/1h"]
    last = next(o for o in reversed(oee) if o["total"] == 50)
    assert (last["total"], last["good"], last["reject"], last["quality"]) == (50, 40, 10, 0.8)
    assert last["window"] == "1h" and last["window_s"] == 3600.0
    # 50 parts x 1/30 s ideal in ~100/60 s of running: performance close to 1. At 60x a
    # poll late by 50 ms wall is 3 sim s of running unseen (a loaded box: P 1.22 once), so
    # the running time gets a tolerance of its own and P must be exactly ideal / run.
    assert last["ideal_s"] == pytest.approx(50 / 30, abs=1e-3)
    assert last["run_s"] == pytest.approx(100 / 60, abs=0.45)
    assert last["performance"] == pytest.approx(last["ideal_s"] / last["run_s"], rel=2e-3)
    assert last["run_s"] == pytest.approx(100 / 60, abs=0.3)
    # Each ratio is rounded to 4 decimals on the wire: their product is OEE to within that.
    product = last["availability"] * last["performance"] * last["quality"]
    assert last["oee"] == pytest.approx(product, abs=2e-4)

    status = [x for x in msgs if x.topic == "oee/plant/_gateway/gw-e2e-sqlite/status"]
    assert status[0].payload == b"online"
    assert status[-1].payload == b"offline"  # clean shutdown says so

    assert machine["state"] == "planned_stop" and machine["reason"] == "90"
    assert machine["counts"] == {"total": 50, "good": 40, "reject": 10}
    assert [i["state"] for i in states["intervals"]] == [e[0] for e in EVENTS["m1"]]
    assert ready.status_code == 200
    assert [r.state for r in history] == ["idle", "running", "idle"]
    assert sum(c.total for c in counts) == 50 and sum(c.reject for c in counts) == 10


async def test_modbus_to_influxdb_v1(simulator_factory, influxd, tmp_path: Path) -> None:
    db = influxd.new_database("e2e")
    extra = f"influxdb: {{url: '{influxd.url}', database: {db}, flush_interval_s: 0.2}}\n"
    sim = simulator_factory(SCENARIO)
    config = gateway_config(tmp_path, sim.port, extra, line="e2e-v1")
    async with running(config) as gw:
        await wait_until(lambda: finished(gw), 20, "the scripts to play out")
        assert gw.sinks[0].api == "v1"  # type: ignore[attr-defined]
        await wait_until(lambda: gw.sinks[0].buffered == 0, 5, "the batch to flush")  # type: ignore[attr-defined]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{config.api.port}") as http:
            states = (await http.get("/api/v1/machines/m3/states")).json()
    for m, (total, good, reject) in COUNTS.items():
        rows = influxd.query(
            f"SELECT sum(total) AS t, sum(good) AS g, sum(reject) AS r FROM production "
            f"WHERE machine='{m}' AND line='e2e-v1'",
            db=db,
        )
        assert (rows[0]["t"], rows[0]["g"], rows[0]["r"]) == (total, good, reject), m
        rows = influxd.query(
            f"SELECT state, code, reason FROM machine_state WHERE machine='{m}'", db=db
        )
        # The last point is `offline`, written when the gateway stopped.
        assert [r["state"] for r in rows] == [e[0] for e in EVENTS[m]] + ["offline"]
        assert [r["code"] for r in rows][: len(EVENTS[m])] == [
            {"idle": 2, "running": 1, "fault": 4, "planned_stop": 5}[e[0]] for e in EVENTS[m]
        ]
    rows = influxd.query(
        "SELECT quality, oee FROM oee WHERE machine='m1' AND \"window\"='1h'", db=db
    )
    assert any(r["quality"] == 0.8 for r in rows)
    assert [i["state"] for i in states["intervals"]] == ["idle", "running", "fault"]


async def test_modbus_to_v2_write_api(simulator_factory, victoria_metrics, tmp_path: Path) -> None:
    extra = f"influxdb: {{url: '{victoria_metrics.url}', flush_interval_s: 0.2}}\n"
    sim = simulator_factory(SCENARIO)
    config = gateway_config(tmp_path, sim.port, extra, line="e2e-v2")
    async with running(config) as gw:
        await wait_until(lambda: finished(gw), 20, "the scripts to play out")
        assert gw.sinks[0].api == "v2"  # type: ignore[attr-defined]
        await wait_until(lambda: gw.sinks[0].buffered == 0, 5, "the batch to flush")  # type: ignore[attr-defined]
    expected = {m: c[0] for m, c in COUNTS.items()}
    assert await exported_sums(victoria_metrics, "production_total") == expected
    expected = {m: c[2] for m, c in COUNTS.items()}
    assert await exported_sums(victoria_metrics, "production_reject") == expected


async def exported_sums(vm, metric: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    match = f'{{__name__="{metric}",line="e2e-v2"}}'
    series = await asyncio.to_thread(vm.export_settled, match)
    return {s["metric"]["machine"]: sum(s["values"]) for s in series}
