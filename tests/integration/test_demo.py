"""`oee-edge demo` as a user runs it, a real process (tests/fixtures/demo_process.py): the
shift it shows from its first minute, press1's raw tags on MQTT and in the store, the
temporary directory gone after Ctrl-C, and the same ports on a quick restart."""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

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
            for machine in ("press1", "press2", "packer1"):
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
