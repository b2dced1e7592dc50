"""A real pymodbus TCP server on a free loopback port, filled with known values."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

HOLDING_SIZE = 150  # holding registers 0..149 exist; any address past them is illegal


def words(fmt: str, value: object, *, swap_words: bool = False) -> list[int]:
    """Registers of `value` packed big-endian (optionally with the word order reversed)."""
    raw = struct.pack(">" + fmt, value)
    regs = [raw[i] << 8 | raw[i + 1] for i in range(0, len(raw), 2)]
    return regs[::-1] if swap_words else regs


def holding_registers() -> list[int]:
    regs = [0] * HOLDING_SIZE
    regs[0] = 1234
    regs[1] = words("h", -2)[0]
    regs[2:4] = words("I", 0x12345678)
    regs[4:6] = words("f", 21.5, swap_words=True)  # CDAB
    regs[6:10] = list(reversed([((w & 0xFF) << 8) | (w >> 8) for w in words("q", -123456789012)]))
    regs[10] = 0x8001
    regs[11:14] = [0x5041, 0x5254, 0x2D37]  # "PART-7"
    regs[20:22] = words("f", float("nan"))
    regs[140] = 7
    return regs


@dataclass
class Server:
    """A running test server; `received` lists every request PDU as (function, address, count)."""

    port: int
    server: ModbusTcpServer
    received: list[tuple[int, int, int]] = field(default_factory=list)
    delays: dict[tuple[int, int], float] = field(default_factory=dict)

    async def stop(self) -> None:
        await self.server.shutdown()


async def start_server(port: int = 0) -> Server:
    """Start a server on 127.0.0.1:`port` (0: any free port). Fails if it cannot listen."""
    state = Server(port, None)  # type: ignore[arg-type]

    def trace_pdu(sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if not sending:
            state.received.append((pdu.function_code, pdu.address, pdu.count))
        return pdu

    async def action(fc: int, _start: int, address: int, *_: object) -> None:
        if delay := state.delays.get((fc, address)):
            await asyncio.sleep(delay)

    device = SimDevice(
        id=1,
        simdata=(
            [
                SimData(
                    0, values=[True, False, True] + [False] * 12 + [True], datatype=DataType.BITS
                )
            ],
            [SimData(0, values=[False, True] + [False] * 14, datatype=DataType.BITS)],
            [SimData(0, values=holding_registers(), datatype=DataType.REGISTERS)],
            [SimData(0, values=[100 + i for i in range(10)], datatype=DataType.REGISTERS)],
        ),
        action=action,
    )
    server = ModbusTcpServer(
        device, address=("127.0.0.1", port), trace_pdu=trace_pdu, ignore_missing_devices=True
    )
    await server.serve_forever(background=True)
    sockets = server.transport.sockets  # type: ignore[union-attr]
    state.server, state.port = server, sockets[0].getsockname()[1]
    return state


@pytest.fixture
async def modbus_server() -> AsyncIterator[Server]:
    server = await start_server()
    yield server
    await server.stop()
