"""bench.sims: simulator farms for the load benchmark, as real processes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import yaml
from asyncua import Client, ua
from pymodbus.client import ModbusTcpClient

from bench.endpoints import Load
from bench.procstat import cpu_seconds
from bench.sims import start_farm


def assert_stopped(pids: list[int]) -> None:
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # terminated and reaped


def read_all(load: Load) -> dict[str, list[int]]:
    got = {}
    for m in load.machines:
        client = ModbusTcpClient(m.host, port=m.port, timeout=5)
        assert client.connect()
        try:
            rr = client.read_holding_registers(0, count=m.registers, device_id=m.unit)
            assert not rr.isError(), (m, rr)
            got[m.id] = list(rr.registers)
        finally:
            client.close()
    return got


def test_modbus_farm_spreads_units_over_ports_and_processes(tmp_path: Path) -> None:
    with start_farm("modbus", 251, 30, tmp_path, processes=2) as farm:
        load = farm.load
        assert (load.protocol, load.interval_s, load.tags) == ("modbus", 1.0, 30)
        assert [m.id for m in load.machines] == [f"m{n:03d}" for n in range(1, 252)]
        assert {m.registers for m in load.machines} == {35}  # 16 live + 19 extras
        assert len(set(farm.pids)) == 2 and all(cpu_seconds(p) > 0 for p in farm.pids)
        # 126 + 125 machines: one port each, units 1.. on each.
        ports = sorted({m.port for m in load.machines})
        assert len(ports) == 2
        units = [m.unit for m in load.machines]
        assert units == [*range(1, 127), *range(1, 126)]
        for m in (load.machines[0], load.machines[130], load.machines[-1]):
            regs = read_all(Load("modbus", 1.0, 30, (m,)))[m.id]
            assert regs[0] in (1, 2, 3, 4, 5)  # a state code
            assert regs[16:] == [(regs[16] + 1000 * i) % 65536 for i in range(19)]
        scenario = yaml.safe_load((tmp_path / "farm-modbus-0.yaml").read_text())
        assert scenario["machines"][0]["extra_tags"] == 19
        assert all(m.get("mtbf_s", 0) > 0 for m in scenario["machines"])  # random mode
    assert_stopped(farm.pids)


def test_more_than_247_machines_in_one_process_use_a_second_port(tmp_path: Path) -> None:
    with start_farm("modbus", 250, 11, tmp_path, processes=1) as farm:
        machines = farm.load.machines
        assert len(farm.pids) == 1
        assert [m.unit for m in machines] == [*range(1, 248), 1, 2, 3]
        assert len({m.port for m in machines[:247]}) == 1
        assert len({m.port for m in machines[247:]}) == 1
        assert machines[0].port != machines[-1].port
        got = read_all(Load("modbus", 1.0, 11, (machines[246], machines[-1])))
        assert [len(regs) for regs in got.values()] == [16, 16]
    assert_stopped(farm.pids)


async def read_nodes(load: Load) -> dict[str, list[object]]:
    got: dict[str, list[object]] = {}
    for m in load.machines:
        async with Client(m.opcua_url, timeout=10) as client:
            idx = await client.get_namespace_index(m.opcua_ns)
            nodes = [client.get_node(ua.NodeId(n, idx)) for n in m.nodes]
            got[m.id] = list(await client.read_values(nodes))
    return got


def test_opcua_farm(tmp_path: Path) -> None:
    with start_farm("opcua", 3, 15, tmp_path, processes=2) as farm:
        load = farm.load
        assert [m.id for m in load.machines] == ["m001", "m002", "m003"]
        assert len({m.opcua_url for m in load.machines}) == 2 == len(farm.pids)
        assert {m.opcua_ns for m in load.machines} == {"urn:oee-edge:simulator"}
        assert load.machines[2].nodes == (
            "m003.State",
            "m003.Reason",
            "m003.Running",
            "m003.Fault",
            "m003.Product",
            "m003.Counters.Total",
            "m003.Counters.Good",
            "m003.Counters.Reject",
            "m003.Counters.Total16",
            "m003.Counters.Reject16",
            "m003.Speed",
            "m003.Temperature",
            "m003.Extra.X00",
            "m003.Extra.X01",
            "m003.Extra.X02",
        )
        got = asyncio.run(read_nodes(load))
        for values in got.values():
            assert values[0] in (1, 2, 3, 4, 5)
            second = values[12]
            assert isinstance(second, int)
            assert values[12:] == [second, second + 1000, second + 2000]
    assert_stopped(farm.pids)


@pytest.mark.parametrize(
    ("protocol", "tags", "message"),
    [
        ("modbus", 10, "modbus: tags must be 11..95 (got 10)"),
        ("modbus", 96, "modbus: tags must be 11..95 (got 96)"),
        ("opcua", 11, "opcua: tags must be 12..96 (got 11)"),
        ("s7", 30, "protocol must be modbus or opcua (got 's7')"),
    ],
)
def test_bad_requests(tmp_path: Path, protocol: str, tags: int, message: str) -> None:
    with pytest.raises(ValueError) as info, start_farm(protocol, 1, tags, tmp_path):
        raise AssertionError("started")
    assert str(info.value) == message
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing started
