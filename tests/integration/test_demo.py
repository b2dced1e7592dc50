"""`oee-edge demo` as a user runs it, a real process (tests/fixtures/demo_process.py): the
shift it shows from its first minute, press1's raw tags on MQTT and in the store, the fill
weight's SPC chart (trial limits, then a violation after the simulator's drift), today's
orders (a late one, changeovers), the temporary directory gone after Ctrl-C, and the
same ports on a quick restart."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sqlite3
import struct
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from simulators.model import fill_weight
from tests.fixtures.demo_process import DemoPorts, DemoProcess, start_demo
from tests.fixtures.mosquitto import MqttCollector

ROOT = "oee/demo-plant/assembly/line1"
# press1's tags in edge/cli/demo.yaml, each in every `…/tags` payload.
PRESS1_TAGS = {"state_code", "reason", "product", "total", "good", "reject", "speed", "temperature"}


def shift_start(d: DemoProcess) -> datetime:
    """The UTC start of the shift the banner names: `early since 2026-12-07 01:12:34
    Europe/Berlin (8 h; …)`."""
    words = d.banner("shift").split()
    assert words[:2] == ["early", "since"], words
    local = datetime.fromisoformat(f"{words[2]}T{words[3]}").replace(tzinfo=ZoneInfo(words[4]))
    return local.astimezone(UTC)


def rfc3339(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def figures_within(d: DemoProcess, path: str, deadline: float) -> dict[str, Any]:
    """The OEE answer at `path` once it has figures, before the monotonic `deadline`."""
    while True:
        body: dict[str, Any] = d.api(path)
        if body["computed"] and body["total"] > 0:
            return body
        assert time.monotonic() < deadline, f"no figures in time at {path}: {body}"
        time.sleep(0.5)


def alarms_within(d: DemoProcess, since: str, deadline: float) -> list[dict[str, Any]]:
    """The alarms raised since `since` once press2 has one, before the monotonic `deadline`."""
    while True:
        alarms: list[dict[str, Any]] = d.api(f"/api/v1/alarms?from={since}")["alarms"]
        if any(a["machine"] == "press2" for a in alarms):
            return alarms
        assert time.monotonic() < deadline, "no alarm in time"
        time.sleep(0.5)


# The demo's filler (simulators/scenarios/demo.yaml): seed 42, part k weighs
# normal(500, 1) g, 2 g more from part 148 on (done at sim 5 + 2k >= 300 s).
DRIFT_PART = 148
CHART = "filler1-weight"


def part_of(weight: float, after: int) -> int:
    """The number of the part (`after` or a later one) that weighs `weight` as the
    gateway reads it (float32 over Modbus): the weights are a pure function of seed and
    part. filler1's counter comes from the part record (138, one request with the weight
    at 136), so no part is read twice (the caller asks from the part after the last);
    at 30x a part can still pass unread between two polls."""
    for k in range(max(after, 1), after + 200):
        mean = 502.0 if k >= DRIFT_PART else 500.0
        if float32(fill_weight("42:filler1", k, mean, 1)) == weight:
            return k
    raise AssertionError(f"{weight} is none of parts {after}..{after + 199}'s weights")


def float32(x: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def stored_points(store: Path) -> list[tuple[int, float, list[float], list[str]]]:
    """(seq, n, readings, violations) of the chart's stored points, oldest first."""
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
        rows = db.execute(
            'SELECT seq, n, "values", violations FROM spc_points WHERE chart = ? ORDER BY seq',
            (CHART,),
        ).fetchall()
    return [(s, n, json.loads(v), json.loads(found)) for s, n, v, found in rows]


def check_the_fill_weight_chart(d: DemoProcess, store: Path, deadline: float) -> None:
    """The chart demo.yaml puts filler1's fill weight on: its points are the parts'
    weights, its trial limits come from its first 20 subgroups before the drift, and a
    rule breaks within the first subgroups after the drift."""
    assert d.banner("SPC") == (
        f"{CHART}: {d.url}/api/v1/spc/charts/{CHART}, {ROOT}/filler1/spc/{CHART}"
    )
    (state,) = d.api("/api/v1/spc/charts")["charts"]
    assert (state["chart"], state["machine"], state["kind"], state["unit"], state["tag"]) == (
        CHART, "filler1", "xbar_r", "g", "fill_weight",
    )  # fmt: skip
    assert state["spec"] == {"lsl": 495, "usl": 505, "target": 500}
    parts: list[list[int]] = []
    while not parts or parts[-1][0] < DRIFT_PART + 10:  # 2 subgroups after the drift
        assert time.monotonic() < deadline + 30, f"no points after the drift: {parts}"
        time.sleep(0.5)
        points, parts, last = stored_points(store), [], 0
        for _, _, values, _ in points:
            parts.append([last := part_of(v, last + 1) for v in values])
    assert [(p[0], p[1]) for p in points] == [(i, 5) for i in range(1, len(points) + 1)]
    # Trial limits (Phase I) from points 1-20, all of them before the drift: X̄̄ ± A2·R̄
    # (Montgomery, 8th ed., eq. 6.4; A2(5) = 3/(d2·√5), d2(5) = 2.325929, Appendix VI).
    assert parts[19][-1] < DRIFT_PART, f"the gateway started too late: {parts[:20]}"
    body = d.api(f"/api/v1/spc/charts/{CHART}?limit=1000")
    limits = body["limits"]
    assert (limits["source"], limits["subgroups"], limits["n"], body["phase"]) == (
        "computed", 20, 5, "I",
    )  # fmt: skip
    xbb = sum(sum(p[2]) / 5 for p in points[:20]) / 20
    rbar = sum(max(p[2]) - min(p[2]) for p in points[:20]) / 20
    a2 = 3 / (2.325929 * 5**0.5)
    assert limits["center"] == pytest.approx(xbb, rel=1e-6)
    assert limits["ucl"] == pytest.approx(xbb + a2 * rbar, rel=1e-6)
    assert limits["lcl"] == pytest.approx(xbb - a2 * rbar, rel=1e-6)
    # The first subgroup made only of drifted parts, or one of the next two, breaks WE1
    # or WE2 above the centre line (x̄ ~ N(502, 1/√5) against a UCL near 501.3).
    first = next(i for i, p in enumerate(parts) if p[0] >= DRIFT_PART) + 1
    up = [v for v in body["violations"] if v["rule"] in ("WE1", "WE2") and v["side"] == "+"]
    assert up and first - 1 <= up[0]["seq"] <= first + 2, (first, body["violations"])


def changeovers(store: Path) -> list[tuple[Any, ...]]:
    """press2's stored changeovers: (from, to product, from, to order, standard_s)."""
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
        return db.execute(
            "SELECT from_product, to_product, from_order, to_order, json_extract(doc, "
            "'$.standard_s') FROM changeover WHERE machine = 'press2' ORDER BY seq"
        ).fetchall()


def check_the_orders(d: DemoProcess, store: Path, deadline: float) -> None:
    """demo.yaml's orders: press1 runs 1001, late (it cannot make its due), on the
    retained `…/order`; press2 makes 2001's 40 parts, then runs 2002 straight on (the same
    product, no stop: no changeover) and changes from product 201 to 202 at its scripted
    setup."""

    def last(c: MqttCollector, machine: str) -> dict[str, Any]:
        found = c.on(f"{ROOT}/{machine}/order")
        return json.loads(found[-1].payload) if found else {"order": None}

    with MqttCollector("127.0.0.1", d.ports.mqtt, [f"{ROOT}/+/order"]) as c:
        (press1,) = c.wait_count(1, f"{ROOT}/press1/order", timeout=10)
        while (p2 := last(c, "press2"))["order"] is None or p2["order"]["id"] != "2002":
            assert time.monotonic() < deadline, f"press2 never ran 2002: {p2}"
            time.sleep(0.2)
        p1 = last(c, "press1")
    assert press1.retain and (p1["order"]["id"], p1["source"]) == ("1001", "queue")
    assert (p1["order"]["customer"], p1["status"]) == ("Acme Tools", "late")
    assert p1["progress"]["good"] > 0 and p1["progress"]["eta_now"] > p1["order"]["due"]
    while len(found := changeovers(store)) < 1:
        assert time.monotonic() < deadline, f"press2's changeovers: {found}"
        time.sleep(0.5)
    assert found[:1] == [("201", "202", "2002", "2002", 45.0)]


def test_the_demo_shows_its_shift_and_raw_tags_at_once_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    tmp = tmp_path / "tmp"  # the demo's TMPDIR: whatever it leaves there is seen
    tmp.mkdir()
    launched, deadline = time.time(), time.monotonic() + 60
    with (tmp_path / "demo.log").open("w+b") as log:
        d = start_demo(None, log, env={**os.environ, "TMPDIR": str(tmp)})
        try:
            store = Path(d.banner("store").removeprefix("SQLite in "))
            data_dir = store.parent
            assert (data_dir.parent, data_dir.name[:14]) == (tmp, "oee-edge-demo-")
            assert store.name == "oee.sqlite" and store.is_file()
            # The early shift began when the demo started, to the second.
            start = shift_start(d)
            assert int(launched) <= start.timestamp() <= time.time()
            assert start.microsecond == 0
            with MqttCollector("127.0.0.1", d.ports.mqtt, [f"{ROOT}/+/tags"]) as c:
                tags = c.wait_count(3, f"{ROOT}/press1/tags", timeout=20)
            assert {m.topic for m in c.messages} == {f"{ROOT}/press1/tags"}  # press1 only
            for m in tags:
                body = json.loads(m.payload)
                assert set(body["tags"]) == PRESS1_TAGS
                assert {t["quality"] for t in body["tags"].values()} == {"good"}
            # Every machine's shift and day windows begin at the shift's start and hold
            # parts within the demo's first minute.
            for machine in ("press1", "press2", "packer1", "filler1"):
                for window in ("shift", "day"):
                    path = f"/api/v1/machines/{machine}/oee?window={window}"
                    body = figures_within(d, path, deadline)
                    assert body["start"] == rfc3339(start), (machine, window, body)
                    assert body["window_s"] < time.time() - start.timestamp() + 1
            assert time.monotonic() < deadline
            # Speed is 60 / cycle_s = 30 parts a minute while press1 runs, else 0.
            speed = d.api("/api/v1/machines/press1/tags/speed")["points"]
            assert len(speed) >= 3 and {p["value"] for p in speed} <= {0.0, 30.0}
            # press2's scripted 35 s fault (15 s to 50 s of simulated time) raised the
            # `long-fault` alarm (a fault longer than 20 s: scaled with the clock here;
            # at 30x the other machines' random faults may raise it too).
            alarms = alarms_within(d, rfc3339(start), deadline)
            press2 = [a for a in alarms if a["machine"] == "press2"]
            assert [(a["rule"], a["severity"]) for a in press2][:1] == [("long-fault", "critical")]
            assert press2[0]["message"].startswith("Press 2: fault"), press2[0]
            check_the_fill_weight_chart(d, store, deadline)
            check_the_orders(d, store, deadline)
        finally:
            code = d.interrupt()
        out = d.log
    assert code == 0, out
    assert out.rstrip().endswith(f"oee-edge demo stopped (its data removed: {data_dir}).")
    assert "Traceback" not in out
    assert list(tmp.iterdir()) == []  # the demo's data dir and the broker's are gone


def _time_wait_on(port: int) -> bool:
    """Whether a plain bind (no SO_REUSEADDR, the probe before) finds `port` in use."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            assert e.errno == errno.EADDRINUSE
            return True
        return False


def test_a_quickly_restarted_demo_gets_the_same_ports(tmp_path: Path) -> None:
    ports = DemoPorts()
    with (tmp_path / "first.log").open("w+b") as log1, (tmp_path / "2nd.log").open("w+b") as log2:
        first = start_demo(tmp_path / "data", log1, ports=ports, protocol="mixed")
        # Connections the servers close at their stop leave those ports in TIME_WAIT:
        # a keep-alive HTTP connection, a Modbus client, an MQTT subscriber.
        with (
            httpx.Client() as http,
            socket.create_connection(("127.0.0.1", ports.modbus)),
            MqttCollector("127.0.0.1", ports.mqtt, [f"{ROOT}/press1/state"]),
        ):
            assert http.get(first.url + "/api/v1/machines").status_code == 200
            assert first.interrupt() == 0, first.log
        lingering = [p for p in (ports.api, ports.mqtt, ports.modbus) if _time_wait_on(p)]
        assert lingering, "no port in TIME_WAIT: the restart would not test the probe"
        second = start_demo(tmp_path / "data", log2, ports=ports, protocol="mixed")
        try:
            for d in (first, second):
                assert d.banner("dashboard") == f"http://127.0.0.1:{ports.api}/"
                assert d.banner("MQTT").startswith(f"mosquitto on 127.0.0.1:{ports.mqtt},")
                assert d.banner("machines").endswith(f"Modbus TCP on 127.0.0.1:{ports.modbus})")
                endpoint = f"opc.tcp://127.0.0.1:{ports.opcua}/oee-edge/sim"
                assert f"packer1 (simulated, OPC UA on {endpoint})" in d.log
                assert "  note " not in d.log  # no port was taken
        finally:
            assert second.interrupt() == 0, second.log
