"""ModbusLink's framing: frames are found in whatever pieces TCP delivers them.

The link is an `asyncio.Protocol`: each `data_received` may carry less than a frame,
exactly one, or several. The peers are the hostile servers of `hostile.py` (real TCP
servers) in the test's own event loop; a spy on `data_received` records how the bytes
arrived, and the server sends the next piece of an answer only once the link has
received every byte before it, so each test exercises the cut it is named after.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator

import pytest

from connectors.modbus import link as link_module
from connectors.modbus.frames import BadAnswer, BadFrame, ReadCall
from connectors.modbus.link import LinkLost, LinkTimeout, ModbusLink

from .hostile import (
    Behaviour,
    Pause,
    Request,
    correct,
    frame,
    hostile_server,
    register,
    short_pause,
)

CALL = ReadCall(unit=1, fc=3, start=0, count=3)
RIGHT = [register(0), register(1), register(2)]
UNKNOWN_TID = 0x7777  # never sent: the link's transaction ids start at 1


class Arrivals:
    """The sizes of the byte strings the link received, one per `data_received`."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.more = asyncio.Event()

    def add(self, size: int) -> None:
        self.sizes.append(size)
        self.more.set()

    async def all_of(self, written: int) -> None:
        """Until the link has received every byte the server wrote (one connection)."""
        async with asyncio.timeout(5):
            while sum(self.sizes) < written:
                self.more.clear()
                await self.more.wait()


@pytest.fixture
def chunks(monkeypatch: pytest.MonkeyPatch) -> Arrivals:
    """What the link receives from now on."""
    arrivals = Arrivals()
    original = link_module._Connection.data_received

    def spy(self: link_module._Connection, data: bytes) -> None:
        arrivals.add(len(data))
        original(self, data)

    monkeypatch.setattr(link_module._Connection, "data_received", spy)
    return arrivals


@contextlib.asynccontextmanager
async def linked(
    behaviour: Behaviour, timeout_s: float = 1.0, pause: Pause = short_pause
) -> AsyncIterator[ModbusLink]:
    async with hostile_server(behaviour, pause=pause) as server:
        link = ModbusLink("127.0.0.1", server.port, timeout_s)
        await link.open()
        try:
            yield link
        finally:
            link.close()


async def test_two_answers_in_one_chunk(chunks: Arrivals) -> None:
    """An answer to an unknown transaction and the right one arrive in one piece: the
    first is skipped, the second taken; then the right answer and a duplicate of it in
    one piece: the duplicate is not taken for the next request."""
    calls = 0

    def behaviour(req: Request) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 1:
            return frame(UNKNOWN_TID, req.unit, b"\x03\x02\x00\x63") + correct(req)
        return correct(req) + correct(req)

    async with linked(behaviour, pause=chunks.all_of) as link:
        first = await link.read(CALL)
        second = await link.read(CALL)
        third = await link.read(CALL)
        assert link.is_open
    assert first == second == third == RIGHT
    assert link.stale_answers == 3  # the unknown one and two duplicates
    size = len(correct(Request(1, 1, 3, 0, 3)))
    assert chunks.sizes[:2] == [size + 11, 2 * size]  # two frames in each of the first reads


async def test_an_answer_split_across_three_pieces(chunks: Arrivals) -> None:
    """Cut inside the header and inside the PDU: the answer is put together again."""

    def thirds(req: Request) -> list[bytes]:
        raw = correct(req)
        return [raw[:3], raw[3:10], raw[10:]]

    async with linked(thirds, pause=chunks.all_of) as link:
        values = [await link.read(CALL) for _ in range(2)]
        assert link.is_open
    assert values == [RIGHT, RIGHT]
    assert chunks.sizes == [3, 7, 5] * 2
    assert link.stale_answers == 0


async def test_frames_across_pieces_in_any_cut(chunks: Arrivals) -> None:
    """A stale frame's end and the right frame's start share a piece."""

    def straddle(req: Request) -> list[bytes]:
        raw = frame(req.tid - 1, req.unit, b"\x03\x02\x00\x63") + correct(req)
        return [raw[:5], raw[5:14], raw[14:]]

    async with linked(straddle, pause=chunks.all_of) as link:
        assert await link.read(CALL) == RIGHT
    assert chunks.sizes == [5, 9, 12]
    assert link.stale_answers == 1


async def test_a_frame_for_an_unknown_transaction_is_skipped(chunks: Arrivals) -> None:
    """Before the answer, and unsolicited between requests: neither is taken."""

    calls = 0

    def unknown_first(req: Request) -> list[bytes]:
        nonlocal calls
        calls += 1
        unknown = frame(UNKNOWN_TID, req.unit, b"\x03\x06" + b"\x00\x01" * 3)
        return [unknown, correct(req), unknown] if calls == 1 else [unknown, correct(req)]

    async with linked(unknown_first, pause=chunks.all_of) as link:
        first = await link.read(CALL)
        await asyncio.sleep(0.1)  # the unsolicited one arrives while nothing waits
        second = await link.read(CALL)
        assert link.is_open
    assert first == second == RIGHT
    assert link.stale_answers == 3
    assert chunks.sizes == [15] * 5


async def test_garbage_between_requests_fails_the_next_read(chunks: Arrivals) -> None:
    """Bytes that are no Modbus TCP after a good answer: the stream cannot be framed any
    more, so the next read raises BadFrame and the link is closed."""

    def then_garbage(req: Request) -> list[bytes]:
        return [correct(req), b"HTTP/1.1 400 Bad Request\r\n\r\n"]

    async with linked(then_garbage, pause=chunks.all_of) as link:
        assert await link.read(CALL) == RIGHT
        await asyncio.sleep(0.1)
        with pytest.raises(BadFrame, match="protocol id 0x5450"):
            await link.read(CALL)
        assert not link.is_open
        with pytest.raises(LinkLost, match="not connected"):
            await link.read(CALL)


async def test_a_bad_answer_leaves_the_link_usable() -> None:
    """An answer that does not fit (wrong unit id) is refused; the next one is read."""
    calls = 0

    def wrong_unit_once(req: Request) -> bytes:
        nonlocal calls
        calls += 1
        return correct(req) if calls > 1 else frame(req.tid, 9, b"\x03\x02\x00\x01")

    async with linked(wrong_unit_once) as link:
        with pytest.raises(BadAnswer, match="unit id 9, expected 1"):
            await link.read(CALL)
        assert link.is_open
        assert await link.read(CALL) == RIGHT


async def test_a_timeout_between_frames_keeps_the_link() -> None:
    """No answer at all: LinkTimeout, the link stays open, and the late answer (a stale
    one) is skipped for the next request's."""
    calls = 0

    def late(req: Request) -> bytes | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            return None
        return frame(req.tid - 1, req.unit, b"\x03\x02\x00\x63") + correct(req)

    async with linked(late, timeout_s=0.1) as link:
        with pytest.raises(LinkTimeout):
            await link.read(CALL)
        assert link.is_open
        assert await link.read(CALL) == RIGHT
    assert link.stale_answers == 1


@pytest.mark.parametrize("cut", [3, 9])
async def test_a_timeout_inside_a_frame(cut: int) -> None:
    """A device that stops in the middle of an answer's PDU is broken: the link is
    closed. Only part of a header (no frame begun as far as the link can tell) keeps it,
    as a timeout between frames does."""
    async with linked(lambda req: correct(req)[:cut], timeout_s=0.1) as link:
        with pytest.raises(LinkTimeout):
            await link.read(CALL)
        assert link.is_open == (cut < 7)


async def test_the_peer_closing_mid_answer_is_link_lost() -> None:
    """Half an answer, then the server closes the connection."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readexactly(12)
        tid = struct.unpack(">H", head[:2])[0]
        writer.write(frame(tid, 1, b"\x03\x06" + b"\x00\x01" * 3)[:11])
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    link = ModbusLink("127.0.0.1", port, 1.0)
    try:
        await link.open()
        with pytest.raises(LinkLost):
            await link.read(CALL)
        assert not link.is_open
    finally:
        link.close()
        listener.close()
        await listener.wait_closed()


async def test_transaction_ids_wrap_around() -> None:
    """After 0xFFFF the next id is 1 (0 is never used), and answers still match."""
    seen: list[int] = []

    def record(req: Request) -> bytes:
        seen.append(req.tid)
        return correct(req)

    async with linked(record) as link:
        link._tid = 0xFFFE
        values = [await link.read(CALL) for _ in range(3)]
    assert values == [RIGHT] * 3
    assert seen == [0xFFFF, 1, 2]


def test_the_link_reads_on_uvloop() -> None:
    """The daemon runs on uvloop (`gateway.event_loop: auto`), whose transports are not
    `asyncio.Transport` subclasses: a check for one refused every connection there."""
    import uvloop

    async def read_once() -> list[int] | list[bool]:
        async with linked(correct) as link:
            return await link.read(CALL)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(read_once()) == RIGHT
