"""SqliteStore and the full OEE model: reasons given to stored stops, OEE details, and
the migration of a schema version 1 file."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from connectors.sqlite.store import SCHEMA_VERSION, SqliteStore
from core.types import (
    CountDelta,
    MachineState,
    Quality,
    ReasonAssigned,
    Sample,
    SampleBatch,
    StateRecord,
)
from edge.config import SqliteConfig
from tests.connectors.oee_report import DOCUMENT, W0, W1, worked_update
from tests.connectors.sqlite.test_sqlite import T0, T0_MS, at, change, oee


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite"


def assign(
    stop: datetime, code: int | None, reason: str | None, machine: str = "m1"
) -> ReasonAssigned:
    return ReasonAssigned(
        machine, stop, MachineState.FAULT, code, reason, stop + timedelta(minutes=10),
        previous_reason_code=3, previous_reason="jam",
    )  # fmt: skip


async def test_a_reason_assigned_updates_the_stored_stop(path: Path) -> None:
    stop = at(1) + timedelta(microseconds=456)  # stored as ms; matched as ms
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([change(0, MachineState.RUNNING), change(1, MachineState.FAULT, "jam")])
        await store.handle([assign(stop, 20, "Motor overload")])
        assert await store.state_history("m1", at(0), at(5)) == [
            StateRecord("m1", MachineState.RUNNING, at(0), None, None),
            StateRecord("m1", MachineState.FAULT, at(1), "Motor overload", 20),
        ]
        await store.handle([assign(stop, None, None)])  # cleared
        assert (await store.state_history("m1", at(0), at(5)))[1] == StateRecord(
            "m1", MachineState.FAULT, at(1), None, None
        )
        # 2 state rows, 2 reasons set, and the 2 changes' audit rows (an operator's).
        assert store.stats.rows_written == 6
        assert (store.stats.reasons_unmatched, store.stats.errors) == (0, 0)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM machine_state ORDER BY ts").fetchall() == [
            ("m1", T0_MS, "running", 1, None, 1.5, None, None, 1, None, None),
            ("m1", T0_MS + 60_000, "fault", 4, None, 1.5, None, None, 1, None, None),
        ]


async def test_a_reason_in_the_batch_of_its_stop_applies_after_the_insert(path: Path) -> None:
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle(
            [
                assign(at(2), 5, "Blocked"),  # before its stop in the batch: still applied
                change(2, MachineState.FAULT, "jam"),
                change(2, MachineState.IDLE, machine="m2"),  # same time, other machine
                assign(at(2), 6, "Starved"),  # the last one wins
            ]
        )
        assert await store.state_history("m1", at(2), at(3)) == [
            StateRecord("m1", MachineState.FAULT, at(2), "Starved", 6)
        ]
        assert await store.state_history("m2", at(2), at(3)) == [
            StateRecord("m2", MachineState.IDLE, at(2), None, None)
        ]
        assert store.stats.rows_written == 6  # 2 inserts, 2 updates, 2 audit rows


async def test_a_reason_for_an_unknown_stop_is_logged_and_counted(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="connectors")
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([change(0, MachineState.FAULT, "jam")])
        await store.handle([assign(at(0), 9, "x", machine="m2"), assign(at(0.5), 9, "x")])
        # The audit keeps both attempts (2 rows) though no stop took them.
        assert (store.stats.reasons_unmatched, store.stats.rows_written) == (2, 3)
        assert await store.state_history("m1", at(0), at(1)) == [
            StateRecord("m1", MachineState.FAULT, at(0), "jam", 3)
        ]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "SQLite store: no stop of machine 'm2' at 2026-11-25T03:00:00.123000+00:00 "
        "to give reason 9 'x'",
        "SQLite store: no stop of machine 'm1' at 2026-11-25T03:00:30.123000+00:00 "
        "to give reason 9 'x'",
    ]


async def test_oee_with_a_report_stores_start_and_details(path: Path) -> None:
    update = worked_update()
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([update])
        (stored,) = await store.oee_history("m1", "1h", W0, W1 + timedelta(seconds=1))
    assert stored.ts == W1 and (stored.availability, stored.oee) == (0.5, 1425 / 3600)
    assert stored.report is None  # the history reader keeps the headline figures only
    with sqlite3.connect(path) as conn:
        start, details = conn.execute("SELECT start, details FROM oee").fetchone()
    assert start == 1795568400000  # 2026-11-25T01:00:00Z
    assert json.loads(details) == DOCUMENT


V1_SCHEMA = """
CREATE TABLE machine_state (
    machine TEXT NOT NULL, ts INTEGER NOT NULL, state TEXT NOT NULL, code INTEGER NOT NULL,
    previous TEXT, duration_s REAL, reason_code INTEGER, reason TEXT, seq INTEGER);
CREATE INDEX machine_state_machine_ts ON machine_state (machine, ts);
CREATE TABLE production (
    machine TEXT NOT NULL, ts INTEGER NOT NULL, total INTEGER NOT NULL, good INTEGER NOT NULL,
    reject INTEGER NOT NULL, product TEXT);
CREATE INDEX production_machine_ts ON production (machine, ts);
CREATE TABLE oee (
    machine TEXT NOT NULL, window TEXT NOT NULL, ts INTEGER NOT NULL,
    availability REAL, performance REAL, quality REAL, oee REAL,
    run_s REAL NOT NULL, planned_s REAL NOT NULL, unknown_s REAL NOT NULL,
    window_s REAL NOT NULL, total INTEGER NOT NULL, good INTEGER NOT NULL,
    reject INTEGER NOT NULL, state_s TEXT NOT NULL);
CREATE INDEX oee_machine_window_ts ON oee (machine, window, ts);
CREATE TABLE tag (
    machine TEXT NOT NULL, tag TEXT NOT NULL, ts INTEGER NOT NULL,
    value REAL, value_str TEXT, quality INTEGER NOT NULL);
CREATE INDEX tag_machine_tag_ts ON tag (machine, tag, ts);
PRAGMA user_version = 1;
"""


def oee_columns(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute("PRAGMA table_info(oee)")]


async def test_a_version_1_file_is_migrated_and_keeps_its_rows(path: Path, tmp_path: Path) -> None:
    with sqlite3.connect(path) as conn:  # what the v1 gateway wrote
        conn.executescript(V1_SCHEMA)
        conn.execute(
            "INSERT INTO machine_state VALUES ('m1', ?, 'fault', 4, 'running', 60.0, 3, 'jam', 7)",
            (T0_MS,),
        )
        conn.execute("INSERT INTO production VALUES ('m1', ?, 5, 4, 1, 'P-1')", (T0_MS,))
        conn.execute(
            "INSERT INTO oee VALUES ('m1', '15m', ?, 0.9, NULL, 1.0, NULL, 810.0, 900.0, 0.0, "
            """900.0, 120, 118, 2, '{"running": 810.0, "idle": 90.0}')""",
            (T0_MS,),
        )
        conn.execute("INSERT INTO tag VALUES ('m1', 'speed', ?, 1.5, NULL, 192)", (T0_MS,))
    conn.close()
    async with SqliteStore(SqliteConfig(path=path)) as store:
        assert await store.state_history("m1", at(0), at(1)) == [
            StateRecord("m1", MachineState.FAULT, T0, "jam", 3)
        ]
        assert await store.count_history("m1", at(0), at(1)) == [
            CountDelta("m1", T0, 5, 4, 1, "P-1")
        ]
        assert await store.oee_history("m1", "15m", at(0), at(1)) == [oee(0)]
        await store.handle([worked_update(), oee(1), assign(T0, 20, "Motor overload")])
        assert await store.state_history("m1", at(0), at(1)) == [
            StateRecord("m1", MachineState.FAULT, T0, "Motor overload", 20)
        ]
        assert await store.oee_history("m1", "15m", at(0), at(5)) == [oee(0), oee(1)]
        # A v1 file's rows of raw values read back with the batches written after them.
        await store.handle([SampleBatch("m1", at(1), (Sample("speed", 2.5, Quality.GOOD, at(1)),))])
        assert await store.tag_history("m1", "speed", at(0), at(2)) == [
            Sample("speed", 1.5, Quality.GOOD, T0),
            Sample("speed", 2.5, Quality.GOOD, at(1)),
        ]
        assert store.stats.errors == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("SELECT start, details FROM oee WHERE window = '15m'").fetchall() == [
            (None, None),
            (None, None),
        ]
        (details,) = conn.execute("SELECT details FROM oee WHERE window = '1h'").fetchone()
        assert json.loads(details) == DOCUMENT
        assert conn.execute("SELECT count(*) FROM tag").fetchone() == (1,)
    conn.close()
    fresh = tmp_path / "fresh.sqlite"
    async with SqliteStore(SqliteConfig(path=fresh)) as created:
        assert created.connected  # a new file, made with the current schema
    assert oee_columns(path) == oee_columns(fresh) == [
        "machine", "window", "ts", "availability", "performance", "quality", "oee", "run_s",
        "planned_s", "unknown_s", "window_s", "total", "good", "reject", "state_s", "start",
        "details",
    ]  # fmt: skip
