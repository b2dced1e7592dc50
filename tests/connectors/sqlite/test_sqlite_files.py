"""A store file that cannot be trusted (a damaged page, garbage, empty) is named, moved
aside for inspection, counted and logged once at ERROR, at open or when a read or a write
first meets the damage; the store goes on in a fresh file and the write that met it is
not lost (issue 15). A write that fails for another reason is logged once and its rows
are counted."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.sqlite.store import SqliteStore
from core.types import CountDelta, MachineState, StateChange
from edge.config import SqliteConfig

NOW = datetime(2026, 11, 25, 10, 20, 30, 500000, tzinfo=UTC)
STAMP = "20261125T102030Z"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]


def part(i: int) -> CountDelta:
    return CountDelta("m1", T0 + timedelta(seconds=i), total=i, good=i, reject=0, product="A")


def _store(path: Path) -> SqliteStore:
    return SqliteStore(SqliteConfig(path=path), clock=lambda: NOW)


async def _filled(path: Path, n: int = 2000) -> None:
    async with SqliteStore(SqliteConfig(path=path)) as store:
        await store.handle([part(i) for i in range(n)])


def _damage(path: Path, name: str) -> None:
    """Overwrite the root page of table or index `name` with garbage (a bad sector)."""
    with sqlite3.connect(path) as conn:
        sql = "SELECT rootpage FROM sqlite_master WHERE name = ?"
        (root,) = conn.execute(sql, (name,)).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    with path.open("r+b") as f:
        f.seek((root - 1) * size)
        f.write(b"\xff" * size)


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def _expected(path: Path, why: str) -> str:
    return (
        f"SQLite store {path} cannot be used ({why}); moved aside to {path}.corrupt-{STAMP}. "
        "Started a fresh store: the history it held (states, counts, OEE, raw tags) is not "
        "read any more; what is written from now on is kept"
    )


async def test_a_damaged_page_met_by_the_writes_is_handled_once_and_no_row_is_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "oee.sqlite"
    await _filled(path)
    _damage(path, "production_machine_ts")  # the open reads nothing of it; every insert does
    async with _store(path) as store:
        for i in range(5):  # five polls, each with a part
            await store.handle([part(10_000 + i)])
        assert _errors(caplog) == [_expected(path, "database disk image is malformed")]
        stored = await store.count_history("m1", T0, T0 + timedelta(days=1))
        assert [c.total for c in stored] == [10_000, 10_001, 10_002, 10_003, 10_004]
        assert (store.stats.errors, store.stats.rows_lost, store.stats.rows_written) == (0, 0, 5)
        aside = tmp_path / f"oee.sqlite.corrupt-{STAMP}"
        assert [(s.path, s.moved_to, s.reason) for s in store.set_aside] == [
            (path, aside, "database disk image is malformed")
        ]
    with sqlite3.connect(aside) as conn:  # kept for inspection: its rows are still there
        assert conn.execute("SELECT count(*) FROM production NOT INDEXED").fetchone() == (2000,)


async def test_a_damaged_page_met_by_a_read_is_handled_the_same_way(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "oee.sqlite"
    await _filled(path)
    _damage(path, "production")
    async with _store(path) as store:
        # The history is not there any more: an empty answer, not an error every time.
        assert await store.count_history("m1", T0, T0 + timedelta(days=1)) == []
        await store.handle([part(1)])
        assert [c.total for c in await store.count_history("m1", T0, NOW)] == [1]
        assert len(store.set_aside) == 1
    assert _errors(caplog) == [_expected(path, "database disk image is malformed")]


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"garbage, not a database\n" * 300, "file is not a database"),
     (b"", "the file is empty (0 bytes)")],
    ids=["garbage", "empty"],
)  # fmt: skip
async def test_a_garbage_or_empty_store_is_moved_aside_at_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes, why: str
) -> None:
    path = tmp_path / "oee.sqlite"
    path.write_bytes(content)
    async with _store(path) as store:
        await store.handle([StateChange("m1", MachineState.IDLE, None, T0, None, None, 1)])
        assert [r.state for r in await store.state_history("m1", T0, NOW)] == ["idle"]
        assert [s.reason for s in store.set_aside] == [why]
    assert (tmp_path / f"oee.sqlite.corrupt-{STAMP}").read_bytes() == content
    assert _errors(caplog) == [_expected(path, why)]


# A store whose process may not grow a file past 64 KiB (RLIMIT_FSIZE: a full disk for
# it alone; SQLite reports "disk I/O error"), then may again.
_FULL_DISK = """
import asyncio, json, logging, resource, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from connectors.sqlite.store import SqliteStore
from core.types import CountDelta
from edge.config import SqliteConfig

lines = []
handler = logging.Handler()
handler.emit = lambda r: lines.append([r.levelname, r.getMessage()])
logging.getLogger().addHandler(handler)
logging.getLogger().setLevel(logging.DEBUG)
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

def parts(first, n):
    return [CountDelta("m1", T0 + timedelta(seconds=i), i, i, 0, "A" * 200)
            for i in range(first, first + n)]

async def main():
    async with SqliteStore(SqliteConfig(path=Path(sys.argv[1]))) as store:
        await store.handle(parts(0, 1))
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
        for i in range(20):
            await store.handle(parts(1000 * (i + 1), 50))
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        await store.handle(parts(99000, 1))
        stats = store.stats
        rows = len(await store.count_history("m1", T0, T0 + timedelta(days=2)))
    print(json.dumps({"lines": lines, "errors": stats.errors, "lost": stats.rows_lost,
                      "written": stats.rows_written, "rows": rows, "aside": len(store.set_aside)}))

asyncio.run(main())
"""


def test_a_write_that_fails_for_another_reason_is_logged_once_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "oee.sqlite"
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_FULL_DISK), str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    failed = got["errors"]
    assert failed >= 2, got  # the limit is hit within the 20 writes, and stays hit
    assert got["lost"] == 50 * failed  # every row of a failed write is counted
    assert got["rows"] == got["written"] == 1 + 50 * (20 - failed) + 1
    assert got["aside"] == 0  # a full disk is not a damaged file
    loud = [(level, msg) for level, msg in got["lines"] if level in ("ERROR", "INFO")]
    assert loud == [
        ("ERROR", f"SQLite store {path}: write of 50 rows failed (disk I/O error); its rows "
                  "are lost, and so are those of the next failures, counted in "
                  "oee_edge_sink_rows_lost_total"),
        ("INFO", f"SQLite store {path}: writes succeed again after {failed} failed "
                 f"({50 * failed} rows lost)"),
    ]  # fmt: skip
