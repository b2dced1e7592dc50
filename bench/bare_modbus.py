"""The floor for Python: a bare pymodbus loop that only reads.

    .venv/bin/python -m bench.bare_modbus LOAD.json --stats OUT.json

One `AsyncModbusTcpClient` per machine (one connection per device, as a gateway has),
each reading holding registers 0..`registers`-1 of its unit at a fixed rate: the next
deadline is the previous one + interval (no drift); a poll that could not start before
the following deadline is skipped (counted in "missed"). The machines' first deadlines
are spread evenly over one interval, as a gateway staggers them. Nothing is decoded,
stored or sent.

`--slots N` puts the machines into N groups that each poll at once, the groups spread
over the interval (the gateway's default: one slot per 25 machines, at most 20); the
default, one slot per machine, spreads them evenly.

Stats (written every second, in case the process is killed, and on SIGTERM/SIGINT):
``{"requests", "values", "errors", "missed", "elapsed_s", "lateness_ms": {"p50", "p99",
"max"}, "answer_ms": {...}, "answer_buckets": {µs: count}}``: requests sent (answered or
not), registers received, failed requests (exception answer, timeout, no connection),
deadlines skipped, seconds since the first deadline, how late each poll started after
its deadline, and how long after its deadline each answer arrived (the part of a
sample's latency that the simulators and the client library set, whoever reads; the
buckets let a reader take the percentiles of a window).

Plain asyncio, no uvloop: the gateway runs on the default event loop, so the floor
does too. Client: timeout 3 s, retries 0 (the next deadline is the retry);
pymodbus reconnects a lost connection by itself; a machine that could not be reached
at start is connected again at each of its deadlines until it answers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pymodbus.client import AsyncModbusTcpClient

from bench.endpoints import Load, Machine

__all__ = ["Lateness", "Stats", "main", "run_until_stopped"]

TIMEOUT_S = 3.0
WRITE_EVERY_S = 1.0  # bench.load reads it before and after its window


class Lateness:
    """A histogram of lateness: 1 µs buckets below 1 ms, then 1 % wide ones (a
    percentile is exact below 1 ms and within 1 % above); the maximum is exact."""

    _LOG_STEP = math.log(1.01)

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.max_s = 0.0
        self.count = 0

    def add(self, late_s: float) -> None:
        us = late_s * 1e6
        if us < 1000.0:
            key = max(0, int(us))
        else:  # the bucket's lower bound, in µs
            key = int(
                1000.0 * math.exp(int(math.log(us / 1000.0) / self._LOG_STEP) * self._LOG_STEP)
            )
        self.buckets[key] += 1
        self.count += 1
        if late_s > self.max_s:
            self.max_s = late_s

    def percentile_ms(self, q: float) -> float:
        if not self.count:
            return 0.0
        rank = q / 100.0 * self.count
        seen = 0
        for key in sorted(self.buckets):
            seen += self.buckets[key]
            if seen >= rank:
                return key / 1000.0
        return self.max_s * 1000.0

    @classmethod
    def of_buckets(cls, buckets: dict[int, int]) -> Lateness:
        """A histogram of these bucket counts (its maximum: the highest bucket's bound)."""
        h = cls()
        for key, n in buckets.items():
            if n > 0:
                h.buckets[key] += n
                h.count += n
                h.max_s = max(h.max_s, key / 1e6)
        return h

    def summary(self) -> dict[str, float]:
        return {
            "p50": round(self.percentile_ms(50), 3),
            "p99": round(self.percentile_ms(99), 3),
            "max": round(self.max_s * 1000.0, 3),
        }


class Stats:
    """What a bare loop counts; `write(path)` replaces `path` atomically."""

    def __init__(self) -> None:
        self.requests = 0
        self.values = 0
        self.errors = 0
        self.missed = 0
        self.lateness = Lateness()
        self.answer = Lateness()
        self.started: float | None = None  # loop time of the first deadline
        self.stopped: float | None = None

    def elapsed_s(self) -> float:
        if self.started is None:
            return 0.0
        end = self.stopped if self.stopped is not None else asyncio.get_running_loop().time()
        return max(0.0, end - self.started)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "values": self.values,
            "errors": self.errors,
            "missed": self.missed,
            "elapsed_s": round(self.elapsed_s(), 3),
            "lateness_ms": self.lateness.summary(),
            "answer_ms": self.answer.summary(),
            "answer_buckets": dict(self.answer.buckets),
        }

    def write(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.as_dict()) + "\n", encoding="utf-8")
        os.replace(tmp, path)


async def run_until_stopped(
    stats: Stats,
    out: Path,
    start: Callable[[asyncio.Event], list[Awaitable[None]]],
    close: Callable[[], Awaitable[None]],
) -> None:
    """Run the loops `start(stop)` returns until SIGTERM/SIGINT, writing `stats` to `out`
    every WRITE_EVERY_S and at the end (also if a loop fails)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.ensure_future(a) for a in start(stop)]
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WRITE_EVERY_S)
            if stats.started is not None:
                stats.write(out)
            failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception()]
            if failed:
                raise failed[0].exception()  # type: ignore[misc]
    finally:
        stats.stopped = loop.time()
        # The loops also watch `stop`, so one that swallows its cancellation (asyncio
        # before 3.12) still ends at its next deadline; the stats do not wait for it.
        stop.set()
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(close(), 5.0)
        stats.write(out)


async def paced(
    read: Callable[[], Awaitable[int]],
    first: float,
    interval: float,
    stats: Stats,
    stop: asyncio.Event,
) -> None:
    """Call `read` (it returns the values read) at a fixed rate from loop time `first`
    until `stop`: the next deadline is the last plus `interval` (no drift); a deadline
    whose whole slot has passed is skipped and counted in `missed`. An error never ends
    the loop."""
    loop = asyncio.get_running_loop()
    deadline = first
    while not stop.is_set():
        delay = deadline - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        late = loop.time() - deadline
        stats.lateness.add(late if late > 0 else 0.0)
        stats.requests += 1
        try:
            stats.values += await read()
            stats.answer.add(loop.time() - deadline)
        except asyncio.CancelledError:
            raise
        except Exception:
            stats.errors += 1
        deadline += interval
        now = loop.time()
        if now >= deadline + interval:  # the next slot too has passed: skip to the current one
            skipped = int((now - deadline) / interval)
            stats.missed += skipped
            deadline += skipped * interval


def _reader(client: AsyncModbusTcpClient, machine: Machine) -> Callable[[], Awaitable[int]]:
    count, unit = machine.registers, machine.unit
    connected = client.connected

    async def read() -> int:
        nonlocal connected
        if not connected:
            connected = await client.connect()  # never reached yet: pymodbus won't retry
            if not connected:
                raise ConnectionError("cannot connect")
        rr = await client.read_holding_registers(0, count=count, device_id=unit)
        if rr.isError():
            raise ConnectionError(f"exception {rr.exception_code}")
        return len(rr.registers)

    return read


def first_deadlines(t0: float, interval: float, machines: int, slots: int) -> list[float]:
    """Each machine's first deadline: `slots` groups of machines spread over the interval
    from `t0`, machine i in group i * slots // machines."""
    slots = max(1, min(slots, machines))
    return [t0 + (i * slots // machines) * interval / slots for i in range(machines)]


async def run(load: Load, out: Path, slots: int | None = None) -> Stats:
    """Poll `load` until SIGTERM/SIGINT (in `slots` groups; default one per machine);
    the final stats."""
    if load.protocol != "modbus":
        raise ValueError(f"a Modbus load is needed (got {load.protocol!r})")
    stats = Stats()
    clients = [
        AsyncModbusTcpClient(m.host, port=m.port, timeout=TIMEOUT_S, retries=0)
        for m in load.machines
    ]
    await asyncio.gather(*(c.connect() for c in clients))
    loop = asyncio.get_running_loop()
    n = len(load.machines)
    t0 = loop.time() + 0.1
    stats.started = t0
    firsts = first_deadlines(t0, load.interval_s, n, slots or n)

    def start(stop: asyncio.Event) -> list[Awaitable[None]]:
        return [
            paced(_reader(c, m), first, load.interval_s, stats, stop)
            for first, c, m in zip(firsts, clients, load.machines, strict=True)
        ]

    async def close() -> None:
        for c in clients:
            c.close()

    await run_until_stopped(stats, out, start, close)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_modbus", description=__doc__)
    parser.add_argument("load", type=Path, help="Load JSON (bench.endpoints.Load)")
    parser.add_argument("--stats", type=Path, required=True, help="stats JSON to write")
    parser.add_argument("--slots", type=int, help="groups polled at once (default: one a machine)")
    args = parser.parse_args(argv)
    # pymodbus logs every failed request; the stats count them.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    stats = asyncio.run(run(Load.load(args.load), args.stats, args.slots))
    print(json.dumps(stats.as_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
