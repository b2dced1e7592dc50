"""Hostile Modbus TCP servers: small asyncio servers that misbehave on purpose.

Each request the gateway sends is parsed here independently of the gateway's code (its
MBAP header, unit id, function code, start and count), and the server's current
`behaviour` decides what goes back: a correct answer, silence, or one of the faults
seen on real networks (a wrong function code, a wrong unit id, a byte count or length
that does not match, garbage). `behaviour` can be swapped while the gateway polls, so a
test can end an outage. A behaviour may also answer in pieces (a list of byte strings),
sent apart so that the gateway receives them in separate reads, as TCP may cut a frame:
the server awaits `pause` between two pieces (by default a short sleep; a test that must
be sure of the cuts waits until the client has received every byte written so far).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    """One request as it arrived: MBAP transaction id and unit, then the PDU."""

    tid: int
    unit: int
    fc: int
    start: int
    count: int


Behaviour = Callable[[Request], bytes | list[bytes] | None]
"""The bytes to send for a request (None: say nothing; a list: pieces sent apart)."""

Pause = Callable[[int], Awaitable[None]]
"""Awaited between two pieces, with the bytes written on this connection so far."""


async def short_pause(_written: int) -> None:
    await asyncio.sleep(0.02)


def register(address: int) -> int:
    """The value a correct answer gives holding/input register `address`."""
    return (1000 + address) & 0xFFFF


def frame(
    tid: int, unit: int, pdu: bytes, *, protocol: int = 0, length: int | None = None
) -> bytes:
    """An MBAP frame around `pdu` (`length`: the header's length field, if it is to lie)."""
    size = len(pdu) + 1 if length is None else length
    return struct.pack(">HHHB", tid, protocol, size, unit) + pdu


def data_pdu(req: Request, fc: int | None = None) -> bytes:
    """The PDU of a correct answer to `req` (with function code `fc` instead, if given)."""
    if req.fc in (1, 2):
        bits = [(req.start + i) % 3 == 0 for i in range(req.count)]
        packed = bytes(
            sum(1 << j for j, b in enumerate(bits[i : i + 8]) if b) for i in range(0, len(bits), 8)
        )
        return bytes([fc or req.fc, len(packed)]) + packed
    words = [register(req.start + i) for i in range(req.count)]
    return bytes([fc or req.fc, 2 * req.count]) + struct.pack(f">{req.count}H", *words)


def correct(req: Request) -> bytes:
    return frame(req.tid, req.unit, data_pdu(req))


def silent(_req: Request) -> None:
    return None


@dataclass
class HostileServer:
    """A listening server; `requests` lists every request received."""

    behaviour: Behaviour
    pause: Pause = short_pause
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.add(writer)
        written = 0
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readexactly(7)
                tid, _proto, length, unit = struct.unpack(">HHHB", head)
                pdu = await reader.readexactly(length - 1)
                fc, start, count = struct.unpack(">BHH", pdu[:5])
                req = Request(tid, unit, fc, start, count)
                self.requests.append(req)
                answer = self.behaviour(req)
                pieces = answer if isinstance(answer, list) else [answer] if answer else []
                for i, piece in enumerate(pieces):
                    if i:
                        await self.pause(written)
                    writer.write(piece)
                    written += len(piece)
                    await writer.drain()
        self.writers.discard(writer)
        writer.close()


@contextlib.asynccontextmanager
async def hostile_server(
    behaviour: Behaviour, port: int = 0, pause: Pause = short_pause
) -> AsyncIterator[HostileServer]:
    """Serve `behaviour` on 127.0.0.1 (`port` 0: any free one) while the block runs."""
    state = HostileServer(behaviour, pause)
    listener = await asyncio.start_server(state._serve, "127.0.0.1", port)
    state.port = listener.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        listener.close()
        for writer in list(state.writers):
            writer.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listener.wait_closed(), 1)
