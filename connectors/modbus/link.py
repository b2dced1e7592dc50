"""One Modbus TCP connection that sends read requests and checks every answer.

Our own client rather than pymodbus': the gateway needs four read functions and must
judge every byte that comes back (`connectors.modbus.frames`), and pymodbus accepts an
answer with another function code as data, skips a wrong unit id until the request
times out, and lets a frame it cannot decode escape into asyncio's exception handler
(a traceback in the log per frame). Here every outcome is a value or one of a few
exceptions, nothing is logged, and nothing but a read can be sent.

One request at a time. Answers to earlier requests that arrive late (after their
timeout), and frames of a transaction never sent, are skipped (`stale_answers`). A
timeout between frames leaves the connection usable; one in the middle of a frame (the
device stopped halfway through an answer) closes it, and so does a frame that is no
Modbus TCP, since the byte stream can no longer be split into frames (one that arrives
between requests fails the next read).

The connection is an `asyncio.Protocol` rather than streams: the bytes are split into
frames where they arrive (`_Connection.data_received`, in whatever pieces TCP delivers:
a partial frame waits for its rest, several frames in one piece are taken in turn), and
the frame with the waiting request's transaction id resolves that request's one future.
A poll costs one future, one timer and one wake-up, instead of a `drain`, a timeout
scope and two `readexactly` (issue 17: the streams were 8.7 % of the gateway's CPU at
500 machines). The pending bytes are `bytes`, not a bytearray: nearly every piece is
exactly one answer, parsed in place without a copy; only a cut frame is joined.
"""

from __future__ import annotations

import asyncio
from typing import cast

from connectors.modbus.frames import (
    HEADER_SIZE,
    BadAnswer,
    BadFrame,
    DeviceException,
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
        self.stale_answers = 0  # frames of an earlier (or an unknown) transaction, skipped
        self._conn: _Connection | None = None
        self._tid = 0

    @property
    def is_open(self) -> bool:
        conn = self._conn
        return conn is not None and conn.transport is not None and not conn.transport.is_closing()

    async def open(self) -> None:
        """Connect; OSError (TimeoutError after `timeout_s`) when that fails."""
        self.close()
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.timeout_s):
            _, self._conn = await loop.create_connection(
                lambda: _Connection(self), self.host, self.port
            )

    def close(self) -> None:
        """Drop the connection (no wait: the peer may be gone)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.drop()

    async def read(self, call: ReadCall) -> list[int] | list[bool]:
        """The checked values answered to `call`.

        Raises LinkTimeout, LinkLost, BadAnswer (BadFrame closes the connection) or
        `frames.DeviceException` (the device's exception answer).
        """
        conn = self._conn
        if conn is None or conn.transport is None or conn.transport.is_closing():
            raise LinkLost("not connected")
        if conn.broken is not None:  # a frame that was no Modbus TCP came between requests
            self.close()
            raise conn.broken
        tid = self._tid = self._tid % 0xFFFF + 1
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[list[int] | list[bool]] = loop.create_future()
        conn.expect(tid, call, answer)
        conn.transport.write(call.encode(tid))
        timer = loop.call_later(self.timeout_s, _time_out, answer)
        try:
            return await answer
        except LinkTimeout:
            if conn.mid_frame:
                self.close()
            raise
        except (BadFrame, LinkLost):
            self.close()
            raise
        finally:
            timer.cancel()
            conn.forget(answer)


def _time_out(answer: asyncio.Future[list[int] | list[bool]]) -> None:
    if not answer.done():
        answer.set_exception(LinkTimeout())


class _Connection(asyncio.Protocol):
    """One TCP connection of a link: splits what arrives into frames and answers the
    request that waits (at most one) from the frame with its transaction id."""

    def __init__(self, link: ModbusLink) -> None:
        self.link = link
        self.transport: asyncio.Transport | None = None
        self.broken: BadFrame | None = None  # the stream could not be framed any further
        self._rest = b""  # the start of a frame whose end has not arrived (< 1 frame)
        self._tid = -1
        self._call: ReadCall | None = None
        self._answer: asyncio.Future[list[int] | list[bool]] | None = None

    @property
    def mid_frame(self) -> bool:
        """A frame's header has arrived, its PDU not (yet)."""
        return len(self._rest) >= HEADER_SIZE

    def expect(
        self, tid: int, call: ReadCall, answer: asyncio.Future[list[int] | list[bool]]
    ) -> None:
        self._tid, self._call, self._answer = tid, call, answer

    def forget(self, answer: asyncio.Future[list[int] | list[bool]]) -> None:
        if self._answer is answer:
            self._answer = self._call = None

    def drop(self) -> None:
        self._rest = b""
        if self.transport is not None:
            self.transport.close()

    # -------------------------------------------------------------- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: uvloop's transports are not asyncio.Transport subclasses.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.broken is not None:
            return  # no frame can be found in this stream any more
        if self._rest:
            data = self._rest + data
        pos, end = 0, len(data)
        while end - pos >= HEADER_SIZE:
            try:
                header = parse_header(data, pos)
            except BadFrame as exc:
                self._rest = b""
                self._fail(exc)
                return
            stop = pos + HEADER_SIZE + header.rest
            if stop > end:
                break
            self._frame(header.tid, header.unit, data[pos + HEADER_SIZE : stop])
            pos = stop
        self._rest = data[pos:] if pos else data

    def eof_received(self) -> None:
        self._lost("the peer closed the connection")

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost("connection closed" if exc is None else str(exc) or type(exc).__name__)

    # -------------------------------------------------------------- frames

    def _frame(self, tid: int, unit: int, pdu: bytes) -> None:
        answer, call = self._answer, self._call
        if answer is None or call is None or tid != self._tid or answer.done():
            self.link.stale_answers += 1
            return
        self._answer = self._call = None
        try:
            values = check_answer(call, unit, pdu)
        except (BadAnswer, DeviceException) as exc:
            answer.set_exception(exc)
        else:
            answer.set_result(values)

    def _fail(self, exc: BadFrame) -> None:
        answer, self._answer, self._call = self._answer, None, None
        if answer is not None and not answer.done():
            answer.set_exception(exc)  # the read closes the connection
        else:
            self.broken = exc  # the next read raises it and closes the connection

    def _lost(self, why: str) -> None:
        answer, self._answer, self._call = self._answer, None, None
        if answer is not None and not answer.done():
            answer.set_exception(LinkLost(why))
