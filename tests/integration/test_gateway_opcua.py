"""OPC UA end to end: the simulator as a real process -> gateway -> Mosquitto, by
subscription and by polling, and recovery without restarting the gateway when the
server dies, comes back with its namespaces in another order, or the network drops."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import httpx
import pytest

from core.types import MachineState
from tests.fixtures.mosquitto import MqttCollector
from tests.fixtures.tcp_proxy import TcpProxy
from tests.integration.gateway import SCENARIO, opcua_config, running, wait_until
from tests.integration.test_gateway_e2e import COUNTS, EVENTS, PRODUCT, finished


def events_of(msgs, root: str, machine: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    payloads = [json.loads(x.payload) for x in msgs if x.topic == f"{root}/{machine}/event"]
    return [(e["state"], e["previous"], e["seq"], e["reason_code"], e["reason"]) for e in payloads]


def count_sums(msgs, root: str, machine: str) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    counted = [json.loads(x.payload) for x in msgs if x.topic == f"{root}/{machine}/count"]
    return tuple(sum(p[k] for p in counted) for k in ("total", "good", "reject"))  # type: ignore[return-value]


@pytest.mark.parametrize("mode", ["subscription", "poll"])
async def test_opcua_to_mqtt_exact_states_and_counts(
    mode: str, opcua_simulator_factory, mosquitto, tmp_path: Path
) -> None:
    sim = opcua_simulator_factory(SCENARIO)
    line = f"ua-{mode}"
    extra = f"mqtt: {{host: 127.0.0.1, port: {mosquitto.port}}}\n"
    config = opcua_config(tmp_path, sim.url, mode=mode, extra=extra, line=line)
    root = f"oee/plant/area1/{line}"
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{root}/#"]) as c:
        async with running(config) as gw:
            await wait_until(lambda: finished(gw), 20, "the scripts to play out")
            source = gw.sources["m1"]
            assert source.stats.connects == 1 and source.stats.connect_failures == 0  # type: ignore[attr-defined]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{config.api.port}") as http:
                metrics = (await http.get("/metrics")).text
            counter = "notifications" if mode == "subscription" else "reads"
            name = f'oee_edge_source_{counter}_total{{machine="m1"}}'
            line = next(x for x in metrics.splitlines() if x.startswith(name))
            assert int(float(line.split()[-1])) > 10
            assert 'oee_edge_source_connects_total{machine="m1"} 1' in metrics
            await asyncio.to_thread(
                c.wait_for,
                lambda ms: any(m.topic == f"{root}/m1/oee/1h"
                               and json.loads(m.payload)["total"] == 50 for m in ms),
            )  # fmt: skip
        msgs = list(c.messages)
    for m, expected in EVENTS.items():
        assert events_of(msgs, root, m)[: len(expected)] == expected, m
        assert count_sums(msgs, root, m) == COUNTS[m], m
        counted = [json.loads(x.payload) for x in msgs if x.topic == f"{root}/{m}/count"]
        assert {p["product"] for p in counted} == {PRODUCT[m]}
    oee = [json.loads(x.payload) for x in msgs if x.topic == f"{root}/m1/oee/1h"]
    last = next(o for o in reversed(oee) if o["total"] == 50)
    assert (last["total"], last["good"], last["reject"], last["quality"]) == (50, 40, 10, 0.8)
    assert last["performance"] == pytest.approx(1.0, abs=0.15)


# m1 played twice: once before the server is killed, once after it comes back
# (a restarted simulator replays its script from the start, counters from 0).
REPLAYED = [
    ("offline", "planned_stop", 6, None, None),
    ("idle", "offline", 7, 7, "7"),
    ("running", "idle", 8, None, None),
    ("fault", "running", 9, 12, "Sensor fault"),
    ("running", "fault", 10, None, None),
    ("planned_stop", "running", 11, 90, "90"),
]


async def test_server_killed_and_restarted_with_shifted_namespaces(
    opcua_simulator_factory, mosquitto, tmp_path: Path
) -> None:
    sim = opcua_simulator_factory(SCENARIO)
    extra = f"mqtt: {{host: 127.0.0.1, port: {mosquitto.port}}}\n"
    config = opcua_config(tmp_path, sim.url, machines=("m1",), extra=extra, line="ua-restart")
    root = "oee/plant/area1/ua-restart"
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{root}/#"]) as c:
        async with running(config) as gw:
            live = gw.live.machines["m1"]
            await wait_until(lambda: live.state is not None and live.state.seq == 5, 20, "run 1")
            os.kill(sim.process.pid, signal.SIGKILL)
            sim.process.wait()
            await wait_until(lambda: live.state.state is MachineState.OFFLINE, 10, "offline")
            # Same port, two namespaces registered before ours: every index moves.
            again = opcua_simulator_factory(
                SCENARIO, port=sim.port, extra_args=("--opcua-namespace-shift", "2")
            )
            assert again.url == sim.url
            await wait_until(lambda: live.state.seq == 11, 25, "the replay after the restart")
            await wait_until(lambda: (live.total, live.good, live.reject) == (100, 80, 20), 5)
            stats = gw.sources["m1"].stats  # type: ignore[attr-defined]
            assert stats.reconnects == 1 and stats.session_losses == 1
        msgs = list(c.messages)
    assert events_of(msgs, root, "m1")[:11] == EVENTS["m1"] + REPLAYED
    assert count_sums(msgs, root, "m1") == (100, 80, 20)


@pytest.mark.parametrize(
    ("fault", "down_s", "session_s"),
    [("cut", 1.0, 10.0), ("freeze", 3.0, 10.0), ("freeze", 4.0, 1.5)],
    ids=["cut", "freeze", "freeze-past-session-timeout"],
)
async def test_network_drop_recovers_without_a_restart(
    fault: str, down_s: float, session_s: float, opcua_simulator_factory, tmp_path: Path
) -> None:
    """cut: connections reset and refused. freeze: the link stays open but carries
    nothing, longer than the watchdog's patience (a dead route) — and in the last case
    longer than the session timeout, so the server has dropped the session too."""
    sim = opcua_simulator_factory(SCENARIO)
    async with TcpProxy(sim.port) as proxy:
        endpoint = f"opc.tcp://127.0.0.1:{proxy.port}/oee-edge/sim"
        config = opcua_config(
            tmp_path, endpoint, machines=("m1",), line=f"ua-{fault}", session_timeout_s=session_s
        )
        async with running(config) as gw:
            live = gw.live.machines["m1"]
            await wait_until(lambda: live.state is not None and live.state.seq == 5, 20, "run")
            getattr(proxy, fault)()
            await wait_until(lambda: live.state.state is MachineState.OFFLINE, 10, "offline")
            await asyncio.sleep(down_s)
            proxy.resume()
            await wait_until(
                lambda: live.state.state is MachineState.PLANNED_STOP, 15, "back after the drop"
            )
            assert live.state.seq == 7  # offline and back, nothing else
            assert (live.total, live.good, live.reject) == (50, 40, 10)  # nothing counted twice
            assert proxy.connections >= 2
