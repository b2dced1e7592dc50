"""The Modbus TCP source: polls one device on a fixed grid and yields SampleBatches.

Device errors become bad-quality samples and a batch ``error``, never exceptions. Every
answer is checked against its request first (`connectors.modbus.frames`): one that does
not fit is counted and is an error, not data. An outage (the device cannot be reached,
or nothing it says is a proper answer) is logged once at ERROR and ends with one
"reconnected" once it answers properly again, however often the connection is rebuilt
with jittered backoff meanwhile. Read functions only: the gateway never writes to a PLC.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self

from connectors.common.backoff import Backoff
from connectors.common.latency import LatencyHistogram
from connectors.common.outage import OutageLog
from connectors.modbus.blockdecode import BAD, BlockDecoder
from connectors.modbus.config import ModbusConnection, ModbusTag
from connectors.modbus.decode import RegisterBlock, make_decoder
from connectors.modbus.frames import BadAnswer, DeviceException, ReadCall
from connectors.modbus.link import LinkLost, LinkTimeout, ModbusLink
from connectors.modbus.plan import ReadRequest, plan_reads
from core.types import Quality, Sample, SampleBatch, utc_now

__all__ = ["ModbusSource", "ModbusStats"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ModbusStats:
    """Counters for metrics (every int field is exported)."""

    requests: int = 0  # read requests sent
    errors: int = 0  # requests that failed, for whatever reason
    reconnects: int = 0  # outages that ended with a proper answer
    connect_failures: int = 0  # TCP connections refused or timed out
    timeouts: int = 0  # requests without a (complete) answer in time
    bad_answers: int = 0  # answers that did not fit their request: no data
    stale_answers: int = 0  # late answers to an earlier request, skipped


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One request's result: its error (None: fine), and whether the device answered
    properly (with data or a Modbus exception), i.e. whether the link works."""

    error: str | None
    answered: bool


class ModbusSource:
    """Polls one Modbus TCP device (``conn``) for ``tags``; a ``Source`` of SampleBatches."""

    def __init__(
        self,
        machine_id: str,
        conn: ModbusConnection,
        tags: dict[str, ModbusTag],
        *,
        clock: Callable[[], datetime] = utc_now,
        phase: float = 0.0,
    ) -> None:
        self.machine_id = machine_id
        self.conn = conn
        self.phase = phase
        self.plan: tuple[ReadRequest, ...] = plan_reads(tags, conn)  # PlanError: bad config
        self.stats = ModbusStats()
        self.poll_duration = LatencyHistogram()  # read() cycles, for /metrics
        self._clock = clock
        self._decoders = {n: make_decoder(t) for n, t in tags.items()}
        self._blocks = [BlockDecoder(r, self._decoders) for r in self.plan]
        self._calls = [
            ReadCall(conn.unit_id, r.table.function_code, r.start, r.count) for r in self.plan
        ]
        self._link = ModbusLink(conn.host, conn.port, conn.timeout_s)
        self._ever_answered = False
        self._outage = OutageLog(log, f"modbus {machine_id} ({self.endpoint})")
        self._failing: dict[int, str] = {}  # request index -> error, to log changes only
        self._backoff = Backoff(conn.backoff_initial_s, conn.backoff_max_s)

    @property
    def endpoint(self) -> str:
        return f"{self.conn.host}:{self.conn.port}"

    @property
    def connected(self) -> bool:
        return self._link.is_open

    async def __aenter__(self) -> Self:
        # No I/O here: connecting (and failing to) is the poll loop's business.
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Drop the connection (the next read reconnects)."""
        self._link.close()

    async def connect(self) -> bool:
        """Connect if not connected; False (logged, counted) when the device is unreachable.

        A connection the device accepts ends no outage: only a proper answer does.
        """
        if self.connected:
            return True
        try:
            await self._link.open()
        except OSError as exc:  # TimeoutError is one
            self.close()
            self.stats.connect_failures += 1
            self._outage.down(f"cannot connect: {self._connect_failure(exc)}")
            return False
        return True

    async def read(self) -> SampleBatch:
        """One poll of every planned request. Never raises for device errors."""
        ts = self._clock()
        started = time.perf_counter()
        if not await self.connect():
            return self._all_bad(ts, f"cannot connect to {self.endpoint}")
        samples: list[Sample] = []
        outcomes = [await self._read_request(i, ts, samples) for i in range(len(self.plan))]
        self._settle(outcomes)
        self.stats.stale_answers = self._link.stale_answers
        self.poll_duration.observe(time.perf_counter() - started)
        errors = [o.error for o in outcomes if o.error is not None]
        return SampleBatch(self.machine_id, ts, tuple(samples), _summary(errors))

    async def stream(self) -> AsyncIterator[SampleBatch]:
        """Poll every ``poll_interval_s`` on a drift-free grid until cancelled.

        Ticks fall on wall-clock multiples of the interval plus `phase` of it (the
        gateway spreads its machines over the interval). While
        the device is unreachable each failed connect yields an all-bad batch and the
        next attempt waits a jittered, growing backoff.
        """
        interval = self.conn.poll_interval_s
        loop = asyncio.get_running_loop()
        while True:
            if not await self.connect():
                yield self._all_bad(self._clock(), f"cannot connect to {self.endpoint}")
                await asyncio.sleep(self._backoff.next())
                continue
            # Anchor the grid at the last wall-clock multiple of the interval, plus the phase.
            anchor = loop.time() - (time.time() - self.phase * interval) % interval
            tick = 0
            while True:
                yield await self.read()
                if not self.connected:
                    break
                tick = max(tick + 1, int((loop.time() - anchor) / interval) + 1)
                await asyncio.sleep(anchor + tick * interval - loop.time())
            await asyncio.sleep(self._backoff.next())

    async def _read_request(self, index: int, ts: datetime, out: list[Sample]) -> _Outcome:
        """Read request `index` into ``out`` (its tags bad if it failed)."""
        req = self.plan[index]
        outcome, values = await self._call(self._calls[index], req)
        if outcome.error is not None:
            self.stats.errors += 1
            out.extend(Sample(p.name, None, Quality.BAD, ts) for p in req.tags)
            return outcome
        block = (
            RegisterBlock.from_bits(values)
            if req.table.is_bit
            else RegisterBlock.from_registers(values)
        )
        decoder = self._blocks[index]
        good, bad = Quality.GOOD, Quality.BAD
        out.extend(
            Sample(name, None, bad, ts) if v is BAD else Sample(name, v, good, ts)
            for name, v in zip(decoder.names, decoder.values(block), strict=True)
        )
        return outcome

    async def _call(
        self, call: ReadCall, req: ReadRequest
    ) -> tuple[_Outcome, list[int] | list[bool]]:
        """Send one read; every way it can go wrong becomes an error text."""
        where = f"{req.table.value} {req.start}+{req.count}"
        if not self.connected:
            return _Outcome(f"connection lost reading {where}", False), []
        self.stats.requests += 1
        try:
            values = await self._link.read(call)
        except LinkTimeout:
            self.stats.timeouts += 1
            return _Outcome(f"timeout after {self.conn.timeout_s:g}s reading {where}", False), []
        except LinkLost:
            return _Outcome(f"connection lost reading {where}", False), []
        except BadAnswer as exc:
            self.stats.bad_answers += 1
            return _Outcome(f"bad answer reading {where}: {exc}", False), []
        except DeviceException as exc:
            return _Outcome(f"{exc} reading {where}", True), []
        return _Outcome(None, True), values

    def _settle(self, outcomes: list[_Outcome]) -> None:
        """After a poll: end or start an outage, or note the requests that failed."""
        errors = [o.error for o in outcomes if o.error is not None]
        if any(o.answered for o in outcomes):
            self._backoff.reset()
            if self._outage.is_down and self._ever_answered:
                self.stats.reconnects += 1
            self._ever_answered = True
            self._outage.up()
            for i, outcome in enumerate(outcomes):
                self._note(i, self.plan[i], outcome.error)
        elif errors:
            # Nothing answered properly: the link is dead (TCP may not notice for minutes)
            # or talks nonsense, so start afresh instead of waiting out every timeout again.
            self.close()
            self._outage.down(errors[0])

    def _all_bad(self, ts: datetime, error: str) -> SampleBatch:
        samples = tuple(
            Sample(p.name, None, Quality.BAD, ts) for req in self.plan for p in req.tags
        )
        return SampleBatch(self.machine_id, ts, samples, error)

    def _note(self, index: int, req: ReadRequest, error: str | None) -> None:
        # Log a request's error when it starts or changes, not on every poll.
        before = self._failing.get(index)
        if error == before:
            return
        where = self._outage.where
        if error is None:
            del self._failing[index]
            log.info("%s: %s %s readable again", where, req.table.value, req.start)
        else:
            self._failing[index] = error
            log.warning("%s: %s", where, error)

    def _connect_failure(self, exc: OSError) -> str:
        if isinstance(exc, TimeoutError):
            return f"no answer within {self.conn.timeout_s:g}s"
        if isinstance(exc, ConnectionRefusedError):
            return "connection refused"
        if isinstance(exc, socket.gaierror):
            return f"unknown host ({exc.strerror})"
        return exc.strerror or str(exc) or type(exc).__name__


def _summary(errors: list[str]) -> str | None:
    if not errors:
        return None
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return errors[0] + more
