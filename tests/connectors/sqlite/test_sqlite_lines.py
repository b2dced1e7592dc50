"""The SQLite store's `line_oee` table (schema version 3): rows of the hand-computed
two-machine line (tests/connectors/line_report.py), and the migration of a version 2 file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from connectors.sqlite.store import SCHEMA_VERSION, SqliteStore
from core.types import MachineState, StateRecord
from edge.config import SqliteConfig
from tests.connectors.line_report import (
    BOTTLENECK,
    BOTTLENECK_RATIOS,
    DETAILS,
    LOSS_ROWS,
    M1_RATIOS,
    M2_RATIOS,
    SUM_RATIOS,
    SUMS,
    line,
)
from tests.connectors.oee_report import worked_update
from tests.connectors.sqlite.test_sqlite import T0, T0_MS, at, oee
from tests.connectors.sqlite.test_sqlite_model import V1_SCHEMA

W0_MS, W1_MS = 1795568400000, 1795572000000  # 2026-11-25T01:00Z and 02:00Z
LINE_COLUMNS = [
    "line", "window", "ts", "availability", "performance", "quality", "oee", "run_s",
    "planned_s", "unknown_s", "window_s", "total", "good", "reject", "mode", "bottleneck",
    "start", "details",
]  # fmt: skip
# What the v2 gateway (this week's, unreleased) left in developers' data dirs.
V2_SCHEMA = (
    V1_SCHEMA.replace("PRAGMA user_version = 1;", "")
    + """
ALTER TABLE oee ADD COLUMN start INTEGER;
ALTER TABLE oee ADD COLUMN details TEXT;
PRAGMA user_version = 2;
"""
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite"


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        cols = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    conn.close()
    return cols


def rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        got = conn.execute(f"SELECT {', '.join(LINE_COLUMNS)} FROM line_oee ORDER BY mode DESC")
        out = got.fetchall()
    conn.close()
    return out


def row(mode: str, bottleneck: str | None, ratios: dict[str, float]) -> tuple[object, ...]:
    """The stored row of the line in `mode`, from the hand-computed figures."""
    r, s = ratios, SUMS
    return (
        "line2", "1h", W1_MS, r["availability"], r["performance"], r["quality"], r["oee"],
        s["run_s"], s["planned_s"], s["unknown_s"], s["window_s"], s["total"], s["good"],
        s["reject"], mode, bottleneck, W0_MS,
    )  # fmt: skip


DOCUMENT = {**DETAILS, "losses": LOSS_ROWS, "machines": {"m1": M1_RATIOS, "m2": M2_RATIOS},
            "missing": []}  # fmt: skip


async def test_line_updates_are_stored(path: Path) -> None:
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([worked_update(), line(), line(BOTTLENECK)])
        assert store.stats.rows_written == 3 and store.stats.errors == 0
    got = rows(path)
    assert [g[:-1] for g in got] == [
        row("sum", None, SUM_RATIOS),
        row("bottleneck", "m2", BOTTLENECK_RATIOS),
    ]
    assert [json.loads(str(g[-1])) for g in got] == [DOCUMENT, DOCUMENT]


async def test_a_version_2_file_is_migrated_and_keeps_its_rows(path: Path, tmp_path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.executescript(V2_SCHEMA)
        conn.execute(
            "INSERT INTO machine_state VALUES ('m1', ?, 'fault', 4, 'running', 60.0, 3, 'jam', 7)",
            (T0_MS,),
        )
        conn.execute(
            "INSERT INTO oee VALUES ('m1', '15m', ?, 0.9, NULL, 1.0, NULL, 810.0, 900.0, 0.0, "
            """900.0, 120, 118, 2, '{"running": 810.0, "idle": 90.0}', NULL, NULL)""",
            (T0_MS,),
        )
    conn.close()
    async with SqliteStore(SqliteConfig(path=path)) as store:
        assert await store.state_history("m1", at(0), at(1)) == [
            StateRecord("m1", MachineState.FAULT, T0, "jam", 3)
        ]
        assert await store.oee_history("m1", "15m", at(0), at(1)) == [oee(0)]
        await store.handle([line()])
        assert store.stats.errors == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        indexes = conn.execute("PRAGMA index_list(line_oee)").fetchall()
    conn.close()
    assert [i[1] for i in indexes] == ["line_oee_line_window_ts"]
    assert [g[:-1] for g in rows(path)] == [row("sum", None, SUM_RATIOS)]
    fresh = tmp_path / "fresh.sqlite"
    async with SqliteStore(SqliteConfig(path=fresh)) as created:
        assert created.connected  # a new file, made with the current schema
    assert columns(path, "line_oee") == columns(fresh, "line_oee") == LINE_COLUMNS
    assert columns(path, "oee") == columns(fresh, "oee")
