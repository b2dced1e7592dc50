"""The issue's "done when" as one story, every part a real process: an engineer puts a
fill weight under SPC in the config file (`oee-edge run -c FILE`), freezes its limits
from a good span with the admin key (`POST /api/v1/spc/charts/fill/limits`), sees the
violation on MQTT within one publication interval of the point after the process
drifted, and reads the shift's capability (`GET …/capability?shift=current`).

The simulator (tests/integration/spc_story_scenario.yaml, seed 12, 60x) makes parts
1-70, a part every 0.2 s of wall time, then stops; the fill weight's mean moves from
500 g to 503 g from part 61. Part k's weight is a pure function of the seed and k
(simulators.model.fill_weight), so the test knows every reading: the baseline (points
1-8, parts 1-40) breaks no rule, the frozen limits X̄̄ ± A2·R̄ hold points 9-12, and point
13 (parts 61-65, x̄ about 503 against a UCL of 501.342) is beyond the UCL: WE1. The
figures are in docs/SPC.md "A worked example".

The gateway reads the counter from the simulator's part record (holding 138, in one
request with the weight at 136), so each poll's reading is the weight of the part it
counted and every part is read once: point i is parts 5i-4..5i (checked from the stored
weights), and the figures docs/SPC.md quotes are asserted exactly on every run. (With
the counter at 4, two requests from the weight, a part done between them had its
weight read at the poll before its count and again with it: tests/integration/
test_part_record.py.)
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import struct
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.cli.demo_calendar import shift_times
from oee.spc import Spec, Subgroup, capability
from simulators.model import fill_weight
from tests.fixtures.gateway_process import GatewayProcess, SimulatorProcess
from tests.fixtures.mosquitto import MqttCollector
from tests.fixtures.ports import free_port
from tests.integration.gateway import modbus_machines

SCENARIO = Path(__file__).with_name("spc_story_scenario.yaml")
ROOT = "oee/plant/area1/story/m1/spc/fill"
ADMIN = "engineer-key-0123456789abcdef"
PUBLISH_S = 1.0  # oee.publish_interval_s: the chart's points go out at most this often
DRIFT_PART = 61
D2_5 = 2.325929  # d2 for n = 5 (Montgomery, 8th ed., Appendix VI: 2.326)
A2_5 = 3 / (D2_5 * math.sqrt(5))  # 0.577 (Appendix VI)
CONFIG = """
gateway: {{id: gw-story, data_dir: "{data}"}}
site: plant
area: area1
line: story
api:
  port: {api}
  keys:
    - {{name: engineer, key: {admin}, scope: admin}}
mqtt: {{host: 127.0.0.1, port: {mqtt}}}
oee: {{windows: [1h], publish_interval_s: {publish}}}
calendar:
  timezone: UTC
  shifts:
    - {{name: early, start: "{early}", end: "{late}"}}
    - {{name: late, start: "{late}", end: "{night}"}}
    - {{name: night, start: "{night}", end: "{early}"}}
spc:
  charts:
    - id: fill
      machine: m1
      name: Filler 1 fill weight
      unit: g
      tag: fill_weight
      kind: xbar_r
      subgroup: {{size: 5, per_part: true}}
      valid: {{min: 400, max: 600}}
      spec: {{lsl: 495, usl: 505, target: 500}}
      baseline_subgroups: 25
machines:"""


def write_config(tmp_path: Path, api: int, mqtt: int, sim: int) -> Path:
    """The engineer's file: the chart under `spc.charts`, three shifts starting now."""
    shifts = shift_times(datetime.now(UTC) - timedelta(minutes=1), "UTC").env
    text = CONFIG.format(
        data=tmp_path, api=api, admin=ADMIN, mqtt=mqtt, publish=PUBLISH_S,
        early=shifts["EARLY"], late=shifts["LATE"], night=shifts["NIGHT"],
    )  # fmt: skip
    text += modbus_machines(
        str(sim),
        {"m1": 0.2},
        more_tags="fill_weight: {address: 136, type: float32, order: CDAB}",
        part_record=True,  # the counter from 138: read with the weight, each part once
    )
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def weight(part: int) -> float:
    """Part `part`'s weight as the gateway reads it: the simulator's draw, as float32."""
    mean = 500 + (3 if part >= DRIFT_PART else 0)
    raw = fill_weight("12:m1", part, mean, 1)  # the scenario's seed 12, machine m1
    return float(struct.unpack("<f", struct.pack("<f", raw))[0])


def parts_of(readings: list[float], first: int) -> list[int]:
    """The part each reading is the weight of (`first` or later, each later than the one
    before: a part read twice fails here)."""
    out: list[int] = []
    for r in readings:
        start = out[-1] + 1 if out else first
        part = next((k for k in range(start, start + 20) if weight(k) == r), -1)
        assert part > 0, f"{r} g is the weight of no part from part {start}"
        out.append(part)
    return out


class TimedCollector(MqttCollector):
    """An MqttCollector that also notes when each message arrived (time.time())."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrived: list[float] = []

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        self.arrived.append(time.time())
        super()._on_message(client, userdata, msg)


def stored(store: Path) -> list[tuple[int, int, list[float]]]:
    """(seq, ts in ms, readings) of the chart's points in the SQLite store."""
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
        rows = db.execute(
            'SELECT seq, ts, "values" FROM spc_points WHERE chart = ? ORDER BY seq', ("fill",)
        ).fetchall()
    return [(seq, ts, json.loads(v)) for seq, ts, v in rows]


def get(api: str, path: str) -> Any:
    r = httpx.get(api + path, headers={"X-API-Key": ADMIN}, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def wait_serving(api: str, gw: GatewayProcess, within_s: float = 20) -> None:
    """Until the API answers (with the key: without one it is a 401)."""
    deadline = time.monotonic() + within_s
    while True:
        assert gw.running, gw.log_tail()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(api + "/api/v1/machines", headers={"X-API-Key": ADMIN}).is_success:
                return
        assert time.monotonic() < deadline, f"no API within {within_s} s:\n{gw.log_tail()}"
        time.sleep(0.05)


def wait_points(api: str, count: int, within_s: float) -> list[dict[str, Any]]:
    """The chart's stored points once there are `count` (GET /api/v1/spc/charts/fill)."""
    deadline = time.monotonic() + within_s
    while True:
        points: list[dict[str, Any]] = get(api, "/api/v1/spc/charts/fill")["points"]
        if len(points) >= count:
            return points
        assert time.monotonic() < deadline, f"{len(points)} of {count} points in {within_s} s"
        time.sleep(0.1)


def test_fill_weight_under_spc_frozen_from_a_good_span_drifts_and_shows_it(
    mosquitto, tmp_path: Path
) -> None:
    api_port, sim_port = free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    gw = GatewayProcess(write_config(tmp_path, api_port, mosquitto.port, sim_port),
                        tmp_path / "gateway.log", api_port)  # fmt: skip
    sim = SimulatorProcess(SCENARIO, sim_port, 0.0, tmp_path / "sim.log")
    gw.start()
    try:
        wait_serving(api, gw)  # m1 offline: its simulator is not up yet
        with TimedCollector("127.0.0.1", mosquitto.port, [f"{ROOT}/violation"]) as mqtt:
            sim.epoch = time.time()  # sim time 0 now: part k is done at 2 + 0.2·k s
            sim.start()
            story(api, gw, mqtt, tmp_path / "oee.sqlite")
    finally:
        sim.stop()
        code, _ = gw.terminate()
    assert code == 0, gw.log_tail()


def story(api: str, gw: GatewayProcess, mqtt: TimedCollector, store: Path) -> None:
    # 1. Points 1-8 (parts 1-40) in: freeze the limits from their span, as the admin.
    points = wait_points(api, 8, 20)
    body = {"from": points[0]["ts"], "to": ts_after(points[7]["ts"])}
    r = httpx.post(f"{api}/api/v1/spc/charts/fill/limits", json=body,
                   headers={"X-API-Key": ADMIN}, timeout=10)  # fmt: skip
    assert r.status_code == 200, r.text
    base = r.json()
    assert (base["frozen"], [p["seq"] for p in base["points"]]) == (True, list(range(1, 9)))
    assert base["violations"] == [] and base["excluded"] == []
    baseline: list[list[int]] = []
    for _, _, values in stored(store)[:8]:
        baseline.append(parts_of(values, baseline[-1][-1] + 1 if baseline else 1))
    assert baseline == [list(range(5 * i + 1, 5 * i + 6)) for i in range(8)]  # parts 1-40
    # X̄̄ ± A2·R̄ from the simulator's weights of the parts read (Montgomery, 8th ed.,
    # §6.2.1, eqs. 6.4-6.5; NIST/SEMATECH e-Handbook §6.3.2.1); σ̂ = R̄/d2.
    groups = [[weight(k) for k in parts] for parts in baseline]
    xbb = sum(sum(g) / 5 for g in groups) / 8
    rbar = sum(max(g) - min(g) for g in groups) / 8
    lim = base["limits"]
    assert (lim["source"], lim["subgroups"], lim["n"], lim["frozen_by"]) == (
        "computed", 8, 5, "engineer",
    )  # fmt: skip
    assert lim["center"] == pytest.approx(xbb, rel=1e-6)
    assert lim["ucl"] == pytest.approx(xbb + A2_5 * rbar, rel=1e-6)
    assert lim["lcl"] == pytest.approx(xbb - A2_5 * rbar, rel=1e-6)
    assert lim["sigma"] == pytest.approx(rbar / D2_5, rel=1e-5)
    assert lim["spread_center"] == pytest.approx(rbar, rel=1e-6)
    assert lim["spread_ucl"] == pytest.approx(2.114 * rbar, rel=1e-3)  # D4(5), App. VI

    # 2. The drift: the first point of drifted parts breaks WE1 (on MQTT at once).
    points = wait_points(api, 14, 15)
    # Points 9-12 (parts 41-60) are in control; those after the freeze (Phase II: at least
    # 12, as the freeze came 5 s before the drift) were judged against the frozen limits.
    assert [(p["seq"], p["violations"]) for p in points[8:12]] == [
        (9, []), (10, []), (11, []), (12, []),
    ]  # fmt: skip
    after = [p for p in points[8:] if p["phase"] == "II"]
    assert after[0]["seq"] <= 12 and {(p["center"], p["ucl"]) for p in after} == {
        (lim["center"], lim["ucl"])
    }
    drifted = points[12]
    assert (drifted["seq"], drifted["zone"], drifted["violations"][0]) == (13, "beyond+", "WE1")
    assert drifted["value"] > lim["ucl"]
    mqtt.wait_for(lambda ms: len(ms) >= 1, 5)
    v, arrived = json.loads(mqtt.messages[0].payload), mqtt.arrived[0]
    assert (v["chart"], v["seq"], v["rule"], v["points"], v["side"], v["phase"]) == (
        "fill", 13, "WE1", [13], "+", "II",
    )  # fmt: skip
    assert v["name"] == "1 point beyond 3σ" and v["value"] == drifted["value"]
    delay = arrived - datetime.fromisoformat(drifted["ts"]).timestamp()
    assert 0 <= delay <= PUBLISH_S, f"the violation came {delay:.3f} s after its point"

    # 3. The shift's capability: what oee.spc computes from the stored readings.
    rows = stored(store)
    assert [r[0] for r in rows] == list(range(1, 15))  # the machine stopped at part 70
    parts: list[list[int]] = []
    for _, _, values in rows:  # every reading is a part's weight, the drift from part 61
        parts.append(parts_of(values, parts[-1][-1] + 1 if parts else 1))
    assert parts == [list(range(5 * i + 1, 5 * i + 6)) for i in range(14)]  # each part once
    cap = get(api, "/api/v1/spc/charts/fill/capability?shift=current")
    want = capability(
        "xbar_r",
        [Subgroup(datetime.fromtimestamp(ts / 1000, UTC), tuple(v)) for _, ts, v in rows],
        Spec(lsl=495, usl=505, target=500),
    )
    assert (cap["n"], cap["subgroups"], cap["spec"]) == (
        70, 14, {"lsl": 495, "usl": 505, "target": 500},
    )  # fmt: skip
    for figure in ("mean", "sigma_within", "sigma_overall", "cp", "cpk", "pp", "ppk", "cpm"):
        assert cap[figure] == pytest.approx(getattr(want, figure), rel=1e-5), figure
    # The figures docs/SPC.md "A worked example" quotes, as the API rounds them (6
    # significant digits): the simulator's weights of parts 1-70, seed 12.
    assert (lim["center"], lim["ucl"], lim["lcl"], lim["spread_center"]) == (
        500.042, 501.342, 498.741, 2.25435,
    )  # fmt: skip
    assert (drifted["value"], points[13]["value"], points[13]["violations"]) == (
        503.074, 503.019, ["WE1", "WE2"],
    )  # fmt: skip
    assert [cap[k] for k in ("mean", "sigma_within", "sigma_overall")] == [
        500.456, 1.01573, 1.39583,
    ]  # fmt: skip
    assert [cap[k] for k in ("cp", "cpk", "pp", "ppk", "cpm", "expected_ppm")] == [
        1.64085, 1.49136, 1.19404, 1.08526, 1.13512, 611.876,
    ]  # fmt: skip
    print_figures(lim, drifted, delay, cap)


def ts_after(ts: str) -> str:
    """One millisecond after `ts`: the baseline range is [from, to)."""
    t = datetime.fromisoformat(ts) + timedelta(milliseconds=1)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def print_figures(lim: Any, drifted: Any, delay: float, cap: Any) -> None:
    """The run's figures (pytest -s), as docs/SPC.md "A worked example" quotes them."""
    print(f"\nlimits {lim}\npoint 13 {drifted}\nviolation after {delay:.3f} s\ncapability {cap}")
