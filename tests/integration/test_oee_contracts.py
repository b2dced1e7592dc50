"""One OEE, three contracts: the MQTT `…/oee/{window}` payload, the InfluxDB `oee` and
`oee_loss` points and the API agree with each other and with a hand-computed case, on real
Mosquitto and influxd; so do the line's (`…/_line/oee/{window}`, `line_oee`, the line
route) with a second machine on the line. The gateway's sinks, engine and live view are
the real ones; only the clock is fixed, and the events are scripted (the sources have
their own e2e tests).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from connectors.common.oeedetails import rounded
from connectors.influxdb.lineprotocol import timestamp_ns
from core.types import CountDelta, Event, StateChange
from edge.config import Config
from edge.pipeline.gateway import Gateway
from tests.fixtures.influx import InfluxServer
from tests.fixtures.mosquitto import MqttCollector, Received
from tests.integration.contracts_line import (
    LINE_EXPECTED,
    LINE_LOSSES,
    PRESS2_RATIOS,
    SCRIPT2,
    T0,
    S,
    at,
)
from tests.integration.gateway import wait_until

NOW = T0 + timedelta(hours=1)
ROOT = "oee/plant/hall/contracts/press1"
LINE_TOPIC = "oee/plant/hall/contracts/_line/oee/1h"


def config(tmp_path: Path, mqtt_port: int, influx_url: str, db: str) -> Config:
    return Config.model_validate(
        {
            "gateway": {"id": "gw-contracts", "data_dir": str(tmp_path)},
            "site": "plant",
            "area": "hall",
            "line": "contracts",
            "calendar": {
                "timezone": "Europe/Berlin",
                "shifts": [{"name": "early", "start": "06:00", "end": "14:00"}],
                "breaks": [{"name": "coffee", "start": "10:55", "end": "11:00"}],
            },
            "reasons": {12: {"text": "Jam", "category": "Mechanical", "states": ["fault"]}},
            "oee": {"windows": ["1h", "shift"]},
            "mqtt": {"host": "127.0.0.1", "port": mqtt_port},
            "influxdb": {"url": influx_url, "database": db, "api": "v1", "flush_interval_s": 0.1},
            "machines": [
                {
                    "id": "press1",
                    "modbus": {"host": "127.0.0.1"},
                    "tags": {"code": {"address": 0}},
                    "state_rules": [{"tag": "code", "map": {1: "running"}}],
                    "ideal_cycle_s": 2,
                    "micro_stop_s": 30,
                },
                {
                    "id": "press2",
                    "modbus": {"host": "127.0.0.1"},
                    "tags": {"code": {"address": 0}},
                    "ideal_cycle_s": 3,
                    "micro_stop_s": 30,
                },
            ],
        }
    )


# The worked example of docs/OEE.md, 09:00-10:00Z (10:00-11:00 Berlin, coffee at the end).
SCRIPT: list[Event] = [
    StateChange("press1", S.RUNNING, None, at(0), None, None, 1),
    StateChange("press1", S.IDLE, S.RUNNING, at(10), at(0), 600.0, 2),
    StateChange("press1", S.RUNNING, S.IDLE, at(10) + timedelta(seconds=20), at(10), 20.0, 3),
    CountDelta("press1", at(30), 1200, 1140, 60),
    StateChange("press1", S.FAULT, S.RUNNING, at(45), at(10), 2080.0, 4, 12, "Jam"),
    StateChange("press1", S.RUNNING, S.FAULT, at(55), at(45), 600.0, 5),
]
EXPECTED = {
    "availability": 2700 / 3300,
    "performance": 2400 / 2700,
    "quality": 0.95,
    "oee": 2280 / 3300,
    "run_s": 2700.0,
    "planned_s": 3300.0,
    "unknown_s": 0.0,
    "window_s": 3600.0,
    "total": 1200,
    "good": 1140,
    "reject": 60,
    "coverage": 1.0,
    "planned_stop_s": 300.0,
    "breakdown_s": 600.0,
    "setup_s": 0.0,
    "idle_s": 0.0,
    "small_stop_s": 20.0,
    "speed_loss_s": 280.0,
    "ideal_s": 2400.0,
    "fully_productive_s": 2280.0,
    "startup_reject": 0,
    "performance_flagged": False,
    "failures": 1,
    "mtbf_s": 2700.0,
    "mttr_s": 600.0,
}
LOSSES = {
    "breakdowns": 600.0,
    "setup": 0.0,
    "idle": 0.0,
    "unknown": 0.0,
    "small_stops": 20.0,
    "speed": 280.0,
    "startup_rejects": 0.0,
    "production_rejects": 120.0,
}


def close(got: dict[str, Any], want: dict[str, Any]) -> None:
    """InfluxDB keeps the figures to the last bit."""
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-12), key


def wire(got: dict[str, Any], want: dict[str, Any]) -> None:
    """MQTT, the event stream and the API round them: ratios 4 decimals, seconds 3."""
    assert {k: got[k] for k in want} == rounded(want)


@asynccontextmanager
async def gateway(cfg: Config) -> AsyncIterator[Gateway]:
    gw = Gateway(cfg, clock=lambda: NOW)
    async with AsyncExitStack() as stack:
        assert gw.outbox is not None
        await asyncio.to_thread(gw.outbox.open)
        stack.push_async_callback(asyncio.to_thread, gw.outbox.close)
        for sink in gw.sinks:
            await stack.enter_async_context(sink)
        yield gw


def api(cfg: Config, gw: Gateway) -> httpx.AsyncClient:
    """A client of the gateway's API (to use in `async with`)."""
    app = create_app(cfg, gw.live, gw.history, clock=lambda: NOW, control=gw)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


async def published(mqtt: MqttCollector, topic: str) -> Received:
    """The one message published on `topic` while subscribed (the session's broker may
    still hold a retained one from another test, which arrives flagged retained)."""

    def live(ms: list[Received]) -> list[Received]:
        return [m for m in ms if m.topic == topic and not m.retain]

    (msg,) = live(await asyncio.to_thread(mqtt.wait_for, lambda ms: bool(live(ms))))
    return msg


async def play(gw: Gateway) -> None:
    for e in SCRIPT + SCRIPT2:
        assert isinstance(e, StateChange | CountDelta)
        gw.engine.apply(e)
        await gw.emit([e])
    await gw.emit(gw.engine.tick(NOW))  # what the ticker publishes: machines, then lines


async def test_mqtt_influxdb_and_api_agree_with_the_hand_computed_case(
    mosquitto: Any, influxd: InfluxServer, tmp_path: Path
) -> None:
    db = influxd.new_database("contracts")
    cfg = config(tmp_path, mosquitto.port, influxd.url, db)
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{ROOT}/#", LINE_TOPIC]) as mqtt:
        async with gateway(cfg) as gw:
            await play(gw)
            msg = await published(mqtt, f"{ROOT}/oee/1h")
            line_msg = await published(mqtt, LINE_TOPIC)
            influx = gw.sinks[1]
            await wait_until(lambda: influx.buffered == 0, 10, "InfluxDB to take the points")
            async with api(cfg, gw) as http:
                live = (await http.get("/api/v1/machines/press1/oee?window=1h")).json()
                q = {"from": T0.isoformat(), "to": NOW.isoformat()}
                history = (await http.get("/api/v1/machines/press1/oee", params=q)).json()
                line_live = (await http.get("/api/v1/lines/contracts/oee?window=1h")).json()
                line_history = (await http.get("/api/v1/lines/contracts/oee", params=q)).json()

    payload = json.loads(msg.payload)
    press1 = "\"window\" = '1h' AND machine = 'press1'"
    (point,) = influxd.query(f"SELECT * FROM oee WHERE {press1}", db)
    losses = influxd.query(f"SELECT * FROM oee_loss WHERE {press1}", db)

    # MQTT: every figure, the window's bounds, the losses and the Pareto.
    wire(payload, EXPECTED)
    assert (payload["window"], payload["start"], payload["ts"]) == (
        "1h", "2026-11-24T09:00:00.000Z", "2026-11-24T10:00:00.000Z",
    )  # fmt: skip
    assert {x["name"]: x["seconds"] for x in payload["losses"]} == pytest.approx(LOSSES)
    assert list({x["name"]: 0 for x in payload["losses"]}) == list(LOSSES)  # one order
    assert payload["losses"][0]["points"] == round(600 / 3300, 4)  # breakdowns
    assert payload["pareto"] == [
        {"state": "fault", "reason_code": 12, "reason": "Jam", "count": 1, "seconds": 600.0,
         "share": 1.0}
    ]  # fmt: skip

    # InfluxDB: the same figures at the same instant, and one oee_loss point per loss.
    assert point["time"] == timestamp_ns(NOW)
    close(point, {k: v for k, v in EXPECTED.items() if k != "performance_flagged"})
    assert point["performance_flagged"] is False
    assert {p["loss"]: p["seconds"] for p in losses} == pytest.approx(LOSSES)
    assert {p["time"] for p in losses} == {timestamp_ns(NOW)}

    # The API: live figures equal the published ones; the range from the store equals both.
    for answer, source in ((live, "live"), (history, "history")):
        wire(answer, EXPECTED)
        assert answer["source"] == source
        assert {x["name"]: x["seconds"] for x in answer["losses"]} == pytest.approx(LOSSES)
        assert [(p["reason"], p["count"], p["seconds"]) for p in answer["pareto"]] == [
            ("Jam", 1, 600.0)
        ]

    # The line: MQTT, InfluxDB and the API agree with the hand-computed sum.
    line = json.loads(line_msg.payload)
    assert (line["v"], line["line"], line["path"]) == (2, "contracts", "plant/hall/contracts")
    assert (line["mode"], line["bottleneck"], line["missing"]) == ("sum", None, [])
    wire(line, LINE_EXPECTED)
    assert (line["window"], line["start"], line["ts"]) == (
        "1h", "2026-11-24T09:00:00.000Z", "2026-11-24T10:00:00.000Z",
    )  # fmt: skip
    assert {x["name"]: x["seconds"] for x in line["losses"]} == pytest.approx(LINE_LOSSES)
    assert list(line["machines"]) == ["press1", "press2"]
    wire(line["machines"]["press2"], PRESS2_RATIOS)
    wire(line["machines"]["press1"], {k: EXPECTED[k] for k in PRESS2_RATIOS})
    (line_point,) = influxd.query("SELECT * FROM line_oee WHERE \"window\" = '1h'", db)
    assert line_point["time"] == timestamp_ns(NOW)
    assert {k: line_point[k] for k in ("site", "area", "line", "mode")} == {
        "site": "plant", "area": "hall", "line": "contracts", "mode": "sum",
    }  # fmt: skip
    close(line_point, {k: v for k, v in LINE_EXPECTED.items() if k != "performance_flagged"})
    assert line_point["performance_flagged"] is False and "bottleneck" not in line_point
    for answer, source in ((line_live, "live"), (line_history, "history")):
        wire(answer, LINE_EXPECTED)
        assert (answer["source"], answer["line"], answer["missing"]) == (source, "contracts", [])
        assert {x["name"]: x["seconds"] for x in answer["losses"]} == pytest.approx(LINE_LOSSES)
        wire(answer["machines"]["press2"], PRESS2_RATIOS)
    # The live answer is the published one, to the bit.
    assert {k: line_live[k] for k in LINE_EXPECTED} == {k: line[k] for k in LINE_EXPECTED}


async def test_an_operator_reason_reaches_mqtt_the_store_and_the_next_figures(
    mosquitto: Any, influxd: InfluxServer, tmp_path: Path
) -> None:
    db = influxd.new_database("reasons")
    cfg = config(tmp_path, mosquitto.port, influxd.url, db)
    # The fault of the script without its PLC reason: an operator gives it one.
    script = [
        StateChange(e.machine, e.state, e.previous, e.ts, e.since_previous, e.duration_s, e.seq)
        if isinstance(e, StateChange)
        else e
        for e in SCRIPT
    ]
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{ROOT}/#"]) as mqtt:
        async with gateway(cfg) as gw:
            for e in script:
                assert isinstance(e, StateChange | CountDelta)
                gw.engine.apply(e)
                await gw.emit([e])
            influx = gw.sinks[1]
            await wait_until(lambda: influx.buffered == 0, 10, "InfluxDB to take the stops")
            async with api(cfg, gw) as http:
                stop = "2026-11-24T09:45:00.000Z"
                put = await http.put(f"/api/v1/machines/press1/stops/{stop}/reason",
                                     json={"code": 12})  # fmt: skip
                assert put.status_code == 200, put.text
                (reason,) = await asyncio.to_thread(mqtt.wait_count, 1, f"{ROOT}/reason")
                await gw.emit(gw.engine.figures(NOW))
                oee = await published(mqtt, f"{ROOT}/oee/1h")
                await wait_until(lambda: influx.buffered == 0, 10, "InfluxDB to take the reason")
                losses = (await http.get("/api/v1/losses?machine=press1&window=1h")).json()
                states = (await http.get("/api/v1/machines/press1/states",
                                         params={"from": T0.isoformat(), "to": NOW.isoformat()}
                                         )).json()  # fmt: skip

    body = json.loads(reason.payload)
    assert {k: body[k] for k in ("stop_ts", "state", "reason_code", "reason", "category",
                                 "source", "previous_reason_code", "previous_reason")} == {
        "stop_ts": stop, "state": "fault", "reason_code": 12, "reason": "Jam",
        "category": "Mechanical", "source": "loopback", "previous_reason_code": None,
        "previous_reason": None,
    }  # fmt: skip
    assert json.loads(oee.payload)["pareto"][0]["reason"] == "Jam"
    assert [(p["reason_code"], p["seconds"]) for p in losses["pareto"]] == [(12, 600.0)]
    fault = [i for i in states["intervals"] if i["state"] == "fault"]
    assert [(i["reason_code"], i["reason"]) for i in fault] == [(12, "Jam")]
    stored = influxd.query("SELECT reason, reason_code, duration_s FROM machine_state "
                           f"WHERE time = {timestamp_ns(at(45))}", db)  # fmt: skip
    assert [(r["reason"], r["reason_code"]) for r in stored] == [("Jam", 12)]
