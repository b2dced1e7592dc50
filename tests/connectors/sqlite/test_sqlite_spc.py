"""The store's SPC tables (schema 10): `spc_points`, `spc_violations`, `spc_limits`, and
the `SpcHistory` reads (points of a range, the latest `limit` of them; violations; every
limits change with who and when), by the store and by the API's read-only history
alike; retention prunes points and violations, never the limits history."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path

from connectors.sqlite.history import SqliteHistory
from connectors.sqlite.migrations import SCHEMA_VERSION
from connectors.sqlite.store import SqliteStore
from core.interfaces import SpcHistory
from edge.config import SqliteConfig
from tests.fixtures.spc_events import (
    CHART,
    FROZEN,
    POINT,
    TRIAL,
    UNFROZEN,
    VIOLATION,
    at,
    point,
)


def events() -> list[object]:
    other = dataclasses.replace(point(30), chart="filler2-weight")  # another chart
    return [TRIAL, point(26), point(27), other, FROZEN, POINT, VIOLATION, UNFROZEN]


async def test_points_violations_and_limits_read_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "oee.sqlite"
    async with SqliteStore(SqliteConfig(path=path)) as store:
        assert isinstance(store, SpcHistory)
        await store.handle(events())  # type: ignore[arg-type]
        assert store.stats.rows_written == 8
        # [start, end): 08:26 and 08:27 of this chart, not the other chart's 08:30.
        assert await store.spc_points(CHART, at(26), at(62)) == [point(26), point(27), POINT]
        assert await store.spc_points(CHART, at(26), at(61)) == [point(26), point(27)]
        # More than `limit`: the latest, oldest first (a chart shows its end).
        assert await store.spc_points(CHART, at(0), at(120), limit=2) == [point(27), POINT]
        assert await store.spc_violations(CHART, at(0), at(120)) == [VIOLATION]
        assert await store.spc_violations(CHART, at(0), at(61)) == []
        # Every change, with its limits (none once unfrozen), who, baseline and exclusions.
        assert await store.spc_limits_history(CHART) == [TRIAL, FROZEN, UNFROZEN]
        assert await store.spc_limits_history("filler2-weight") == []
    history = SqliteHistory(path)  # what the API's worker processes read
    try:
        assert isinstance(history, SpcHistory)
        (got,) = await history.spc_points(CHART, at(61), at(62))
        assert got == POINT and got.values == (503.1, 503.6, 503.2, 503.9, 503.483945)
        assert (got.violations, got.held, got.product) == (("WE1",), 1, "P100")
        assert await history.spc_limits_history(CHART) == [TRIAL, FROZEN, UNFROZEN]
    finally:
        await history.close()


async def test_the_rows_as_stored(tmp_path: Path) -> None:
    path = tmp_path / "oee.sqlite"
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([FROZEN, POINT, VIOLATION])
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 11
        point_row = conn.execute('SELECT violations, "values", held, ts FROM spc_points').fetchone()
        assert point_row == (
            '["WE1"]',
            "[503.1,503.6,503.2,503.9,503.483945]",
            1,
            1796634060000,
        )  # 2026-12-07T09:01:00Z in ms
        assert conn.execute("SELECT rule, points, side FROM spc_violations").fetchone() == (
            "WE1", "[61]", "+"
        )  # fmt: skip
        # baseline_from: 2026-12-07T08:00:00Z in ms.
        assert conn.execute(
            "SELECT action, by, kind, center, n, source, subgroups, baseline_from, excluded "
            "FROM spc_limits"
        ).fetchone() == (
            "frozen", "ana", "xbar_r", 500.0123456, 5.0, "computed", 25, 1796630400000,
            "[7,12]",
        )  # fmt: skip
    finally:
        conn.close()


async def test_retention_prunes_points_and_violations_not_the_limits(tmp_path: Path) -> None:
    path = tmp_path / "oee.sqlite"
    now = at(0) + timedelta(days=10)
    cfg = SqliteConfig(path=path, retention_days=7)  # type: ignore[call-arg]
    async with SqliteStore(cfg, clock=lambda: now) as store:
        await store.handle(events())  # type: ignore[arg-type]
        young = dataclasses.replace(POINT, ts=now - timedelta(days=1), seq=62)
        await store.handle([young])
        pruned = await store.prune(now)
        assert pruned == 5  # 4 points (2 charts) and 1 violation older than 7 days
        assert await store.spc_points(CHART, at(0), now) == [young]
        assert await store.spc_violations(CHART, at(0), now) == []
        assert await store.spc_limits_history(CHART) == [TRIAL, FROZEN, UNFROZEN]
