"""Building the gateway's sources from the config."""

from pathlib import Path
from typing import Any

from connectors.modbus.source import ModbusSource
from connectors.mqtt.sink import MqttSink
from edge.config import Config
from edge.outbox import Journal
from edge.pipeline.components import build_sinks, build_source, outbox_for, poll_phase


def config(phases: list[float | None]) -> Config:
    machines: list[dict[str, Any]] = []
    for i, phase in enumerate(phases):
        modbus: dict[str, Any] = {"host": "127.0.0.1", "unit_id": i + 1}
        if phase is not None:
            modbus["poll_phase"] = phase
        machines.append(
            {"id": f"m{i}", "modbus": modbus, "tags": {"code": {"address": 0}}, "ideal_cycle_s": 1}
        )
    opcua = {"endpoint": "opc.tcp://127.0.0.1:4840"}
    machines.insert(
        1, {"id": "ua", "opcua": opcua, "tags": {"code": "ns=2;s=C"}, "ideal_cycle_s": 1}
    )
    return Config.model_validate(
        {"gateway": {"id": "gw"}, "site": "s", "area": "a", "line": "l", "machines": machines}
    )


def phase_of(config: Config, machine: str) -> float:
    m = next(x for x in config.machines if x.id == machine)
    source = build_source(m, config)
    assert isinstance(source, ModbusSource)
    return source.phase


def test_modbus_machines_spread_their_polls_over_the_interval() -> None:
    c = config([None, None, None, None])  # the OPC UA machine does not count
    assert [phase_of(c, f"m{i}") for i in range(4)] == [0.0, 0.25, 0.5, 0.75]


def test_a_configured_phase_is_kept() -> None:
    c = config([None, 0.9])
    assert (phase_of(c, "m0"), phase_of(c, "m1")) == (0.0, 0.9)


def test_the_mqtt_window_comes_from_the_config(tmp_path: Path) -> None:
    data = config([None]).model_dump(mode="json", exclude_none=True)
    data["mqtt"] = {"max_inflight": 7}
    data["gateway"]["data_dir"] = str(tmp_path)
    c = Config.model_validate(data)
    sinks, _ = build_sinks(c, Journal(outbox_for(c)))
    mqtt = next(s for s in sinks if isinstance(s, MqttSink))
    assert mqtt._delivery._window == 7
    assert Config.model_validate({**data, "mqtt": {}}).mqtt.max_inflight == 100  # type: ignore[union-attr]


def test_the_mqtt_ack_timeout_comes_from_the_config(tmp_path: Path) -> None:
    data = config([None]).model_dump(mode="json", exclude_none=True)
    data["gateway"]["data_dir"] = str(tmp_path)
    for mqtt, timeout in (({"ack_timeout_s": 2.5}, 2.5), ({}, 30.0)):
        c = Config.model_validate({**data, "mqtt": mqtt})
        sinks, _ = build_sinks(c, Journal(outbox_for(c)))
        sink = next(s for s in sinks if isinstance(s, MqttSink))
        assert sink._delivery._deadlines.timeout_s == timeout


def test_many_machines_share_twenty_slots_round_robin() -> None:
    assert [poll_phase(i, 45) for i in (0, 1, 19, 20, 21, 44)] == [0.0, 0.05, 0.95, 0.0, 0.05, 0.2]
