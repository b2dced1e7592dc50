"""The SQLite store's reads for the API: at most `limit` rows, the rows of a range counted
without reading them (`history_rows`), a tag's values counted past the batches without
it, and a long read that never holds up the writes every poll waits for."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.sqlite.store import SqliteStore
from core.types import CountDelta, MachineState, Quality, Sample, SampleBatch, StateRecord
from edge.config import SqliteConfig
from tests.connectors.influxdb.test_influxdb import change

T0 = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)
STATES = [MachineState.RUNNING, MachineState.IDLE, MachineState.FAULT]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(SqliteConfig(path=tmp_path / "reads.sqlite")) as s:
        await s.handle([change(at(i), STATES[i % 3]) for i in range(10)])
        await s.handle([CountDelta("m1", at(i + 0.5), 2, 2, 0, None) for i in range(10)])
        await s.handle([CountDelta("m2", at(i), 1, 1, 0, None) for i in range(3)])
        yield s


async def test_state_history_stops_at_limit_after_the_state_in_force(store: SqliteStore) -> None:
    records = await store.state_history("m1", at(2.5), at(10), limit=3)
    assert [(r.state, r.ts) for r in records] == [
        (MachineState.FAULT, at(2)),  # in force at 02:30
        (MachineState.RUNNING, at(3)),
        (MachineState.IDLE, at(4)),
        (MachineState.FAULT, at(5)),
    ]
    assert len(await store.state_history("m1", at(2.5), at(10))) == 8
    assert await store.state_history("m1", at(2.5), at(10), limit=0) == [
        StateRecord("m1", MachineState.FAULT, at(2), None, None)
    ]


async def test_count_history_stops_at_limit(store: SqliteStore) -> None:
    counts = await store.count_history("m1", at(0), at(10), limit=4)
    assert [c.ts for c in counts] == [at(0.5), at(1.5), at(2.5), at(3.5)]
    assert len(await store.count_history("m1", at(0), at(10))) == 10


async def test_history_rows_counts_states_and_counts_of_the_range(store: SqliteStore) -> None:
    assert await store.history_rows("m1", at(0), at(10)) == 20
    assert await store.history_rows("m1", at(2.5), at(5)) == 2 + 3  # 03, 04; 02:30 03:30 04:30
    assert await store.history_rows("m2", at(0), at(10)) == 3
    assert await store.history_rows("nope", at(0), at(10)) == 0


async def test_tag_history_counts_the_tag_s_values_to_its_limit(store: SqliteStore) -> None:
    """Batches without the tag (a subscription's hold only what changed) are skipped
    before the limit, not counted against it."""
    batches = []
    for i in range(20):
        tag = "speed" if i % 4 == 0 else "temp"
        batches.append(SampleBatch("m1", at(i), [Sample(tag, float(i), Quality.GOOD, at(i))]))
    await store.handle(batches)
    values = await store.tag_history("m1", "speed", at(0), at(20), limit=3)
    assert [(s.value, s.ts) for s in values] == [(0.0, at(0)), (4.0, at(4)), (8.0, at(8))]
    assert len(await store.tag_history("m1", "speed", at(0), at(20))) == 5
    # A value that merely contains the key's text is not the tag.
    odd = Sample("label", '"speed":', Quality.GOOD, at(30))
    await store.handle([SampleBatch("m1", at(30), [odd])])
    assert await store.tag_history("m1", "speed", at(25), at(35), limit=5) == []


def _fill(path: Path, rows: int) -> None:
    """`rows` counts of m1 a second apart, written straight into the file."""
    ms = int(T0.timestamp() * 1000)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO production (machine, ts, total, good, reject, product) "
            "VALUES ('m1', ?, 1, 1, 0, NULL)",
            ((ms + 1000 * i,) for i in range(rows)),
        )


async def test_a_long_read_does_not_hold_up_a_write(tmp_path: Path) -> None:
    path = tmp_path / "long.sqlite"
    async with SqliteStore(SqliteConfig(path=path)) as created:  # the file and its schema
        assert created.connected
    _fill(path, 400_000)
    async with SqliteStore(SqliteConfig(path=path)) as store:
        read = asyncio.create_task(store.count_history("m1", T0, T0 + timedelta(days=30)))
        await asyncio.sleep(0.02)  # the read is under way in its thread
        await store.handle([change(at(1), MachineState.RUNNING)])
        write_done_first = not read.done()
        assert len(await read) == 400_000
    assert write_done_first
