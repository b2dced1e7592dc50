"""No single PLC value stops acquisition (issue 15), against a real Modbus TCP server
whose registers the test writes as a PLC program would, and a whole gateway polling it.

Seen on the earlier code: a uint32 counter jumping to 0xFFFFFFFF on a machine with an
ideal cycle above 2.147 s overflowed the OEE windows (OverflowError in the poll task), and
an int16 counter declared `bits: 32` passing 32767 gave a negative delta (ValueError in
the tracker): either ended the process, stopping the healthy machines too.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from edge.config import Config
from edge.pipeline.gateway import Gateway

# Holding registers: m1 total (uint32) 0-1, m2 total 2-3, m3 total (int16) 4, codes 10-12.
M1_TOTAL, M2_TOTAL, M3_TOTAL, CODES = 0, 2, 4, 10


def _machine(mid: str, total: dict[str, object], code: int, cycle_s: float) -> dict[str, object]:
    return {
        "id": mid,
        "ideal_cycle_s": cycle_s,
        "modbus": {"host": "127.0.0.1", "port": 0, "poll_interval_s": 0.1},
        "tags": {"total": total, "code": {"address": code}},
        "state_rules": [{"tag": "code", "map": {1: "running"}}],
        "counters": {"total": {"tag": "total", "bits": 32}},
    }


def config(port: int, data_dir: Path) -> Config:
    machines = [
        _machine("m1", {"address": M1_TOTAL, "type": "uint32"}, CODES, 2.5),
        _machine("m2", {"address": M2_TOTAL, "type": "uint32"}, CODES + 1, 1.0),
        _machine("m3", {"address": M3_TOTAL, "type": "int16"}, CODES + 2, 1.0),
    ]
    for m in machines:
        m["modbus"]["port"] = port  # type: ignore[index]
    return Config.model_validate(
        {
            "gateway": {"id": "gw", "data_dir": str(data_dir)},
            "site": "s",
            "area": "a",
            "line": "l",
            "oee": {"windows": ["15m"], "publish_interval_s": 0.5},
            "api": {"enabled": False},
            "machines": machines,
        }
    )


@pytest.fixture
async def plc() -> AsyncIterator[tuple[int, AsyncModbusTcpClient]]:
    """A real Modbus TCP server on a free port, and a client that writes its registers."""
    regs = SimData(0, values=[0] * 16, datatype=DataType.REGISTERS)
    device = SimDevice(id=1, simdata=[regs])
    server = ModbusTcpServer(device, address=("127.0.0.1", 0))
    await server.serve_forever(background=True)
    port = server.transport.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = AsyncModbusTcpClient("127.0.0.1", port=port)
    assert await client.connect(), "cannot reach the test PLC"
    try:
        yield port, client
    finally:
        client.close()
        await server.shutdown()


async def write(client: AsyncModbusTcpClient, address: int, *words: int) -> None:
    reply = await client.write_registers(address, list(words), device_id=1)
    assert not reply.isError(), reply


def u32(value: int) -> tuple[int, int]:
    return value >> 16, value & 0xFFFF


async def until(cond: Callable[[], bool], what: str, within_s: float = 10.0) -> None:
    for _ in range(int(within_s / 0.02)):
        if cond():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {within_s} s: {what}")


async def test_no_counter_value_stops_the_other_machines(
    plc: tuple[int, AsyncModbusTcpClient], tmp_path: Path
) -> None:
    port, client = plc
    await write(client, M1_TOTAL, *u32(100), *u32(100), 100)
    await write(client, CODES, 1, 1, 1)
    gw = Gateway(config(port, tmp_path))
    run = asyncio.create_task(gw.run())
    live = gw.live.machines
    try:
        await until(lambda: all(m.state is not None for m in live.values()), "every state")
        await write(client, M2_TOTAL, *u32(105))
        await until(lambda: live["m2"].total == 5, "m2 counts")

        await write(client, M1_TOTAL, *u32(0xFFFFFFFF))  # a restart's garbage
        await write(client, M3_TOTAL, struct.unpack(">H", struct.pack(">h", -32768))[0])
        await until(lambda: bool(live["m1"].suspects), "m1's jump held")
        await until(lambda: live["m3"].issues is not None and bool(live["m3"].issues.open()), "m3")
        await write(client, M2_TOTAL, *u32(110))
        await until(lambda: live["m2"].total == 10, "m2 still counts")
        assert not run.done(), run

        (held,) = live["m1"].suspects.values()
        assert (held.total, held.counter, live["m1"].total) == (0xFFFFFFFF - 100, "total", 0)
        (issue,) = live["m3"].issues.open()  # type: ignore[union-attr]
        assert issue.kind == "counter_invalid" and live["m3"].total == 0
        assert gw.normalisers["m3"].stats.counter_invalid >= 1
        await asyncio.sleep(0.6)  # a publish of the figures with the suspect held out
        assert live["m1"].oee["15m"].total == 0
    finally:
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
