"""The Modbus server, in process, read with the pymodbus client."""

from __future__ import annotations

import asyncio
import math
import struct
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from pymodbus.client import AsyncModbusTcpClient

from simulators.modbus_server import ModbusSimulator, serve_modbus
from simulators.registers import TEST_PATTERN
from simulators.scenario import Scenario, ScenarioError, load_scenario, parse_scenario
from tests.simulators.expected import EXACT, LOOPING, STALE_S, served_between

DT = AsyncModbusTcpClient.DATATYPE


@asynccontextmanager
async def served(time_scale: float) -> AsyncIterator[tuple[ModbusSimulator, AsyncModbusTcpClient]]:
    async with serve_modbus(load_scenario("test"), port=0, time_scale=time_scale) as sim:
        client = AsyncModbusTcpClient(sim.host, port=sim.port, timeout=2)
        assert await client.connect()
        try:
            yield sim, client
        finally:
            client.close()


async def holding(client: AsyncModbusTcpClient, addr: int, count: int, unit: int = 1) -> list[int]:
    rr = await client.read_holding_registers(addr, count=count, device_id=unit)
    assert not rr.isError(), rr
    return list(rr.registers)


async def wait_for_state(client: AsyncModbusTcpClient, unit: int, code: int) -> None:
    for _ in range(100):
        if (await holding(client, 0, 1, unit))[0] == code:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"unit {unit} never reached state {code}")


async def test_initial_registers_and_bits() -> None:
    async with served(time_scale=0.001) as (sim, client):
        assert sim.ports == {"m1": sim.port, "m2": sim.port, "m3": sim.port}
        regs = await holding(client, 0, 16)
        assert regs[:12] == [1, 0b1, 0, 101, 0, 0, 0, 0, 0, 0, 0, 0]
        assert client.convert_from_registers(regs[12:14], DT.FLOAT32) == 30.0
        rr = await client.read_input_registers(0, count=16, device_id=1)
        assert rr.registers[:12] == regs[:12]
        coils = await client.read_coils(0, count=4, device_id=1)
        assert coils.bits[:4] == [True, False, False, False]
        inputs = await client.read_discrete_inputs(0, count=4, device_id=1)
        assert inputs.bits[:4] == [True, False, False, False]


async def test_final_counts_of_the_test_scenario() -> None:
    async with served(time_scale=3600) as (_sim, client):
        await wait_for_state(client, 1, 5)
        m1 = await holding(client, 0, 16, unit=1)
        assert m1[:4] == [5, 0b1000, 90, 102]
        u32 = [client.convert_from_registers(m1[i : i + 2], DT.UINT32) for i in (4, 6, 8)]
        assert (u32, m1[10], m1[11]) == ([50, 40, 10], 50, 10)
        assert client.convert_from_registers(m1[12:14], DT.FLOAT32) == 0.0
        temp = client.convert_from_registers(m1[14:16], DT.FLOAT32, word_order="little")
        assert isinstance(temp, float) and 35.0 <= temp <= 45.0  # default 40 +- 5, CDAB
        m2 = await holding(client, 0, 12, unit=2)
        u32 = [client.convert_from_registers(m2[i : i + 2], DT.UINT32) for i in (4, 6, 8)]
        assert (m2[:4], u32, m2[10:12]) == ([2, 0b10000, 5, 201], [65560, 65550, 65540], [24, 4])
        m3 = await holding(client, 0, 12, unit=3)
        u32 = [client.convert_from_registers(m3[i : i + 2], DT.UINT32) for i in (4, 6, 8)]
        assert (m3[:4], u32, m3[10:12]) == ([3, 0b10, 44, 301], [14, 14, 4294967290], [14, 65530])
        coils = await client.read_coils(0, count=4, device_id=3)
        assert coils.bits[:4] == [False, True, False, False]


async def test_test_pattern_decodes_with_pymodbus() -> None:
    async with served(time_scale=1) as (_sim, client):
        regs = await holding(client, 100, 36, unit=2)
        assert tuple(regs) == TEST_PATTERN
        conv = client.convert_from_registers
        assert conv(regs[0:1], DT.INT16) == -12345
        assert conv(regs[1:2], DT.UINT16) == 54321
        assert conv(regs[2:4], DT.INT32) == -123456789
        assert conv(regs[4:6], DT.INT32, word_order="little") == -123456789
        assert conv(regs[10:12], DT.UINT32) == 3000000000
        assert conv(regs[12:14], DT.FLOAT32) == struct.unpack(">f", struct.pack(">f", 3.14159))[0]
        assert conv(regs[16:20], DT.INT64) == -1234567890123
        assert conv(regs[20:24], DT.UINT64) == 12345678901234567890
        assert conv(regs[24:28], DT.FLOAT64) == 2.718281828459045
        assert conv(regs[32:36], DT.STRING) == "OEE-SIM1"


async def test_unmapped_addresses_answer_exception_02() -> None:
    async with served(time_scale=1) as (_sim, client):
        for addr, count in ((1000, 1), (16, 1), (99, 2), (140, 1), (138, 3), (132, 10)):
            rr = await client.read_holding_registers(addr, count=count, device_id=1)
            assert rr.isError() and rr.exception_code == 2, (addr, rr)
        rr = await client.read_input_registers(100, count=1, device_id=1)
        assert rr.exception_code == 2
        rr = await client.read_coils(16, count=1, device_id=1)
        assert rr.exception_code == 2
        rr = await client.write_register(0, 7, device_id=1)  # read-only map
        assert rr.exception_code == 2
        rr = await client.read_holding_registers(0, count=1, device_id=42)  # no such unit
        assert rr.exception_code == 0x0B


async def test_machine_on_its_own_port() -> None:
    scenario = parse_scenario(
        {
            "port": 0,
            "machines": [
                {"id": "a", "unit_id": 1, "product": 11},
                {"id": "b", "unit_id": 1, "port": 0, "product": 22},
            ],
        }
    )
    async with serve_modbus(scenario) as sim:
        assert sim.ports["a"] == sim.port != sim.ports["b"]
        for machine, product in (("a", 11), ("b", 22)):
            client = AsyncModbusTcpClient(sim.host, port=sim.ports[machine], timeout=2)
            assert await client.connect()
            assert (await holding(client, 3, 1))[0] == product
            client.close()


async def test_epoch_serves_what_the_model_shows_at_that_wall_time() -> None:
    epoch = time.time() - 25  # sim time 500 s at 20x: m1 is in its sixth pass
    scenario = parse_scenario(LOOPING).with_overrides(epoch=epoch)
    async with serve_modbus(parse_scenario(LOOPING), epoch=epoch) as sim:
        assert sim.scenario.epoch == epoch and sim.sim_time() >= 500
        client = AsyncModbusTcpClient(sim.host, port=sim.port, timeout=2)
        assert await client.connect()
        try:
            for unit, machine in ((1, "m1"), (2, "m2")):
                before = time.time()
                image = tuple(await holding(client, 0, EXACT, unit))
                after = time.time()
                assert image in served_between(scenario, machine, before, after), machine
        finally:
            client.close()
        # The server's models are the scenario's: the same history up to the same time.
        for machine, served in sim.models.items():
            model = scenario.model(machine)
            model.advance_to(served.sim_t)
            assert list(model.history) == list(served.history)
            assert model.snapshot() == served.snapshot()


async def test_epoch_in_the_future_is_refused() -> None:
    with pytest.raises(ScenarioError, match="epoch: must not be in the future"):
        async with serve_modbus(load_scenario("test"), port=0, epoch=time.time() + 60):
            raise AssertionError("served with an epoch in the future")


def extras_scenario(time_scale: float) -> Scenario:
    """Unit 1: idle forever (reason 4, product 5, a constant 40 °C) with 19 extra tags;
    unit 2: none."""
    idle = [{"state": "idle", "reason": 4}]
    machine = {"product": 5, "temp_amplitude": 0, "script": idle}
    return parse_scenario(
        {
            "time_scale": time_scale,
            "port": 0,
            "machines": [
                {"id": "x", "unit_id": 1, "extra_tags": 19, **machine},
                {"id": "y", "unit_id": 2, **machine},
            ],
        }
    )


async def test_extra_tags_in_registers_16_up() -> None:
    # 0.001x since 123456.7 s ago: sim time 123.46 s, still 123.46 s when the test ends.
    epoch = time.time() - 123_456.7
    async with serve_modbus(extras_scenario(0.001), epoch=epoch) as sim:
        client = AsyncModbusTcpClient(sim.host, port=sim.port, timeout=2)
        assert await client.connect()
        try:
            live = [2, 0b10000, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0000, 0x4220]  # 40.0 CDAB
            extras = [123 + 1000 * i for i in range(19)]  # (floor(sim_t) + 1000 i) % 65536
            assert await holding(client, 0, 35) == live + extras
            rr = await client.read_input_registers(0, count=35, device_id=1)
            assert rr.registers == live + extras
            assert await holding(client, 34, 1) == [18123]
            for addr, count in ((0, 36), (35, 1), (99, 1)):
                rr = await client.read_holding_registers(addr, count=count, device_id=1)
                assert rr.exception_code == 2, (addr, count)
            rr = await client.read_input_registers(35, count=1, device_id=1)
            assert rr.exception_code == 2
            assert await holding(client, 0, 16, unit=2) == live
            rr = await client.read_holding_registers(16, count=1, device_id=2)  # no extras
            assert rr.exception_code == 2
            assert tuple(await holding(client, 100, 36)) == TEST_PATTERN  # still there
        finally:
            client.close()


async def test_extra_tags_change_every_sim_second() -> None:
    scenario = extras_scenario(100).with_overrides(epoch=time.time())
    async with serve_modbus(scenario) as sim:
        client = AsyncModbusTcpClient(sim.host, port=sim.port, timeout=2)
        assert await client.connect()
        try:
            seen = []
            for _ in range(3):
                before = time.time()
                regs = await holding(client, 16, 19)
                after = time.time()
                second = regs[0]
                low = math.floor(scenario.sim_time_at(before - STALE_S))
                assert low <= second <= math.floor(scenario.sim_time_at(after))
                assert regs == [(second + 1000 * i) % 65536 for i in range(19)]
                seen.append(second)
                await asyncio.sleep(0.2)  # 20 sim seconds
        finally:
            client.close()
    assert seen[0] < seen[1] < seen[2], seen
