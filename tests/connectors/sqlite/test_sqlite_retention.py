"""Retention of the embedded store: rows past their age go, in chunks, the rest stays."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

import connectors.sqlite.retention as retention
from connectors.sqlite.store import SqliteStore
from core.types import CountDelta, MachineState, Quality, Sample, SampleBatch, StateChange
from edge.config import SqliteConfig
from oee.countlog import micros
from tests.connectors.sqlite.test_sqlite import T0, oee

DAY = timedelta(days=1)
# The store's own prunes (a minute after it opens, then every minute) go by its clock:
# a year early, they would prune nothing. These tests prune by hand, at T0.
A_YEAR_EARLY = lambda: T0 - 365 * DAY  # noqa: E731


def rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def state(age: timedelta, s: MachineState = MachineState.RUNNING) -> StateChange:
    return StateChange("m1", s, None, T0 - age, None, None, 1)


def tags(age: timedelta, n: int = 1) -> SampleBatch:
    ts = T0 - age
    return SampleBatch("m1", ts, tuple(Sample(f"t{i}", i, Quality.GOOD, ts) for i in range(n)))


async def test_each_kind_of_row_is_kept_for_its_own_age(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    config = SqliteConfig(path=path, retention_days=30, tag_retention_days=1)
    async with SqliteStore(config, clock=A_YEAR_EARLY) as store:
        await store.handle([state(31 * DAY), state(29 * DAY, MachineState.IDLE)])
        await store.handle(
            [CountDelta("m1", T0 - 40 * DAY, 5, 5, 0), CountDelta("m1", T0, 1, 1, 0)]
        )
        await store.handle([oee(-60 * 24 * 31), oee(-60 * 24 * 31, "1h"), oee(0)])
        await store.handle([tags(2 * DAY, 3), tags(timedelta(hours=23), 2)])
        await store.drain()
        assert store.stats.rows_pruned == 0
        assert await store.prune(T0) == 1 + 1 + 2 + 1  # a poll's values are one row
        assert store.stats.rows_pruned == 5
        assert await store.prune(T0) == 0
    assert [rows(path, t) for t in ("machine_state", "production", "oee", "tag_batch")] == [
        1,
        1,
        1,
        1,
    ]


async def test_null_keeps_rows_for_ever(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    config = SqliteConfig(path=path, retention_days=None, tag_retention_days=None)
    async with SqliteStore(config, clock=lambda: T0) as store:
        await store.handle([state(5000 * DAY), tags(5000 * DAY, 4)])
        assert await store.prune(T0) == 0
    assert (rows(path, "machine_state"), rows(path, "tag_batch")) == (1, 1)


async def test_a_long_backlog_goes_a_chunk_per_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "CHUNK", 7)
    path = tmp_path / "store.sqlite"
    config = SqliteConfig(path=path, tag_retention_days=1)
    async with SqliteStore(config, clock=A_YEAR_EARLY) as store:
        await store.handle([tags(3 * DAY)] * 50 + [tags(timedelta(0))] * 5)
        await store.drain()
        deleted: list[int] = []  # per transaction on `tag_batch`
        real = retention.prune_chunk

        def counted(conn: sqlite3.Connection, table: str, cutoff: int) -> tuple[int, bool]:
            n, more = real(conn, table, cutoff)
            if table == "tag_batch":
                deleted.append(n)
            return n, more

        monkeypatch.setattr("connectors.sqlite.store.prune_chunk", counted)
        assert await store.prune(T0) == 50
    # 50 old rows in rowid chunks of 7; the eighth chunk meets the young rows and stops.
    assert deleted == [7] * 7 + [1]
    assert rows(path, "tag_batch") == 5


async def test_a_row_stored_out_of_order_waits_for_the_rows_before_it(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    async with SqliteStore(
        SqliteConfig(path=path, tag_retention_days=1), clock=lambda: T0
    ) as store:
        await store.handle([tags(3 * DAY), tags(timedelta(0)), tags(4 * DAY)])
        assert await store.prune(T0) == 1
        assert rows(path, "tag_batch") == 2
        assert await store.prune(T0 + 2 * DAY) == 2  # the young one aged: both go
    assert rows(path, "tag_batch") == 0


async def test_rows_of_the_legacy_tag_table_age_out_too(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    async with SqliteStore(SqliteConfig(path=path, tag_retention_days=1), clock=A_YEAR_EARLY):
        pass  # creates the file (schema 4 keeps the `tag` table of older files)
    with sqlite3.connect(path) as conn:  # rows a gateway before schema 4 wrote
        for age in (2 * DAY, timedelta(hours=1)):
            ms = micros(T0 - age) // 1000
            conn.execute("INSERT INTO tag VALUES ('m1', 'speed', ?, 1.5, NULL, 192)", (ms,))
    conn.close()
    async with SqliteStore(SqliteConfig(path=path, tag_retention_days=1), clock=A_YEAR_EARLY) as s:
        assert await s.prune(T0) == 1
    assert rows(path, "tag") == 1


async def test_the_store_prunes_by_itself_a_minute_after_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SqliteConfig(path=tmp_path / "store.sqlite", tag_retention_days=1)
    async with SqliteStore(config, clock=lambda: T0) as store:
        await store.handle([tags(3 * DAY)])
        await store.drain()
        assert store.stats.rows_pruned == 0  # not within its first minute
    monkeypatch.setattr("connectors.sqlite.store.PRUNE_EVERY_S", 0.0)
    async with SqliteStore(config, clock=lambda: T0) as store:
        await store.handle([tags(timedelta(0))])  # a write after the prune is due
        await store.drain()
        assert store.stats.rows_pruned == 1
    assert rows(config.path, "tag_batch") == 1


def test_retention_must_be_positive() -> None:
    with pytest.raises(ValueError, match="0 is out of range: write a number of days from 1 to"):
        SqliteConfig(retention_days=0)
