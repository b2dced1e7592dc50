"""ModbusSource against a real pymodbus server on loopback."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.common.backoff import Backoff
from connectors.modbus.source import ModbusSource
from core.types import Quality, SampleBatch
from edge.config import ModbusConnection, ModbusTag
from tests.fixtures.ports import free_port

from .conftest import Server, start_server

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

TAGS = {
    "count": {"address": 0},
    "temp": {"address": 1, "type": "int16", "scale": 0.5},
    "serial": {"address": 2, "type": "uint32"},
    "speed": {"address": 4, "type": "float32", "order": "CDAB"},
    "energy": {"address": 6, "type": "int64", "order": "DCBA"},
    "run": {"address": 10, "type": "bit", "bit": 0},
    "fault": {"address": 10, "type": "bit", "bit": 15},
    "idle": {"address": 10, "type": "bit", "bit": 1},
    "part": {"address": 11, "type": "string", "length": 3},
    "in0": {"table": "input", "address": 0},
    "in2": {"table": "input", "address": 2},
    "door": {"table": "coil", "address": 0},
    "light": {"table": "coil", "address": 1},
    "horn": {"table": "coil", "address": 15},
    "di1": {"table": "discrete", "address": 1},
}
EXPECTED = {
    "count": 1234,
    "temp": -1.0,
    "serial": 0x12345678,
    "speed": 21.5,
    "energy": -123456789012,
    "run": True,
    "fault": True,
    "idle": False,
    "part": "PART-7",
    "in0": 100,
    "in2": 102,
    "door": True,
    "light": False,
    "horn": True,
    "di1": True,
}


def make_source(port: int, tags: dict[str, dict[str, Any]] = TAGS, **conn: Any) -> ModbusSource:
    settings: dict[str, Any] = {"host": "127.0.0.1", "port": port, "timeout_s": 0.3}
    connection = ModbusConnection(**(settings | conn))
    spec = {n: ModbusTag.model_validate(t) for n, t in tags.items()}
    return ModbusSource("press-1", connection, spec, clock=lambda: T0)


def values(batch: SampleBatch) -> dict[str, Any]:
    return {s.tag: s.value for s in batch.samples}


def bad(batch: SampleBatch) -> set[str]:
    return {s.tag for s in batch.samples if s.quality is Quality.BAD}


async def test_reads_exact_values(modbus_server: Server) -> None:
    async with make_source(modbus_server.port) as source:
        batch = await source.read()
    assert batch.error is None
    assert (batch.machine, batch.ts) == ("press-1", T0)
    assert values(batch) == EXPECTED
    assert {type(values(batch)[n]) for n in ("count", "serial", "energy", "in0")} == {int}
    assert all(s.quality is Quality.GOOD and s.ts == T0 for s in batch.samples)


async def test_requests_sent_match_the_plan(modbus_server: Server) -> None:
    async with make_source(modbus_server.port) as source:
        await source.read()
        await source.read()
    # holding 0..13 in one read, input 0..2, coils 0..15, discrete 1: four per poll.
    per_poll = [(3, 0, 14), (4, 0, 3), (1, 0, 16), (2, 1, 1)]
    assert [(r.table.value, r.start, r.count) for r in source.plan] == [
        ("holding", 0, 14),
        ("input", 0, 3),
        ("coil", 0, 16),
        ("discrete", 1, 1),
    ]
    assert modbus_server.received == per_poll * 2
    assert (source.stats.requests, source.stats.errors) == (8, 0)


async def test_exception_response_marks_only_its_tags(modbus_server: Server) -> None:
    tags = TAGS | {"ghost": {"address": 500}, "ghost2": {"address": 501, "type": "int32"}}
    async with make_source(modbus_server.port, tags) as source:
        batch = await source.read()
        assert source.connected
    assert bad(batch) == {"ghost", "ghost2"}
    assert values(batch) == EXPECTED | {"ghost": None, "ghost2": None}
    assert batch.error == "exception 2 (illegal_address) reading holding 500+3"
    assert (source.stats.requests, source.stats.errors) == (5, 1)


async def test_nan_float_is_a_bad_sample_not_a_failed_read(modbus_server: Server) -> None:
    tags = {"nan": {"address": 20, "type": "float32"}, "count": {"address": 0}}
    async with make_source(modbus_server.port, tags) as source:
        batch = await source.read()
    assert batch.error is None
    assert values(batch) == {"count": 1234, "nan": None}
    assert bad(batch) == {"nan"}


async def test_dead_port_gives_a_bad_batch_then_recovers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="connectors.modbus.source")
    port = free_port()
    async with make_source(port) as source:
        batch = await source.read()
        assert batch.error == f"cannot connect to 127.0.0.1:{port}"
        assert bad(batch) == set(TAGS) and len(batch.samples) == len(TAGS)
        server = await start_server(port)
        try:
            batch = await source.read()
        finally:
            await server.stop()
    assert batch.error is None
    assert values(batch) == EXPECTED
    assert source.stats.reconnects == 0  # the first successful connect is no reconnect
    where = f"modbus press-1 (127.0.0.1:{port})"
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", f"{where}: cannot connect: connection refused"),
        ("INFO", f"{where}: reconnected"),
    ]


async def test_stream_survives_an_outage(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="connectors.modbus.source")
    port = free_port()
    server = await start_server(port)
    source = make_source(
        port,
        {"count": TAGS["count"]},
        poll_interval_s=0.05,
        backoff_initial_s=0.02,
        backoff_max_s=0.05,
    )
    seen: list[str | None] = []
    async with source:
        stream = source.stream()
        assert (await anext(stream)).error is None
        await server.stop()
        for _ in range(3):
            batch = await asyncio.wait_for(anext(stream), 2)
            assert batch.error is not None and bad(batch) == {"count"}
            seen.append(batch.error)
        server = await start_server(port)
        try:
            batch = await asyncio.wait_for(anext(stream), 2)
            while batch.error is not None:  # a poll may still be backing off
                batch = await asyncio.wait_for(anext(stream), 2)
            assert values(batch) == {"count": 1234}
        finally:
            await stream.aclose()
            await server.stop()
    assert seen[-1] == f"cannot connect to 127.0.0.1:{port}"
    assert source.stats.reconnects == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and f"press-1 (127.0.0.1:{port})" in errors[0].getMessage()
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == [f"modbus press-1 (127.0.0.1:{port}): reconnected"]


async def test_silent_device_times_out() -> None:
    # A hung device: the TCP stack accepts, the application never answers.
    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(256):
            continue  # read and ignore: the device never answers
        writer.close()

    listener = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    tags = {"count": TAGS["count"], "in0": TAGS["in0"]}
    try:
        async with make_source(port, tags, timeout_s=0.2) as source:
            started = time.monotonic()
            batch = await source.read()
            elapsed = time.monotonic() - started
            assert not source.connected  # nothing answered: the next poll reconnects
    finally:
        listener.close()
        await listener.wait_closed()
    assert bad(batch) == {"count", "in0"}
    assert batch.error == "timeout after 0.2s reading holding 0+1 (+1 more)"
    assert 0.35 < elapsed < 1.0
    assert (source.stats.requests, source.stats.errors) == (2, 2)


async def test_one_slow_request_times_out_alone(modbus_server: Server) -> None:
    modbus_server.delays[(3, 140)] = 0.4
    tags = {"count": TAGS["count"], "late": {"address": 140}}
    async with make_source(modbus_server.port, tags, timeout_s=0.15) as source:
        batch = await source.read()
        assert source.connected
    assert values(batch) == {"count": 1234, "late": None}
    assert batch.error == "timeout after 0.15s reading holding 140+1"
    await asyncio.sleep(0.3)  # let the server finish the slow request before teardown


@pytest.mark.parametrize("phase", [0.0, 0.6])
async def test_stream_polls_on_a_drift_free_grid(modbus_server: Server, phase: float) -> None:
    source = make_source(modbus_server.port, {"count": TAGS["count"]}, poll_interval_s=0.1)
    source.phase = phase
    ticks: list[float] = []
    async with source:
        stream = source.stream()
        async for batch in stream:
            assert batch.error is None
            ticks.append(time.time())
            if len(ticks) == 6:
                break
        await stream.aclose()
    # After the first (immediate) poll, polls fall on wall-clock multiples of 0.1 s,
    # plus the phase.
    late = [(t - phase * 0.1) % 0.1 for t in ticks[1:]]
    assert max(late) < 0.03, late
    assert 0.4 <= ticks[-1] - ticks[0] < 0.6


def test_backoff_grows_with_jitter_between_bounds() -> None:
    b = Backoff(0.5, 30.0, random.Random(7))
    delays = [b.next() for _ in range(10)]
    bases = [min(30.0, 0.5 * 2**i) for i in range(10)]
    for d, base in zip(delays, bases, strict=True):
        assert max(0.5, base * 0.8) <= d <= min(30.0, base * 1.2)
    assert delays[0] < delays[3] < delays[6]
    b.reset()
    assert 0.5 <= b.next() <= 0.6


async def test_a_cancelled_poll_always_stops(modbus_server: Server) -> None:
    """pymodbus waits with `asyncio.wait_for`, which before Python 3.12 can swallow a
    cancellation that arrives as the answer does: the poll loop then never ends, and
    neither does the gateway's shutdown. Cancelled at many moments, it always stops."""
    rng = random.Random(5)
    polled: list[SampleBatch] = []
    async with make_source(modbus_server.port, poll_interval_s=0.01) as src:
        for _ in range(200):

            async def drain() -> None:
                async for batch in src.stream():
                    polled.append(batch)

            task = asyncio.create_task(drain())
            await asyncio.sleep(rng.uniform(0, 0.01))
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=2)
            assert done, "the poll loop went on after its cancellation"
    # It polled between the cancellations, and no cancellation left a broken read behind.
    assert len(polled) >= 100
    assert [b.error for b in polled if b.error is not None] == []
