"""One Modbus TCP connection that sends read requests and checks every answer.

Our own client rather than pymodbus': the gateway needs four read functions and must
judge every byte that comes back (`connectors.modbus.frames`), and pymodbus accepts an
answer with another function code as data, skips a wrong unit id until the request
times out, and lets a frame it cannot decode escape into asyncio's exception handler
(a traceback in the log per frame). Here every outcome is a value or one of a few
exceptions, nothing is logged, and nothing but a read can be sent.

One request at a time. Answers to earlier requests that arrive late (after their
timeout) carry an older transaction id and are skipped. A timeout between frames
leaves the connection usable; one in the middle of a frame, or a frame that is no
Modbus TCP, closes it, since the byte stream can no longer be split into frames.
"""

from __future__ import annotations

import asyncio

from connectors.modbus.frames import (
    HEADER_SIZE,
    BadFrame,
    Header,
    ReadCall,
    check_answer,
    parse_header,
)

__all__ = ["LinkLost", "LinkTimeout", "ModbusLink"]


class LinkTimeout(Exception):
    """No (complete) answer within the timeout."""


class LinkLost(Exception):
    """The connection is closed or broke."""


class ModbusLink:
    """A Modbus TCP connection to `host`:`port` (not yet open)."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.stale_answers = 0  # answers to an earlier request, skipped
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tid = 0
        self._mid_frame = False  # a header was read, its PDU not yet

    @property
    def is_open(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def open(self) -> None:
        """Connect; OSError (TimeoutError after `timeout_s`) when that fails."""
        self.close()
        async with asyncio.timeout(self.timeout_s):
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        """Drop the connection (no wait: the peer may be gone)."""
        writer, self._reader, self._writer = self._writer, None, None
        self._mid_frame = False
        if writer is not None:
            writer.close()

    async def read(self, call: ReadCall) -> list[int] | list[bool]:
        """The checked values answered to `call`.

        Raises LinkTimeout, LinkLost, BadAnswer (BadFrame closes the connection) or
        `frames.DeviceException` (the device's exception answer).
        """
        if self._reader is None or self._writer is None or not self.is_open:
            raise LinkLost("not connected")
        tid = self._tid = self._tid % 0xFFFF + 1
        try:
            async with asyncio.timeout(self.timeout_s):
                self._writer.write(call.encode(tid))
                await self._writer.drain()
                return await self._answer(self._reader, call, tid)
        except TimeoutError:
            if self._mid_frame:
                self.close()
            raise LinkTimeout from None
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.close()
            raise LinkLost(str(exc) or type(exc).__name__) from None

    async def _answer(
        self, reader: asyncio.StreamReader, call: ReadCall, tid: int
    ) -> list[int] | list[bool]:
        while True:
            header = await self._header(reader)
            self._mid_frame = True
            pdu = await reader.readexactly(header.rest)
            self._mid_frame = False
            if header.tid == tid:
                return check_answer(call, header.unit, pdu)
            self.stale_answers += 1

    async def _header(self, reader: asyncio.StreamReader) -> Header:
        raw = await reader.readexactly(HEADER_SIZE)
        try:
            return parse_header(raw)
        except BadFrame:
            self.close()
            raise
