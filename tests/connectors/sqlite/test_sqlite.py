"""SqliteStore: round trips of all four tables, history reads, persistence, schema."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.sqlite.store import SCHEMA_VERSION, SqliteStore
from core.types import (
    CountDecision,
    CountDelta,
    MachineState,
    OeeUpdate,
    Quality,
    Sample,
    SampleBatch,
    StateChange,
    StateRecord,
    SuspectCount,
)
from edge.config import SqliteConfig

T0 = datetime(2026, 11, 25, 3, 0, 0, 123000, tzinfo=UTC)
T0_MS = 1795575600123


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def change(minutes: float, state: MachineState, reason: str | None = None, machine: str = "m1"):
    return StateChange(
        machine, state, None, at(minutes), None, 1.5, 1, 3 if reason else None, reason
    )


def oee(minutes: float, window: str = "15m", machine: str = "m1") -> OeeUpdate:
    return OeeUpdate(
        machine, window, at(minutes), 0.9, None, 1.0, None, 810.0, 900.0, 0.0, 900.0, 120, 118, 2,
        {"running": 810.0, "idle": 90.0},
    )  # fmt: skip


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "deep" / "dir" / "store.sqlite"  # parents are created


async def test_state_history_includes_the_record_before_start(path: Path) -> None:
    async with SqliteStore(SqliteConfig(path=path)) as store:
        assert store.connected
        await store.handle(
            [
                change(0, MachineState.RUNNING),
                change(1, MachineState.FAULT, "jam"),
                change(1.5, MachineState.OFFLINE, machine="m2"),
                change(2, MachineState.IDLE),
                change(3, MachineState.RUNNING),
            ]
        )
        assert await store.state_history("m1", at(1.5), at(3)) == [
            StateRecord("m1", MachineState.FAULT, at(1), "jam", 3),
            StateRecord("m1", MachineState.IDLE, at(2), None),
        ]
        assert await store.state_history("m1", at(-10), at(0)) == []
        assert await store.state_history("m1", at(0), at(1)) == [
            StateRecord("m1", MachineState.RUNNING, at(0), None)
        ]
        assert await store.state_history("m2", at(5), at(6)) == [
            StateRecord("m2", MachineState.OFFLINE, at(1.5), None)
        ]
    assert not store.connected


async def test_count_and_oee_history(path: Path) -> None:
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle(
            [
                CountDelta("m1", at(0), 5, 4, 1, "P-1"),
                CountDelta("m1", at(1), 3, 3, 0),
                CountDelta("m2", at(1), 9, 9, 0),
                oee(0),
                oee(1, "1h"),
                oee(2),
            ]
        )
        assert await store.count_history("m1", at(0), at(1)) == [
            CountDelta("m1", at(0), 5, 4, 1, "P-1")
        ]
        assert await store.count_history("m1", at(0), at(5)) == [
            CountDelta("m1", at(0), 5, 4, 1, "P-1"),
            CountDelta("m1", at(1), 3, 3, 0, None),
        ]
        assert await store.oee_history("m1", "15m", at(0), at(10)) == [oee(0), oee(2)]
        assert await store.oee_history("m1", "1h", at(0), at(10)) == [oee(1, "1h")]


async def test_a_poll_is_one_row_and_each_tag_reads_back(path: Path) -> None:
    late = T0 + timedelta(milliseconds=250)  # an OPC UA value's own source time
    batch = SampleBatch(
        "m1",
        T0,
        (
            Sample("speed", 1.5, Quality.GOOD, T0),
            Sample("on", True, Quality.GOOD, T0),
            Sample("recipe", "R7", Quality.UNCERTAIN, late),
            Sample("lost", None, Quality.BAD, T0),
        ),
    )
    later = SampleBatch("m1", at(1), (Sample("speed", 2, Quality.GOOD, at(1)),))
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([batch, later])
        assert await store.tag_history("m1", "speed", at(0), at(2)) == [
            Sample("speed", 1.5, Quality.GOOD, T0),
            Sample("speed", 2, Quality.GOOD, at(1)),
        ]
        assert await store.tag_history("m1", "recipe", at(0), at(2)) == [
            Sample("recipe", "R7", Quality.UNCERTAIN, late)
        ]
        assert await store.tag_history("m1", "on", at(0), at(1)) == [
            Sample("on", True, Quality.GOOD, T0)
        ]
        assert await store.tag_history("m1", "lost", at(0.5), at(2)) == []
        assert await store.tag_history("m2", "speed", at(0), at(2)) == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM tag_batch ORDER BY rowid").fetchall() == [
            (
                "m1",
                T0_MS,
                '{"speed":[1.5,192],"on":[true,192],"recipe":["R7",64,1795575600373],'
                '"lost":[null,0]}',
            ),
            ("m1", T0_MS + 60_000, '{"speed":[2,192]}'),
        ]
        assert conn.execute("SELECT count(*) FROM tag").fetchone() == (0,)
        assert conn.execute("SELECT * FROM machine_state").fetchall() == []
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


async def test_one_handle_call_is_one_transaction(path: Path) -> None:
    full = StateChange("m1", MachineState.FAULT, MachineState.RUNNING, T0, at(-1), 60.0, 9, 4, "x")
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([full, CountDelta("m1", T0, 1, 1, 0), oee(0)])
        assert store.stats.rows_written == 3
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM machine_state").fetchall() == [
            ("m1", T0_MS, "fault", 4, "running", 60.0, 4, "x", 9, None, None)
        ]
        assert conn.execute("SELECT count(*) FROM production").fetchone() == (1,)
        assert conn.execute("SELECT * FROM oee").fetchall() == [
            (
                "m1", "15m", T0_MS, 0.9, None, 1.0, None, 810.0, 900.0, 0.0, 900.0, 120, 118, 2,
                '{"running": 810.0, "idle": 90.0}', None, None,
            )
        ]  # fmt: skip


async def test_calls_waiting_meanwhile_share_one_transaction_in_order(path: Path) -> None:
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([CountDelta("m1", at(0), 1, 1, 0)])
        calls = [store.handle([CountDelta(f"m{i}", at(i), i, i, 0)]) for i in range(1, 41)]
        await asyncio.gather(*calls)
        assert (store.stats.commits, store.stats.rows_written) == (2, 41)
        first = asyncio.create_task(store.handle([change(0, MachineState.RUNNING)]))
        await asyncio.sleep(0)
        first.cancel()  # its write happens all the same
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT machine, total FROM production ORDER BY rowid").fetchall()
        assert rows == [("m1", 1)] + [(f"m{i}", i) for i in range(1, 41)]
        assert conn.execute("SELECT count(*) FROM machine_state").fetchone() == (1,)


async def test_data_persists_across_close_and_reopen(path: Path) -> None:
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([change(0, MachineState.RUNNING), CountDelta("m1", at(0), 2, 2, 0)])
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([change(1, MachineState.IDLE), oee(1)])
        assert await store.state_history("m1", at(0), at(5)) == [
            StateRecord("m1", MachineState.RUNNING, at(0), None),
            StateRecord("m1", MachineState.IDLE, at(1), None),
        ]
        assert await store.count_history("m1", at(0), at(5)) == [
            CountDelta("m1", at(0), 2, 2, 0, None)
        ]
        assert await store.oee_history("m1", "15m", at(0), at(5)) == [oee(1)]


async def test_handle_on_a_closed_store_is_logged_not_raised(path: Path) -> None:
    store = SqliteStore(SqliteConfig(path=path))
    await store.handle([change(0, MachineState.RUNNING)])
    assert store.stats.errors == 1


async def test_a_newer_schema_is_refused(path: Path) -> None:
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer than this gateway"):
        async with SqliteStore(SqliteConfig(path=path)):
            pytest.fail("a store with a newer schema was opened")


async def test_suspect_counts_and_decisions_are_kept(path: Path) -> None:
    """Issue 15 (schema 5): a held count and the decision on it, as on MQTT."""
    held = SuspectCount("m1", at(1), 65135, 65135, 0, None, 1, "total", 11, 1.0)
    decided = CountDecision(
        "m1", at(2), "discard", "supervisor", 65135, 65135, 0, None, 1, "PLC restart", 1
    )
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([held, decided])
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM suspect_count").fetchall() == [
            ("m1", T0_MS + 60_000, 65135, 65135, 0, None, "total", 11, 1.0, 1)
        ]
        assert conn.execute("SELECT * FROM count_decision").fetchall() == [
            (
                "m1",
                T0_MS + 120_000,
                "discard",
                "supervisor",
                65135,
                65135,
                0,
                1,
                None,
                "PLC restart",
                1,
            )
        ]
