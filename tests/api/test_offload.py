"""History requests in worker processes (`api.offload.HistoryPool`, as the daemon runs
them): the same answers as without a pool, from processes at nice 19 that read the
store file themselves; a worker that dies is a 503 once, then new workers answer."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.offload import NICE, HistoryPool, ReaderSpec
from connectors.sqlite.store import SqliteStore
from core.interfaces import HistoryReader
from edge.config import Config, SqliteConfig
from edge.pipeline.gateway import Gateway
from tests.api.conftest import NOW
from tests.api.expected import RANGE

REQUESTS: list[tuple[str, dict[str, str]]] = [
    ("/api/v1/machines/press1/states", {"from": "2026-11-03T06:00:00Z", "limit": "4"}),
    ("/api/v1/machines/press1/oee", RANGE),
    ("/api/v1/lines/line1/oee", RANGE),
    ("/api/v1/plant/oee", RANGE),
    ("/api/v1/losses", {**RANGE, "line": "line1"}),
    ("/api/v1/machines/press3/tags/product", {"every": "10m"}),
    ("/api/v1/machines/press1/oee", {"from": "2026-08-01T00:00:00Z"}),  # a 422 either way
]


@pytest.fixture
def file_config(plant_config: Config, tmp_path: Path) -> Config:
    """The plant's config reading the plant's store file (as a worker opens it)."""
    return plant_config.model_copy(update={"sqlite": SqliteConfig(path=tmp_path / "plant.sqlite")})


async def _answers(client: httpx.AsyncClient) -> list[tuple[int, Any]]:
    return [((r := await client.get(u, params=p)).status_code, r.json()) for u, p in REQUESTS]


def _client(config: Config, store: SqliteStore, pool: HistoryPool | None) -> httpx.AsyncClient:
    gateway = Gateway(config, sinks=[store], history=store, clock=lambda: NOW)
    app = create_app(config, gateway.live, store, lambda: NOW, control=gateway, pool=pool)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


@pytest.fixture
async def pool() -> AsyncIterator[HistoryPool]:
    p = HistoryPool(2)
    yield p
    p.close()


async def test_a_pool_answers_as_the_api_does_without_one(
    file_config: Config, plant_store: SqliteStore, pool: HistoryPool
) -> None:
    async with _client(file_config, plant_store, None) as here:
        expected = await _answers(here)
    async with _client(file_config, plant_store, pool) as there:
        assert await _answers(there) == expected
    assert [status for status, _ in expected] == [200] * 6 + [422]


async def nice_job(reader: HistoryReader, cpu: Any) -> tuple[int, int, str]:
    """(pid, niceness, the store's type) of the worker that runs it."""
    return os.getpid(), await cpu(lambda: os.nice(0)), type(reader).__name__


async def test_workers_are_processes_at_nice_19_reading_the_store(
    file_config: Config, pool: HistoryPool
) -> None:
    spec = ReaderSpec.of(file_config)
    assert spec == ReaderSpec(sqlite_path=file_config.sqlite.path)  # type: ignore[union-attr]
    pid, nice, reader = await pool.run(spec, nice_job)
    assert (pid != os.getpid(), nice, reader) == (True, NICE, "SqliteHistory")  # read only
    assert NICE == 19


async def test_a_worker_that_dies_is_a_503_once(
    file_config: Config, plant_store: SqliteStore, pool: HistoryPool
) -> None:
    url, params = REQUESTS[1]
    async with _client(file_config, plant_store, pool) as api:
        assert (await api.get(url, params=params)).status_code == 200
        for worker in multiprocessing.active_children():
            os.kill(worker.pid, signal.SIGKILL)  # type: ignore[arg-type]
        await asyncio.sleep(0.5)  # the pool notices
        r = await api.get(url, params=params)
        assert (r.status_code, r.json()) == (503, {"detail": "the history worker stopped; retry"})
        assert (await api.get(url, params=params)).status_code == 200


async def slow_job(reader: HistoryReader, cpu: Any) -> None:
    """Thirty seconds of a worker."""
    await cpu(lambda: time.sleep(30))


async def test_closing_the_pool_stops_a_job_under_way(file_config: Config) -> None:
    pool = HistoryPool(1)
    job = asyncio.ensure_future(pool.run(ReaderSpec.of(file_config), slow_job))
    workers: list[Any] = []
    for _ in range(100):  # until the pool's worker runs it (not another test's process)
        await asyncio.sleep(0.1)
        executor = pool._pool
        if executor is not None and (workers := list(executor._processes.values())):
            break
    (worker,) = workers
    await asyncio.sleep(1.0)
    pool.close()
    worker.join(5)
    assert worker.exitcode == -signal.SIGTERM
    job.cancel()
