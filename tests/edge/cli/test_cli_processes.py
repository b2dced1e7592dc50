"""`oee-edge demo` and `oee-edge run` as a user runs them: real processes, real signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.mosquitto import MqttCollector
from tests.fixtures.ports import free_port
from tests.integration.gateway import CONFIG, SCENARIO, config_env

ROOT = Path(__file__).resolve().parents[3]


def wait_http(url: str, ok, within_s: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url, timeout=2)
            last = r.json()
            if ok(last):
                return last
        except httpx.HTTPError as e:
            last = e
        time.sleep(0.2)
    raise AssertionError(f"{url} never satisfied the check; last answer: {last}")


def stop(proc: subprocess.Popen[str], sig: int) -> tuple[int, str]:
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=15)
    return proc.returncode, out


@pytest.mark.parametrize("protocol", ["mixed", "opcua"])
def test_demo_runs_four_machines_and_stops_on_ctrl_c(protocol: str, tmp_path: Path) -> None:
    api, mqtt, modbus, opcua = free_port(), free_port(), free_port(), free_port()
    cmd = [sys.executable, "-m", "edge.cli", "demo", "--api-port", str(api),
           "--mqtt-port", str(mqtt), "--modbus-port", str(modbus), "--opcua-port", str(opcua),
           "--protocol", protocol, "--data-dir", str(tmp_path), "--time-scale", "30"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        base = f"http://127.0.0.1:{api}/api/v1/machines"
        # Every machine is read: a state other than offline, whatever the protocol.
        machines = wait_http(base, lambda ms: all(m["state"] not in (None, "offline") for m in ms))
        assert [m["id"] for m in machines] == ["press1", "press2", "packer1", "filler1"]
        with MqttCollector("127.0.0.1", mqtt, ["oee/demo-plant/#"]) as c:
            # Every machine changes state at least once more (the sim runs 30x).
            changed = wait_http(
                base + "/press1/states", lambda s: len(s["intervals"]) >= 3, within_s=30
            )
            events = c.wait_count(1, "oee/demo-plant/assembly/line1/press1/event", timeout=20)
        assert json.loads(events[0].payload)["machine"] == "press1"
        assert len({i["state"] for i in changed["intervals"]}) >= 2
        assert (tmp_path / "oee.sqlite").stat().st_size > 0
        # Ideal cycle times follow the simulator's 30x clock: performance stays plausible.
        press1 = wait_http(base + "/press1", lambda m: m["oee"]["15m"]["performance"])
        assert 0.5 < press1["oee"]["15m"]["performance"] < 1.15
    finally:
        code, out = stop(proc, signal.SIGINT)
    assert code == 0, out
    assert out.startswith("oee-edge demo is running (Ctrl-C to stop)\n")
    assert f"dashboard  http://127.0.0.1:{api}/" in out
    on_opcua = "packer1" if protocol == "mixed" else "press1, press2, packer1, filler1"
    endpoint = f"opc.tcp://127.0.0.1:{opcua}/oee-edge/sim"
    assert f"  machines   {on_opcua} (simulated, OPC UA on {endpoint})\n" in out
    assert ("Modbus TCP" in out) == (protocol == "mixed")
    assert out.rstrip().endswith(f"oee-edge demo stopped (its data kept in {tmp_path}).")
    assert "Traceback" not in out


def test_run_publishes_status_and_stops_cleanly_on_sigterm(
    simulator_factory, mosquitto, tmp_path: Path
) -> None:
    sim = simulator_factory(SCENARIO)
    config = tmp_path / "gw.yaml"
    # The file keeps its ${...} references; `oee-edge run` fills them from the environment.
    config.write_text(CONFIG + f"mqtt: {{port: {mosquitto.port}}}\n")
    env = {**os.environ, **config_env(tmp_path, sim.port, "cli-run")}
    status = "oee/plant/_gateway/gw-cli-run/status"
    with MqttCollector("127.0.0.1", mosquitto.port, [status, "oee/plant/area1/cli-run/#"]) as c:
        proc = subprocess.Popen(
            [sys.executable, "-m", "edge.cli", "run", "-c", str(config)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        c.wait_for(lambda ms: any(m.topic == status and m.payload == b"online" for m in ms), 15)
        c.wait_count(1, "oee/plant/area1/cli-run/m1/state", timeout=15)
        code, out = stop(proc, signal.SIGTERM)
        c.wait_for(lambda ms: ms[-1].topic == status or any(
            m.payload == b"offline" for m in ms if m.topic == status), 5)  # fmt: skip
    assert code == 0, out
    assert "Traceback" not in out
    assert [m.payload for m in c.on(status)] == [b"online", b"offline"]
    # On the way out every machine is marked offline, so consumers do not trust a stale state.
    last_state = json.loads(c.on("oee/plant/area1/cli-run/m1/state")[-1].payload)
    assert last_state["state"] == "offline"


OEE_EDGE = str(Path(sys.executable).with_name("oee-edge"))  # the installed console script


def test_console_script_simulate_and_modbus_read() -> None:
    port = free_port()
    sim = subprocess.Popen(
        [OEE_EDGE, "simulate", "test", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        read = [OEE_EDGE, "modbus-read", "127.0.0.1", "--port", str(port), "--unit", "1"]
        deadline = time.monotonic() + 10
        while True:
            r = subprocess.run(
                [*read, "--address", "100", "--type", "int16"], capture_output=True, text=True
            )
            if r.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split("\t")[1] == "-12345"
        r = subprocess.run(
            [*read, "--tag", "pi=holding:114:float32:CDAB", "--tag", "name=holding:132:string::4"],
            capture_output=True, text=True,
        )  # fmt: skip
        values = dict(line.split("\t")[:2] for line in r.stdout.splitlines())
        assert float(values["pi"]) == pytest.approx(3.14159, abs=1e-6)
        assert values["name"] == "'OEE-SIM1'"  # quoted, so trailing spaces show
        r = subprocess.run([*read, "--address", "1000"], capture_output=True, text=True)
        assert r.returncode == 2 and r.stderr.startswith("error: ")
    finally:
        code, out = stop(sim, signal.SIGINT)
    assert code == 0, out
