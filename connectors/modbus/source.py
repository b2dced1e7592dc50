"""The Modbus TCP source: polls one device on a fixed grid and yields SampleBatches.

pymodbus exceptions stop here: device errors become bad-quality samples and a batch
``error``, never exceptions. We own the reconnect loop (pymodbus' own is disabled) so
that backoff, logging and the offline batches follow one policy. Read functions only:
the gateway never writes to a PLC.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from connectors.common.aio import cancel_checked
from connectors.common.backoff import Backoff
from connectors.common.latency import LatencyHistogram
from connectors.common.outage import OutageLog
from connectors.modbus.config import ModbusConnection, ModbusTag, RegisterTable
from connectors.modbus.decode import DecodeError, RegisterBlock, make_decoder
from connectors.modbus.plan import ReadRequest, plan_reads
from core.types import Quality, Sample, SampleBatch, utc_now

__all__ = ["ModbusSource", "ModbusStats", "exception_name"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_READ_FN = {
    RegisterTable.HOLDING: "read_holding_registers",
    RegisterTable.INPUT: "read_input_registers",
    RegisterTable.COIL: "read_coils",
    RegisterTable.DISCRETE: "read_discrete_inputs",
}


@dataclass(slots=True)
class ModbusStats:
    """Counters for metrics: requests sent, requests failed, successful reconnects."""

    requests: int = 0
    errors: int = 0
    reconnects: int = 0
    connect_failures: int = 0


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
        self._client: AsyncModbusTcpClient | None = None
        self._ever_connected = False
        self._outage = OutageLog(log, f"modbus {machine_id} ({self.endpoint})")
        self._failing: dict[int, str] = {}  # request index -> error, to log changes only
        self._backoff = Backoff(conn.backoff_initial_s, conn.backoff_max_s)

    @property
    def endpoint(self) -> str:
        return f"{self.conn.host}:{self.conn.port}"

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    async def __aenter__(self) -> Self:
        # No I/O here: connecting (and failing to) is the poll loop's business.
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Drop the connection (the next read reconnects)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def connect(self) -> bool:
        """Connect if not connected; False (logged, counted) when the device is unreachable."""
        if self.connected:
            return True
        self.close()
        self._client = AsyncModbusTcpClient(
            self.conn.host,
            port=self.conn.port,
            timeout=self.conn.timeout_s,
            retries=0,  # a retry would double the poll time of a dead device
            reconnect_delay=0,  # 0 disables pymodbus' reconnect task: we own the loop
            name=f"modbus {self.machine_id}",
        )
        try:
            ok = await self._guarded(self._client.connect())
        except (ModbusException, OSError) as exc:
            ok, reason = False, str(exc)
        else:
            reason = "connection refused or timed out"
        if not ok:
            self.close()
            self.stats.connect_failures += 1
            self._outage.down(f"cannot connect: {reason}")
            return False
        if self._ever_connected:
            self.stats.reconnects += 1
        self._outage.up()
        self._ever_connected = True
        return True

    async def read(self) -> SampleBatch:
        """One poll of every planned request. Never raises for device errors."""
        ts = self._clock()
        started = time.perf_counter()
        if not await self.connect():
            return self._all_bad(ts, f"cannot connect to {self.endpoint}")
        samples: list[Sample] = []
        errors: list[str] = []
        timeouts = 0
        for i, req in enumerate(self.plan):
            error = await self._read_request(req, ts, samples)
            if error is not None:
                errors.append(error)
                timeouts += error.startswith("timeout")
            if self.connected:
                self._note(i, req, error)
        if len(errors) < len(self.plan):
            self._backoff.reset()
        elif timeouts:
            # Nothing answered: the link is probably dead (TCP may not notice for
            # minutes), so reconnect instead of waiting out every timeout again.
            self.close()
        if errors and not self.connected:
            self._outage.down(errors[-1])
        self.poll_duration.observe(time.perf_counter() - started)
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

    async def _read_request(self, req: ReadRequest, ts: datetime, out: list[Sample]) -> str | None:
        """Read one request into ``out``; the error text if it failed (tags then bad)."""
        if not self.connected:
            error: str | None = "connection lost"
        else:
            self.stats.requests += 1
            error, values = await self._call(req)
        if error is not None:
            self.stats.errors += 1
            out.extend(Sample(p.name, None, Quality.BAD, ts) for p in req.tags)
            return error
        block = (
            RegisterBlock.from_bits(values)
            if req.table.is_bit
            else RegisterBlock.from_registers(values)
        )
        for p in req.tags:
            out.append(self._sample(p.name, block, p.offset, ts))
        return None

    async def _guarded(self, step: Awaitable[T]) -> T:
        """Await a pymodbus call so that cancelling the poll always stops it: pymodbus
        waits with `asyncio.wait_for`, which before Python 3.12 can swallow a cancellation
        arriving as the answer does (the poll loop would then never end). Its own timeout
        applies; ours only bounds a call that hangs past it (TimeoutError is an OSError)."""
        return await cancel_checked(step, 2 * self.conn.timeout_s + 1.0)

    async def _call(self, req: ReadRequest) -> tuple[str | None, list[Any]]:
        """Send one read; translate pymodbus outcomes into (error text, values)."""
        assert self._client is not None
        fn = getattr(self._client, _READ_FN[req.table])
        where = f"{req.table.value} {req.start}+{req.count}"
        try:
            resp = await self._guarded(fn(req.start, count=req.count, device_id=self.conn.unit_id))
        except ModbusIOException:
            return f"timeout after {self.conn.timeout_s:g}s reading {where}", []
        except ConnectionException:
            return f"connection lost reading {where}", []
        except (ModbusException, OSError) as exc:
            return f"{type(exc).__name__} reading {where}: {exc}", []
        if resp.isError():
            return f"exception {exception_name(resp.exception_code)} reading {where}", []
        values = resp.bits if req.table.is_bit else resp.registers
        if len(values) < req.count:
            return f"short response reading {where}: {len(values)} values", []
        return None, values

    def _sample(self, name: str, block: RegisterBlock, offset: int, ts: datetime) -> Sample:
        try:
            return Sample(name, self._decoders[name](block, offset), Quality.GOOD, ts)
        except DecodeError:
            return Sample(name, None, Quality.BAD, ts)

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


def exception_name(code: int) -> str:
    """A Modbus exception code with its name, e.g. ``2 (illegal_address)``."""
    try:
        return f"{code} ({ExcCodes(code).name.lower()})"
    except ValueError:
        return str(code)


def _summary(errors: list[str]) -> str | None:
    if not errors:
        return None
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return errors[0] + more
