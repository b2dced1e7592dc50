"""SPC end to end on real servers: the simulator process (fill weight 500 g, σ 1 g, the
mean up 3 g from part 31: tests/integration/spc_drift_scenario.yaml), a whole gateway,
Mosquitto and the SQLite store.

An X̄-R chart of 5 per-part readings with limits set by hand in the config: centre 500,
σ 1 → X̄ limits 500 ± 3σ/√n = 500 ± 3/√5 = 498.658359 .. 501.341641 (Montgomery, 8th
ed., §6.2.1, eq. 6.4 with known μ and σ; NIST/SEMATECH e-Handbook §6.3.2.1), no baseline
wait. After the drift x̄ ~ N(503, 1/√5): 3.7 σ_x̄ beyond the UCL, so the first subgroup
after it (point 7) breaks WE1, and point 8 WE1 and WE2 (points 7 and 8 both beyond 2σ
of the last 3); WE3 needs 4 of 5 beyond 1σ (point 10 at the earliest), WE4 8 in a row
(point 14). Before the drift: none. The weights are a pure function of the seed and the
part number (simulators.model.fill_weight), and seed 7's parts 1-30 break no rule (the
points below are asserted exactly); with other weights the chance of a false alarm in
6 in-control points would be about 6/91.75 = 6.5 % (ARL0 of WE1-4 together 91.75:
Champ & Woodall, Technometrics 29(4), 1987), which is why the test asserts the exact
readings instead of trusting luck.

The second test freezes limits from a baseline through the engine (as the API will) and
sees the change on MQTT and in the store.
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.config.loading import parse_config
from simulators.model import fill_weight
from tests.fixtures.mosquitto import MqttCollector
from tests.fixtures.ports import free_port
from tests.integration.gateway import modbus_machines, running, wait_until

SCENARIO = Path(__file__).with_name("spc_drift_scenario.yaml")
ROOT = "oee/plant/area1/spc/m1"
UCL, LCL = 500 + 3 / math.sqrt(5), 500 - 3 / math.sqrt(5)
CONFIG = """
gateway: {{id: gw-spc, data_dir: "{data}"}}
site: plant
area: area1
line: spc
api: {{port: {api}}}
mqtt: {{host: 127.0.0.1, port: {mqtt}}}
oee: {{windows: [1h], publish_interval_s: 0.25}}
spc:
  charts:
    - id: fill
      machine: m1
      name: Filler 1 fill weight
      unit: g
      tag: fill_weight
      kind: xbar_r
      subgroup: {{size: 5, per_part: true}}
      valid: {{min: 0, max: 2000}}
      spec: {{lsl: 495, usl: 505, target: 500}}
      {chart}
machines:"""
HAND_LIMITS = "limits: {center: 500, ucl: 501.3416408, lcl: 498.6583592, sigma: 1}"


def weight(part: int) -> float:
    """Part `part`'s weight as the gateway reads it: the simulator's draw, as float32."""
    mean = 500 + (3 if part > 30 else 0)
    raw = fill_weight("7:m1", part, mean, 1)  # the scenario's seed 7, machine m1
    return float(struct.unpack("<f", struct.pack("<f", raw))[0])


def subgroup(i: int) -> tuple[float, ...]:
    """The readings of point `i` (from 1): parts 5i-4 .. 5i."""
    return tuple(weight(p) for p in range(5 * i - 4, 5 * i + 1))


def config(tmp_path: Path, mqtt: int, sim: int, chart: str):  # type: ignore[no-untyped-def]
    text = CONFIG.format(data=tmp_path, api=free_port(), mqtt=mqtt, chart=chart)
    text += modbus_machines(
        str(sim),
        {"m1": 0.2},
        more_tags="fill_weight: {address: 136, type: float32, order: CDAB}",
        part_record=True,  # the counter from 138: read with the weight, each part once
    )
    return parse_config(text, "spc.yaml")


def of(msgs, topic: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return [json.loads(m.payload) for m in msgs if m.topic == topic]


async def test_a_drift_breaks_the_rules_on_mqtt_and_in_the_store(
    simulator_factory, mosquitto, tmp_path: Path
) -> None:
    sim = simulator_factory(SCENARIO)
    cfg = config(tmp_path, mosquitto.port, sim.port, HAND_LIMITS)
    start = datetime.now(UTC) - timedelta(minutes=1)
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{ROOT}/spc/#"]) as c:
        async with running(cfg) as gw:
            topic = f"{ROOT}/spc/fill/violation"
            await asyncio.to_thread(c.wait_for, lambda ms: len(of(ms, topic)) >= 3, 25)
            assert gw.history is not None
            end = datetime.now(UTC) + timedelta(minutes=1)
            stored = await gw.history.spc_violations("fill", start, end)  # type: ignore[attr-defined]
            points = await gw.history.spc_points("fill", start, end)  # type: ignore[attr-defined]
        msgs = list(c.messages)

    # Points 1-6 are parts 1-30 (in control), 7 and 8 parts 31-40 (after the drift).
    for p in points[:8]:
        assert p.values == subgroup(p.seq), p.seq
        assert p.value == pytest.approx(sum(p.values) / 5, abs=1e-9)
        assert p.spread == pytest.approx(max(p.values) - min(p.values), abs=1e-9)
        assert (p.center, p.ucl, p.lcl, p.phase) == (
            500,
            pytest.approx(UCL),
            pytest.approx(LCL),
            "II",
        )
    assert [(p.seq, p.violations) for p in points[:8]] == [
        (1, ()), (2, ()), (3, ()), (4, ()), (5, ()), (6, ()), (7, ("WE1",)), (8, ("WE1", "WE2")),
    ]  # fmt: skip
    assert points[6].zone == "beyond+" and points[6].value > UCL

    violations = of(msgs, topic)
    assert [(v["seq"], v["rule"], v["points"], v["side"], v["phase"]) for v in violations[:3]] == [
        (7, "WE1", [7], "+", "II"), (8, "WE1", [8], "+", "II"), (8, "WE2", [7, 8], "+", "II"),
    ]  # fmt: skip
    assert violations[0]["name"] == "1 point beyond 3σ"
    assert violations[2]["name"] == "2 of 3 beyond 2σ on one side"
    assert violations[0]["value"] == pytest.approx(points[6].value, rel=1e-6)
    assert [(v.seq, v.rule, v.points) for v in stored[:3]] == [
        (7, "WE1", (7,)), (8, "WE1", (8,)), (8, "WE2", (7, 8)),
    ]  # fmt: skip

    # The retained chart state: the latest point, its violations and the hand limits.
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{ROOT}/spc/fill"]) as r:
        await asyncio.to_thread(r.wait_for, lambda ms: len(ms) >= 1, 10)
        (retained,) = [m for m in r.messages if m.retain]
    state = json.loads(retained.payload)
    assert state["seq"] >= 8 and "WE1" in state["violations"] and state["phase"] == "II"
    assert (state["chart"], state["kind"], state["unit"], state["tag"]) == (
        "fill", "xbar_r", "g", "fill_weight",
    )  # fmt: skip
    lim = state["limits"]
    assert (lim["center"], lim["ucl"], lim["lcl"], lim["sigma"], lim["n"]) == (
        500, 501.342, 498.658, 1, 5,
    )  # fmt: skip
    assert (lim["source"], lim["frozen_by"]) == ("manual", "config")
    assert state["spec"] == {"lsl": 495, "usl": 505, "target": 500}
    states = of(msgs, f"{ROOT}/spc/fill")
    assert states[0]["seq"] is None  # the config's limits, before any point
    assert all(s["violations"] == [] for s in states if s["seq"] is not None and s["seq"] <= 6)


async def test_limits_frozen_from_a_baseline_reach_mqtt_and_the_store(
    simulator_factory, mosquitto, tmp_path: Path
) -> None:
    sim = simulator_factory(SCENARIO)
    cfg = config(tmp_path, mosquitto.port, sim.port, "baseline_subgroups: 25")
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{ROOT}/spc/#"]) as c:
        async with running(cfg) as gw:
            await wait_until(
                lambda: (
                    gw.spc.state("fill").last is not None and gw.spc.state("fill").last.seq >= 3
                ),
                15,
                "3 points",
            )  # type: ignore[union-attr]
            base = gw.spc.freeze("fill", None, None, 3, [], "ana", gw.clock(), preview=False)
            await gw.emit_spc()
            await asyncio.to_thread(
                c.wait_for,
                lambda ms: any((s.get("limits") or {}).get("frozen_by") == "ana"
                               for s in of(ms, f"{ROOT}/spc/fill")),
                10,
            )  # fmt: skip
            assert gw.history is not None
            history = await gw.history.spc_limits_history("fill")  # type: ignore[attr-defined]
    # Limits from points 1-3 (parts 1-15): X̄̄ = mean of the x̄, R̄ = mean of the ranges,
    # UCL = X̄̄ + A2·R̄ with A2 = 3/(d2·√5), d2(5) = 2.325929 (Montgomery Appendix VI:
    # 2.326, A2 0.577); σ̂ = R̄/d2.
    groups = [subgroup(i) for i in (1, 2, 3)]
    xbb = sum(sum(g) / 5 for g in groups) / 3
    rbar = sum(max(g) - min(g) for g in groups) / 3
    a2 = 3 / (2.325929 * math.sqrt(5))
    assert base.limits.center == pytest.approx(xbb, abs=1e-9)
    assert base.limits.sigma == pytest.approx(rbar / 2.325929, rel=1e-6)
    assert (base.limits.ucl, base.limits.lcl) == (
        pytest.approx(xbb + a2 * rbar, rel=1e-7), pytest.approx(xbb - a2 * rbar, rel=1e-7),
    )  # fmt: skip
    assert [p.seq for p in base.points] == [1, 2, 3] and base.change is not None
    frozen = history[-1]
    assert (frozen.action, frozen.by, frozen.ts) == ("frozen", "ana", base.change.ts)
    assert frozen.limits == base.limits
    assert (frozen.baseline_from, frozen.baseline_to) == (base.points[0].ts, base.points[2].ts)
    states = of(c.messages, f"{ROOT}/spc/fill")
    lim = next(s["limits"] for s in states if (s.get("limits") or {}).get("frozen_by") == "ana")
    assert (lim["source"], lim["subgroups"], lim["n"]) == ("computed", 3, 5)
    assert lim["center"] == pytest.approx(xbb, rel=1e-6)
