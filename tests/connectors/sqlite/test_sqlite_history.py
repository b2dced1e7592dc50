"""The read-only history of the API's worker processes: it reads what the store wrote,
and a damaged file makes its read fail without moving the file (that is the gateway's
store's to do, once); once the store has replaced it, the next read opens the fresh one."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.sqlite.file import CorruptFile
from connectors.sqlite.history import SqliteHistory
from connectors.sqlite.store import SqliteStore
from core.types import CountDelta
from edge.config import SqliteConfig

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def damage(path: Path, name: str) -> None:
    """Overwrite the root page of table or index `name` with garbage (a bad sector)."""
    with sqlite3.connect(path) as conn:
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)
        ).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    with path.open("r+b") as f:
        f.seek((root - 1) * size)
        f.write(b"\xff" * size)


async def test_it_reads_and_leaves_a_damaged_file_to_the_store(tmp_path: Path) -> None:
    path = tmp_path / "oee.sqlite"
    counts = [CountDelta("m1", T0 + timedelta(seconds=i), 1, 1, 0) for i in range(50)]
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle(counts)
    history = SqliteHistory(path)
    end = T0 + timedelta(minutes=1)
    assert len(await history.count_history("m1", T0, end)) == 50
    assert await history.history_rows("m1", T0, end) == 50
    await history.close()
    damage(path, "production_machine_ts")
    with pytest.raises(CorruptFile):
        await history.count_history("m1", T0, end)
    assert not any("corrupt" in name for name in os.listdir(tmp_path))  # the store's to do
    async with SqliteStore(SqliteConfig(path=path)) as store:  # the gateway's store
        assert await store.count_history("m1", T0, end) == []  # met it: a fresh file
        await store.handle(counts[:3])
    assert len(await history.count_history("m1", T0, end)) == 3  # reads the fresh file
    await history.close()
