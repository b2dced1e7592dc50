"""The gateway under bad conditions: a dead PLC address, a PLC that comes up later, a broker
that is down at start. Nothing crashes; the machine is `offline` and recovers by itself."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from core.types import Event, SampleBatch, StateChange
from edge.config.loading import parse_config
from edge.pipeline import telemetry
from edge.pipeline.gateway import Gateway
from simulators.modbus_server import serve_modbus
from simulators.scenario import load_scenario
from tests.fixtures.mosquitto import MqttCollector
from tests.fixtures.tcp_proxy import TcpProxy
from tests.integration.gateway import (
    CONFIG,
    SCENARIO,
    config_env,
    free_port,
    gateway_config,
    running,
    wait_until,
)


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


# m3 sits behind a device that takes the connection and never answers (a frozen proxy in
# front of the simulator): a short timeout, and a backoff from 0.1 s up to 1 s.
SILENT = {"timeout_s": 0.2, "backoff_initial_s": 0.1, "backoff_max_s": 1.0}
WINDOW_S = 3.0  # how long the three machines are watched while m3 is silent


def _max_attempts(
    elapsed_s: float, timeout_s: float, backoff_initial_s: float, backoff_max_s: float
) -> int:
    """The most connection attempts the backoff allows within `elapsed_s` to a device that
    accepts and never answers: each attempt waits out the timeout, then the shortest
    delay connectors.common.backoff.Backoff can draw (base doubling per attempt, -20 % jitter,
    at least the initial delay, at most the maximum)."""
    attempts, t = 1, 0.0
    while True:
        base = backoff_initial_s * 2 ** (attempts - 1)
        t += timeout_s + min(backoff_max_s, max(backoff_initial_s, 0.8 * base))
        if t > elapsed_s:
            return attempts
        attempts += 1


def _states(gw: Gateway) -> list[str | None]:
    return [m.state.state if m.state else None for m in gw.live.machines.values()]


async def test_silent_plc_is_polled_less_often_spares_the_others_and_recovers(
    tmp_path: Path,
) -> None:
    scenario = load_scenario(SCENARIO).with_overrides(port=0)
    async with serve_modbus(scenario) as sim, TcpProxy(sim.port) as proxy:
        proxy.freeze()  # it accepts (and connects through) but nothing flows
        options = ", ".join(f"{k}: {v}" for k, v in SILENT.items())
        yaml = CONFIG.replace(
            "modbus: {<<: *mb, unit_id: 3}",
            f"modbus: {{<<: *mb, unit_id: 3, port: {proxy.port}, {options}}}",
        )
        config = parse_config(yaml, "silent.yaml", config_env(tmp_path, sim.port, "silent"))
        dead = config.machines[2].modbus
        assert dead is not None and dead.port == proxy.port and dead.timeout_s == 0.2
        interval = dead.poll_interval_s  # every machine's, from the shared `*mb`
        loop = asyncio.get_running_loop()
        batches: dict[str, list[float]] = {"m1": [], "m2": [], "m3": []}  # arrival times
        offline: list[str] = []

        def seen(e: Event) -> None:
            if isinstance(e, SampleBatch):
                batches[e.machine].append(loop.time())
            elif isinstance(e, StateChange) and e.state == "offline":
                offline.append(e.machine)

        started = loop.time()
        async with running(config) as gw:
            gw.live.listeners.append(seen)
            await wait_until(lambda: _states(gw) == ["idle", "idle", "offline"], 10, "states")
            t0 = loop.time()
            await asyncio.sleep(WINDOW_S)
            t1 = loop.time()
            attempts, elapsed = proxy.connections, t1 - started
            # Only m3 went offline (once); m1 and m2 go on through their scripts.
            assert offline == ["m3"] and _states(gw)[2] == "offline"
            # The healthy machines keep their 50 ms grid while m3's reads hang (measured:
            # 60 batches each in 3 s, the longest gap 52 ms).
            expected = round(WINDOW_S / interval)
            for m in ("m1", "m2"):
                times = [t for t in batches[m] if t0 <= t < t1]
                gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
                assert 0.9 * expected <= len(times) <= expected + 1, (m, len(times), expected)
                assert max(gaps) < 3 * interval, (m, max(gaps))
            # m3 is tried again only as often as the backoff allows (measured: 5 attempts
            # in 3.5 s, where 0.25 s per attempt without a backoff would make 14), and
            # each attempt is one bad batch, not one per 50 ms.
            bound = _max_attempts(elapsed, **SILENT)
            assert 2 <= attempts <= bound, (attempts, bound, elapsed)
            in_window = len([t for t in batches["m3"] if t0 <= t < t1])
            assert in_window <= _max_attempts(WINDOW_S, **SILENT), in_window
            # The device answers: m3 leaves `offline` without a restart, its state seq goes
            # on, and it is polled at its interval again (the backoff was reset).
            proxy.resume()
            resumed = loop.time()
            await wait_until(lambda: _states(gw)[2] != "offline", 5, "m3 back")
            back_s = loop.time() - resumed
            state = gw.live.machines["m3"].state
            assert state is not None and (state.previous, state.seq) == ("offline", 2)
            # At most one backoff delay and one timeout (measured: 0.05-0.36 s).
            assert back_s < SILENT["backoff_max_s"] * 1.2 + SILENT["timeout_s"] + 0.5, back_s
            t2 = loop.time()
            await asyncio.sleep(1.0)
            after = len([t for t in batches["m3"] if t2 <= t < t2 + 1.0])
            assert after >= 0.9 * round(1.0 / interval), after
