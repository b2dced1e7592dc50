"""The gateway under bad conditions: a dead PLC address, a PLC that comes up later, a broker
that is down at start. Nothing crashes; the machine is `offline` and recovers by itself."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from edge import telemetry
from simulators.modbus_server import serve_modbus
from simulators.scenario import load_scenario
from tests.fixtures.mosquitto import MqttCollector
from tests.integration.gateway import SCENARIO, free_port, gateway_config, running, wait_until


async def test_dead_plc_is_offline_counted_and_recovers(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here yet
    config = gateway_config(tmp_path, port, line="faults")
    async with running(config) as gw:
        await wait_until(lambda: all(m.state for m in gw.live.machines.values()), 10, "states")
        assert {m: s.state.state for m, s in gw.live.machines.items()} == {  # type: ignore[union-attr]
            "m1": "offline", "m2": "offline", "m3": "offline"
        }  # fmt: skip
        api = f"http://127.0.0.1:{config.api.port}"
        async with httpx.AsyncClient(base_url=api) as http:
            await wait_until(lambda: _failures(gw, "m1") >= 2, 10, "retries")
            metrics = (await http.get("/metrics")).text
            ready = await http.get("/ready")
        assert 'oee_edge_source_connect_failures_total{machine="m1"} ' in metrics
        assert ready.status_code == 200  # offline is a known state; the gateway works
        # The PLC comes up on that port: every machine leaves `offline` without a restart.
        scenario = load_scenario(SCENARIO).with_overrides(port=port)
        async with serve_modbus(scenario):
            await wait_until(
                lambda: all(m.state.state == "idle" for m in gw.live.machines.values()),  # type: ignore[union-attr]
                10, "recovery",
            )  # fmt: skip
        m1 = gw.live.machines["m1"].state
        assert m1 is not None and (m1.previous, m1.seq) == ("offline", 2)


def _failures(gw, machine: str) -> int:  # type: ignore[no-untyped-def]
    return next(
        v for name, labels, v in telemetry.counters(gw)
        if name == "oee_edge_source_connect_failures_total" and labels == {"machine": machine}
    )  # fmt: skip


async def test_broker_down_at_start_delivers_once_it_is_up(
    simulator_factory, mosquitto_factory, tmp_path: Path
) -> None:
    mqtt_port = free_port()
    sim = simulator_factory(SCENARIO)
    extra = f"mqtt: {{port: {mqtt_port}}}\n"
    config = gateway_config(tmp_path, sim.port, extra, line="late-broker")
    async with running(config) as gw:
        await wait_until(lambda: all(m.state for m in gw.live.machines.values()), 10, "states")
        assert gw.sinks[0].connected is False  # type: ignore[attr-defined]
        broker = await asyncio.to_thread(mosquitto_factory, mqtt_port)
        # Subscribe first, then wait for the retained state the gateway sent meanwhile.
        topic = "oee/plant/area1/late-broker/m1/event"
        with MqttCollector(broker.host, broker.port, [topic]) as c:
            await wait_until(lambda: gw.sinks[0].connected, 35, "the sink to connect")  # type: ignore[attr-defined]
            await wait_until(lambda: gw.live.machines["m1"].state.seq >= 2, 10, "running")  # type: ignore[union-attr]
            msgs = await asyncio.to_thread(
                c.wait_for,
                lambda ms: any(json.loads(m.payload)["seq"] >= 2 for m in ms if m.topic == topic),
                10.0,
            )
    # The events of the outage waited in the outbox: every one arrives, from seq 1, in order.
    seqs = [json.loads(m.payload)["seq"] for m in msgs if m.topic == topic]
    assert seqs == list(range(1, len(seqs) + 1)) and seqs[-1] >= 2
