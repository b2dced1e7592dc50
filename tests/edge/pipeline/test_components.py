"""Building the gateway's sources from the config."""

import asyncio
from pathlib import Path
from typing import Any

from api.offload import ReaderSpec
from connectors.modbus.source import ModbusSource
from connectors.mqtt.sink import MqttSink
from connectors.sqlite.store import SqliteStore
from edge.config import Config
from edge.config.preflight import places
from edge.outbox import Journal
from edge.pipeline.components import (
    SourceContext,
    build_sinks,
    build_source,
    outbox_for,
    poll_phase,
    poll_slots,
)


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
    source = build_source(m, config, SourceContext())
    assert isinstance(source, ModbusSource)
    return source.phase


def opcua_config(*conns: dict[str, Any]) -> Config:
    machines = [
        {"id": f"u{i}", "opcua": {"endpoint": "opc.tcp://127.0.0.1:4840", **conn},
         "tags": {"code": "ns=2;s=C"}, "ideal_cycle_s": 1}
        for i, conn in enumerate(conns)
    ]  # fmt: skip
    return Config.model_validate(
        {"gateway": {"id": "gw"}, "site": "s", "area": "a", "line": "l", "machines": machines}
    )


def endpoints_of(c: Config, shared: SourceContext) -> list[object]:
    from connectors.opcua.source import OpcUaSource

    sources = [build_source(m, c, shared) for m in c.machines]
    assert all(isinstance(s, OpcUaSource) for s in sources)
    return [s._link for s in sources]  # type: ignore[attr-defined]


def test_opcua_machines_with_the_same_session_settings_share_an_endpoint() -> None:
    """Per-item settings do not separate machines; a session setting, `share_session`
    false, or another gateway run's context does."""
    c = opcua_config({"queue_size": 5}, {"deadband": {"value": 1}}, {"publishing_interval_s": 2},
                     {"share_session": False}, {"mode": "poll", "publishing_interval_s": 3},
                     {"mode": "poll", "poll_interval_s": 5})  # fmt: skip
    shared = SourceContext()
    a, b, slower, own, poll_a, poll_b = endpoints_of(c, shared)
    assert a is b and poll_a is poll_b
    assert len({id(a), id(slower), id(own), id(poll_a)}) == 4
    assert endpoints_of(c, SourceContext())[0] is not a


def test_modbus_machines_spread_their_polls_over_the_interval() -> None:
    c = config([None] * 26)  # 26 Modbus machines: two slots of 13
    assert [phase_of(c, f"m{i}") for i in range(4)] == [0.0, 0.5, 0.0, 0.5]
    c = config([None] * 25)  # the OPC UA machine does not count, or 26 would make two
    assert {phase_of(c, f"m{i}") for i in range(25)} == {0.0}


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
    phases = [poll_phase(i, 600) for i in (0, 1, 19, 20, 21, 599)]
    assert phases == [0.0, 0.05, 0.95, 0.0, 0.05, 0.95]


def test_few_machines_share_few_slots_of_up_to_25() -> None:
    # A slot costs a commit, a store write and a delivery round whatever it holds.
    assert [poll_slots(n) for n in (1, 25, 26, 50, 200, 499, 500, 501, 2000)] == [
        1, 1, 2, 2, 8, 20, 20, 20, 20,
    ]  # fmt: skip
    assert [poll_phase(i, 45) for i in (0, 1, 2, 44)] == [0.0, 0.5, 0.0, 0.0]
    assert {poll_phase(i, 200) for i in range(200)} == {k / 8 for k in range(8)}


async def _open_and_close(store: SqliteStore) -> None:
    async with store as opened:
        assert opened is store  # the file is made and migrated on entering


def test_a_sqlite_section_without_path_keeps_the_store_in_the_data_dir(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # `sqlite:` with only a retention used to put the store in ./oee-edge.sqlite, wherever
    # the gateway was started, instead of {gateway.data_dir}/oee.sqlite (README).
    monkeypatch.chdir(tmp_path)
    data = config([None]).model_dump(mode="json", exclude_none=True)
    data["gateway"]["data_dir"] = str(tmp_path / "data")
    data["sqlite"] = {"retention_days": 30}
    c = Config.model_validate(data)
    (tmp_path / "data").mkdir()  # as the gateway makes it at its start
    _, history = build_sinks(c, Journal(outbox_for(c)))
    assert isinstance(history, SqliteStore)
    asyncio.run(_open_and_close(history))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing in the cwd
    assert (tmp_path / "data" / "oee.sqlite").is_file()
    assert ReaderSpec.of(c) == ReaderSpec(sqlite_path=tmp_path / "data" / "oee.sqlite")
    # A path given is kept, and is a place `check` looks at.
    c = Config.model_validate({**data, "sqlite": {"path": str(tmp_path / "s.db")}})
    assert c.sqlite_path == tmp_path / "s.db"
    assert ("sqlite.path", tmp_path / "s.db", False) in places(c)
    assert [f for f, _, _ in places(Config.model_validate(data))] == ["gateway.data_dir"]
