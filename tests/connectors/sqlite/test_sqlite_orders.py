"""The SQLite store's order rows (schema 11): a row per order progress (or none running)
and per changeover, with the JSON of their MQTT payloads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from connectors.common.orderdoc import changeover_document, progress_document
from connectors.sqlite.store import SCHEMA_VERSION, SqliteStore
from edge.config import SqliteConfig
from tests.fixtures.order_events import CHANGEOVER, NONE_RUNS, PROGRESS

T_MS = 1796635800000  # 2026-12-07T09:30:00Z


async def test_progress_and_changeovers_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([PROGRESS, NONE_RUNS, CHANGEOVER])
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (11,)
        rows = conn.execute(
            "SELECT machine, ts, order_id, product, status, good, reject, scrap, doc "
            "FROM order_progress ORDER BY rowid"
        ).fetchall()
        assert [r[:8] for r in rows] == [
            ("m1", T_MS, "A", "p1", "at_risk", 540, 3, 1),
            ("m1", T_MS, None, None, None, None, None, None),
        ]
        assert json.loads(rows[0][8]) == progress_document(PROGRESS)
        assert json.loads(rows[1][8]) == progress_document(NONE_RUNS)
        (c,) = conn.execute(
            "SELECT machine, ts, seq, from_product, to_product, from_order, to_order, start, "
            '"end", duration_s, loss_s, doc FROM changeover'
        ).fetchall()
        assert c[:11] == ("m1", T_MS, 1, "p1", "p2", "A", "B", T_MS - 1_200_000, T_MS - 600_000,
                          600.0, 120.0)  # fmt: skip
        assert json.loads(c[11]) == changeover_document(CHANGEOVER)
