"""History work in processes of its own, so that no request can take the polls' CPU.

A range's figures decode and compute a quarter of a million rows: seconds of Python. In
a thread of the gateway's process that still stalls the event loop: the thread holds
the GIL the loop needs after every system call, and the garbage collector traverses
its million objects with every thread stopped (a 92-day OEE gave 11 s polling gaps; a
250,000-row one in a thread still gave 100-250 ms of poll jitter at 20 machines).

So the daemon runs each history request as a *job* in a `HistoryPool`: up to
`api.limits.history_at_once` spawned processes at a lower CPU priority (nice 10),
each reading the store itself (the SQLite file, or InfluxDB) and sending back only the
answer. A job is a module-level `async def job(reader, cpu, *args)`: it reads through
`reader` (a `HistoryReader`) and runs its computing through `await cpu(fn)`. Without a
pool (the tests' apps, an app over a store object) the same job runs here: reads in the
store's threads, computing in a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from api.context import ApiContext, ApiError
from connectors.influxdb.config import InfluxConfig
from core.interfaces import HistoryReader
from core.types import MachineRef
from edge.config import Config
from edge.pipeline.live import machine_refs

__all__ = ["HistoryPool", "ReaderSpec", "close_pool", "run_job"]

log = logging.getLogger(__name__)
T = TypeVar("T")
Cpu = Callable[[Callable[[], Any]], Awaitable[Any]]
Job = Callable[..., Awaitable[T]]

NICE = 19  # the workers take only the CPU the polls leave
TASKS_PER_WORKER = 20  # then a fresh process: what a big job left allocated goes back


@dataclass(frozen=True)
class ReaderSpec:
    """Which store a worker reads, as the gateway builds its reader
    (`edge.pipeline.components.build_sinks`): InfluxDB when configured, else the
    embedded SQLite file."""

    sqlite_path: Path | None = None
    influx: InfluxConfig | None = None
    refs: tuple[tuple[str, MachineRef], ...] = ()

    @classmethod
    def of(cls, config: Config) -> ReaderSpec:
        if config.influxdb is not None:
            return cls(influx=config.influxdb, refs=tuple(machine_refs(config).items()))
        return cls(sqlite_path=config.sqlite_path)


# --------------------------------------------------------------------------- the worker

_loop: asyncio.AbstractEventLoop | None = None
_readers: dict[ReaderSpec, HistoryReader] = {}


def _start_worker() -> None:
    global _loop
    os.nice(NICE)
    _loop = asyncio.new_event_loop()


async def _open(spec: ReaderSpec) -> HistoryReader:
    if spec.influx is not None:
        from connectors.influxdb.influxql import InfluxHistory

        return InfluxHistory(spec.influx, dict(spec.refs))
    from connectors.sqlite.history import SqliteHistory

    assert spec.sqlite_path is not None
    return SqliteHistory(spec.sqlite_path)  # read only: the gateway's store owns the file


async def _here(fn: Callable[[], T]) -> T:
    return fn()  # (the worker has nothing else to do meanwhile)


def _work(spec: ReaderSpec, job: Job[T], args: tuple[Any, ...]) -> T:
    """In the worker: `job` over the reader of `spec` (opened once per process)."""
    assert _loop is not None, "not a history worker"

    async def run() -> T:
        reader = _readers.get(spec)
        if reader is None:
            reader = _readers[spec] = await _open(spec)
        return await job(reader, _here, *args)

    return _loop.run_until_complete(run())


# --------------------------------------------------------------------------- the pool


class HistoryPool:
    """Up to `workers` history worker processes, started at the first job."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                # spawn: a fork would copy a process with threads (the store's, MQTT's)
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                max_tasks_per_child=TASKS_PER_WORKER,
            )
        return self._pool

    async def run(self, spec: ReaderSpec, job: Job[T], *args: Any) -> T:
        """`job(reader, cpu, *args)` in a worker; its ApiError is raised here. A worker
        that died (killed, out of memory) is a 503, and the next job gets a new pool."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), _work, spec, job, args)
        except BrokenProcessPool as exc:
            log.error("a history worker died; starting new ones for the next request")
            self._pool = None
            raise ApiError(503, "the history worker stopped; retry") from exc

    def close(self) -> None:
        """Stop the workers now: a job under way is abandoned (the executor alone would
        let it finish, holding a stopping gateway for its seconds)."""
        if self._pool is None:
            return
        # (Python 3.14 has terminate_workers(); before, the executor's own table)
        workers = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.terminate()
        self._pool = None


def close_pool(app: Any) -> None:
    """Stop the history workers of `app` (the daemon's, when it stops)."""
    pool = app.state.ctx.gate.pool
    if pool is not None:
        pool.close()


async def run_job(ctx: ApiContext, job: Job[T], *args: Any) -> T:
    """`job` in the app's pool, or without one here (reads in the store's threads, the
    computing in a worker thread); one of `history_at_once` at a time either way."""
    async with ctx.gate.slot():
        if ctx.gate.pool is None:
            return await job(ctx.history, asyncio.to_thread, *args)
        result: T = await ctx.gate.pool.run(ReaderSpec.of(ctx.config), job, *args)
        return result
