"""Every Modbus answer is checked against its request, and an outage logs two lines.

The peers are the hostile servers of `hostile.py`: real TCP servers that answer with
the wrong function code, the wrong unit id, a byte count or length that does not fit,
garbage, or nothing at all.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import subprocess
from typing import Any

import pytest

from connectors.modbus.source import ModbusSource
from core.types import Quality, SampleBatch
from edge.config import ModbusConnection, ModbusTag

from .hostile import Behaviour, Request, correct, data_pdu, frame, hostile_server, silent

LOGGER = "connectors.modbus.source"
COUNT = {"count": {"address": 0}}


def make_source(port: int, tags: dict[str, dict[str, Any]] = COUNT, **conn: Any) -> ModbusSource:
    settings: dict[str, Any] = {"host": "127.0.0.1", "port": port, "timeout_s": 0.2}
    connection = ModbusConnection(**(settings | conn))
    spec = {n: ModbusTag.model_validate(t) for n, t in tags.items()}
    return ModbusSource("m1", connection, spec)


def quality(batch: SampleBatch) -> dict[str, tuple[object, Quality]]:
    return {s.tag: (s.value, s.quality) for s in batch.samples}


# ------------------------------------------------------------------ hostile answers


def wrong_fc(req: Request) -> bytes:
    """An input-register answer (function code 4) to a holding-register request."""
    return frame(req.tid, req.unit, data_pdu(req, fc=4 if req.fc == 3 else req.fc))


def wrong_unit(req: Request) -> bytes:
    return frame(req.tid, 9, data_pdu(req))


def short_count(req: Request) -> bytes:
    """A byte count (and frame) for one register fewer than asked."""
    return frame(
        req.tid, req.unit, bytes([req.fc, 2 * req.count - 2]) + b"\0" * (2 * req.count - 2)
    )


def long_count(req: Request) -> bytes:
    """One register more than asked, consistent in itself."""
    words = struct.pack(f">{req.count + 1}H", *range(7, 8 + req.count))
    return frame(req.tid, req.unit, bytes([req.fc, len(words)]) + words)


def count_beyond_frame(req: Request) -> bytes:
    """A byte count that promises more data than the frame carries."""
    return frame(req.tid, req.unit, bytes([req.fc, 2 * req.count + 2]) + b"\0" * 2 * req.count)


def unknown_fc(req: Request) -> bytes:
    return frame(req.tid, req.unit, b"\x55\x01\x02")


def foreign_exception(req: Request) -> bytes:
    """An exception answer, but to function code 4."""
    return frame(req.tid, req.unit, b"\x84\x02")


def not_modbus(req: Request) -> bytes:
    return b"HTTP/1.1 400 Bad Request\r\n\r\n"


WHERE = "holding 0+3"
CASES: dict[str, tuple[Behaviour, str]] = {
    "wrong function code": (wrong_fc, "function code 4, expected 3"),
    "wrong unit id": (wrong_unit, "unit id 9, expected 1"),
    "byte count short": (short_count, "byte count 4, expected 6 for 3 registers"),
    "byte count long": (long_count, "byte count 8, expected 6 for 3 registers"),
    "byte count past the frame": (count_beyond_frame, "byte count 8 but 6 data bytes"),
    "unknown function code": (unknown_fc, "function code 85, expected 3"),
    "exception to another request": (foreign_exception, "function code 132, expected 3"),
    "not modbus": (not_modbus, "protocol id 0x5450, expected 0 (not Modbus TCP?)"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_an_answer_that_does_not_fit_its_request_is_no_data(
    case: str, caplog: pytest.LogCaptureFixture
) -> None:
    behaviour, why = CASES[case]
    caplog.set_level(logging.DEBUG)
    words = {"words": {"address": 0, "type": "string", "length": 3}}
    async with hostile_server(behaviour) as server, make_source(server.port, words) as src:
        batch = await src.read()
        connected = src.connected
    assert batch.error == f"bad answer reading {WHERE}: {why}"
    assert quality(batch) == {"words": (None, Quality.BAD)}
    assert (src.stats.requests, src.stats.errors, src.stats.bad_answers) == (1, 1, 1)
    assert not connected  # nothing answered properly: the next poll starts a fresh connection
    assert [
        (r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO
    ] == [(LOGGER, "ERROR", f"modbus m1 (127.0.0.1:{server.port}): {batch.error}")]
    assert not [r for r in caplog.records if r.exc_info]


def mbpoll(port: int) -> subprocess.CompletedProcess[str]:
    """mbpoll (libmodbus) reads holding registers 0..2 once."""
    argv = ["mbpoll", "-m", "tcp", "-a", "1", "-t", "4", "-0", "-r", "0", "-c", "3", "-1"]
    argv += ["-o", "0.5", "-p", str(port), "127.0.0.1"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=10)


@pytest.mark.parametrize("case", [None, *(c for c in CASES if c != "wrong unit id")])
async def test_mbpoll_judges_the_hostile_answers_alike(case: str | None) -> None:
    """An independent client (libmodbus) reads the correct answer and refuses every
    faulty one (it lets a wrong unit id through over TCP: the gateway is stricter)."""
    behaviour = correct if case is None else CASES[case][0]
    async with hostile_server(behaviour) as server:
        done = await asyncio.to_thread(mbpoll, server.port)
    if case is None:
        assert done.returncode == 0
        assert "[0]: \t1000\n[1]: \t1001\n[2]: \t1002\n" in done.stdout
    else:
        assert done.returncode == 1
        assert "Read output (holding) register failed: " in done.stderr


async def test_one_bad_answer_spoils_only_its_own_request(caplog: pytest.LogCaptureFixture) -> None:
    """Holding registers come back with function code 4, input registers are fine: the
    device is up, one request is wrong, and that is logged once, not per poll."""
    caplog.set_level(logging.DEBUG)
    tags: dict[str, dict[str, Any]] = {
        "count": {"address": 0},
        "in0": {"table": "input", "address": 0},
    }
    async with hostile_server(wrong_fc) as server, make_source(server.port, tags) as src:
        batches = [await src.read() for _ in range(3)]
        assert src.connected
    for batch in batches:
        assert batch.error == "bad answer reading holding 0+1: function code 4, expected 3"
        assert quality(batch) == {"count": (None, Quality.BAD), "in0": (1000, Quality.GOOD)}
    assert (src.stats.requests, src.stats.errors, src.stats.bad_answers) == (6, 3, 3)
    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
    assert logged == [("WARNING", f"modbus m1 (127.0.0.1:{server.port}): {batches[0].error}")]


async def test_a_stale_answer_is_skipped_for_the_right_one() -> None:
    """An answer with an older transaction id (to a request that timed out) is not the
    answer to this request: it is skipped, and the right one is taken."""

    def late_then_right(req: Request) -> bytes:
        stale = frame((req.tid - 1) & 0xFFFF, req.unit, b"\x03\x02\x00\x63")
        return stale + correct(req)

    async with hostile_server(late_then_right) as server, make_source(server.port) as src:
        batches = [await src.read(), await src.read()]
    for batch in batches:
        assert (batch.error, quality(batch)) == (None, {"count": (1000, Quality.GOOD)})
    assert (src.stats.stale_answers, src.stats.bad_answers) == (2, 0)


# ------------------------------------------------------------------ one outage, two lines


class Switch:
    """A behaviour that can be changed while the server runs."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.now = behaviour

    def __call__(self, req: Request) -> bytes | list[bytes] | None:
        return self.now(req)


OUTAGES: dict[str, tuple[Behaviour, str]] = {
    "never answers": (silent, "timeout after 0.1s reading holding 0+1"),
    **{
        case: (CASES[case][0], f"bad answer reading holding 0+1: {CASES[case][1]}")
        for case in ("not modbus", "unknown function code", "wrong function code", "wrong unit id")
    },
}


@pytest.mark.parametrize("case", list(OUTAGES))
async def test_an_outage_is_one_error_and_one_reconnected_line(
    case: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A device that accepts the connection and then never answers (or answers nonsense)
    for ~1 s of fast polls and backoff is one outage: one ERROR, one "reconnected" once
    it answers properly again; nothing from the libraries underneath, no traceback."""
    behaviour, why = OUTAGES[case]
    caplog.set_level(logging.DEBUG)
    switch = Switch(correct)
    async with hostile_server(switch) as server:
        src = make_source(server.port, poll_interval_s=0.05, timeout_s=0.1,
                          backoff_initial_s=0.02, backoff_max_s=0.05)  # fmt: skip
        seen: list[SampleBatch] = []
        async with src:
            stream = src.stream()
            seen.append(await anext(stream))
            switch.now = behaviour
            ends = asyncio.get_running_loop().time() + 1.0
            while asyncio.get_running_loop().time() < ends:
                seen.append(await asyncio.wait_for(anext(stream), 5))
            attempts = server.connections
            switch.now = correct
            seen.append(await asyncio.wait_for(anext(stream), 5))
            while seen[-1].error is not None:
                seen.append(await asyncio.wait_for(anext(stream), 5))
            await stream.aclose()
    where = f"modbus m1 (127.0.0.1:{server.port})"
    visible = [
        (r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO
    ]
    assert visible == [
        (LOGGER, "ERROR", f"{where}: {why}"),
        (LOGGER, "INFO", f"{where}: reconnected"),
    ]
    assert not [r for r in caplog.records if r.exc_info]
    assert quality(seen[0]) == quality(seen[-1]) == {"count": (1000, Quality.GOOD)}
    assert all(s.quality is Quality.BAD for b in seen[1:-1] for s in b.samples)
    assert src.stats.reconnects == 1
    assert attempts >= 4  # it did try again (and again) during the outage
