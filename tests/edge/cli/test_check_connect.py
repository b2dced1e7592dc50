"""`oee-edge check CONFIG --connect` against real servers: the Modbus and OPC UA
simulators, Mosquitto and influxd; then with targets down, refused or misconfigured."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from edge.cli.check_connect import EXIT_CONNECT_FAILED, check_connections
from edge.config.loading import parse_config
from tests.connectors.mqtt.test_tls_auth import password_file
from tests.fixtures.gateway_process import OEE_EDGE, REPO_ROOT
from tests.fixtures.ports import free_port
from tests.integration.gateway import SCENARIO, SIM_NS

CONFIG = """
gateway: {{id: gw-check, data_dir: "{data_dir}"}}
site: plant
area: area1
line: check
mqtt: {{port: {mqtt_port}{mqtt_auth}}}
influxdb: {{url: "{influx_url}", api: v1, database: {database}}}
machines:
  - id: press1
    modbus: {{host: 127.0.0.1, port: {modbus_port}, unit_id: 1}}
    tags: {{code: {{address: 0}}, total: {{address: 4, type: uint32}}{more_registers}}}
    state_rules: [{{tag: code, map: {{1: running}}}}]
    ideal_cycle_s: 1
  - id: packer1
    opcua: {{endpoint: "{endpoint}"{ua_auth}}}
    tags: {{code: "nsu={ns};s=m1.State", total: "nsu={ns};s=m1.Counters.Total"{more_nodes}}}
    state_rules: [{{tag: code, map: {{1: running}}}}]
    ideal_cycle_s: 1
"""


def _config(tmp_path: Path, **values: object) -> Path:
    defaults = {"data_dir": tmp_path, "mqtt_auth": "", "ua_auth": "", "more_registers": "",
                "more_nodes": "", "ns": SIM_NS}  # fmt: skip
    path = tmp_path / "gw.yaml"
    path.write_text(CONFIG.format(**{**defaults, **values}))
    return path


def _check(config: Path) -> tuple[int, list[str]]:
    """Run the real CLI; its exit code and stdout lines with timings as `T ms`."""
    proc = subprocess.run(
        [OEE_EDGE, "check", str(config), "--connect", "--timeout", "2"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.stderr == "", proc.stderr  # the outage logs do not repeat the lines
    return proc.returncode, [re.sub(r"\d+\.\d ms", "T ms", ln) for ln in proc.stdout.splitlines()]


def _readouts(lines: list[str]) -> list[list[str]]:
    """The indented lines under each machine's `ok` line, unindented."""
    out: list[list[str]] = []
    for ln in lines:
        if ln.startswith(("ok   modbus", "ok   opcua")):
            out.append([])
        elif ln.startswith("       ") and out:
            out[-1].append(ln.removeprefix("       "))
    return out


def test_every_connection_works_then_one_is_closed(
    simulator_factory, opcua_simulator_factory, mosquitto, influxd, tmp_path: Path
) -> None:
    modbus = simulator_factory(SCENARIO)
    ua = opcua_simulator_factory(SCENARIO)
    values = dict(modbus_port=modbus.port, endpoint=ua.url, mqtt_port=mosquitto.port,
                  influx_url=influxd.url, database=influxd.database)  # fmt: skip
    config = _config(tmp_path, **values)
    code, lines = _check(config)
    head = (
        f"{config}: OK — gateway gw-check, 2 machine(s), 4 tag(s), "
        f"MQTT 127.0.0.1:{mosquitto.port}, store InfluxDB {influxd.url}"
    )
    # Under each machine: what it read, and what the rules make of it (the simulator's
    # values move with its clock: the numbers are read from the lines, the rest is exact).
    assert [ln for ln in lines if not ln.startswith("       ")] == [
        head,
        f"ok   gateway.data_dir {tmp_path} (writable)",
        f"ok   modbus press1 127.0.0.1:{modbus.port} (6 registers in T ms)",
        f"ok   opcua packer1 {ua.url} (2 nodes in T ms)",
        f"ok   mqtt 127.0.0.1:{mosquitto.port} (connected in T ms)",
        f"ok   influxdb {influxd.url} (version 1.6.7~rc0, database {influxd.database} in T ms)",
    ]
    for readout in _readouts(lines):
        shown = re.fullmatch(r"tags: code=(\d), total=\d+", readout[0])
        assert shown is not None, readout
        read = int(shown[1])
        if read == 1:
            assert readout[1:] == ["state: running"]
        else:  # the map lists only 1: the default state, and the code is named
            assert readout[1:] == [
                "state: idle",
                f"! tag code read {read}, a code its state map does not list (1): "
                "the next rule or `default_state` decides",
            ]
    assert code == 0

    closed = free_port()
    code, lines = _check(_config(tmp_path, **{**values, "mqtt_port": closed}))
    assert code == EXIT_CONNECT_FAILED == 3
    assert f"FAIL mqtt 127.0.0.1:{closed}: connection refused" in lines
    assert sum(ln.startswith("ok   ") for ln in lines) == 4  # the others still checked


async def test_what_fails_is_named_with_the_reason(
    simulator_factory, opcua_simulator_factory, mosquitto_factory, influxd, tmp_path: Path
) -> None:
    modbus = simulator_factory(SCENARIO)
    ua = opcua_simulator_factory(SCENARIO, extra_args=["--opcua-user", "op:right"])
    broker = mosquitto_factory(
        extra_conf=f"allow_anonymous false\npassword_file {password_file(tmp_path, 'gw', 'pw')}\n"
    )
    text = _config(
        tmp_path, modbus_port=modbus.port, endpoint=ua.url, mqtt_port=broker.port,
        influx_url=influxd.url, database="no_such_db",
        more_registers=", far: {address: 50}",  # outside the simulator's register blocks
        more_nodes=f', nope: "nsu={SIM_NS};s=m1.Nope"',
        mqtt_auth=", username: gw, password: wrong",
    ).read_text()  # fmt: skip
    text += f"""\
  - id: packer2
    opcua: {{endpoint: "{ua.url}", auth: {{username: op, password: wrong}}}}
    tags: {{code: "nsu={SIM_NS};s=m2.State"}}
    state_rules: [{{tag: code, map: {{1: running}}}}]
    ideal_cycle_s: 1
"""
    outcomes = await check_connections(parse_config(text, "gw.yaml", {}), timeout_s=2)
    lines = [o.line() for o in outcomes]
    assert lines[:4] == [
        f"FAIL modbus press1 127.0.0.1:{modbus.port}: exception 2 (illegal_address) "
        "reading holding 50+1",
        f"FAIL opcua packer1 {ua.url}: 1 of 3 nodes unreadable: nope: "
        f"node nsu={SIM_NS};s=m1.Nope does not exist on the server (BadNodeIdUnknown)",
        f"FAIL opcua packer2 {ua.url}: {ua.url} refused user 'op' (BadUserAccessDenied)",
        f"FAIL mqtt 127.0.0.1:{broker.port}: the broker refused the connection (Not authorized)",
    ]
    assert lines[4].startswith(
        f"FAIL influxdb {influxd.url}: database 'no_such_db' not found (the server has: "
    )
    assert influxd.database in lines[4]


async def test_nothing_listening(tmp_path: Path) -> None:
    ports = {k: free_port() for k in ("modbus", "opcua", "mqtt", "influx")}
    endpoint = f"opc.tcp://127.0.0.1:{ports['opcua']}/plc"
    text = _config(
        tmp_path, modbus_port=ports["modbus"], endpoint=endpoint, mqtt_port=ports["mqtt"],
        influx_url=f"http://127.0.0.1:{ports['influx']}", database="oee",
    ).read_text()  # fmt: skip
    outcomes = await check_connections(parse_config(text, "gw.yaml", {}), timeout_s=2)
    assert [o.line() for o in outcomes] == [
        f"FAIL modbus press1 127.0.0.1:{ports['modbus']}: connection refused",
        f"FAIL opcua packer1 {endpoint}: connection refused (is the server up, the port right?)",
        f"FAIL mqtt 127.0.0.1:{ports['mqtt']}: connection refused",
        f"FAIL influxdb http://127.0.0.1:{ports['influx']}: connection refused",
    ]
