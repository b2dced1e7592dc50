"""An outbox file that cannot be trusted (garbage, truncated, empty) is named, moved aside
with its WAL for inspection, counted and logged once at ERROR; a fresh outbox is opened
in its place, which says what it could not carry over (issue 15)."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.sqlite.file import set_aside
from edge.outbox import Outbox, Priority, Record

NOW = datetime(2026, 11, 25, 10, 20, 30, 123000, tzinfo=UTC)
STAMP = "20261125T102030Z"


def _box(path: Path) -> Outbox:
    return Outbox(path, max_bytes=1 << 30, clock=lambda: NOW)


def _filled(path: Path, n: int = 200) -> None:
    """An outbox holding `n` records of 3 kB and a checkpoint, closed (WAL checkpointed)."""
    with Outbox(path, max_bytes=1 << 30) as box:
        records = [Record("mqtt", Priority.EVENTS, b"x" * 3000) for _ in range(n)]
        box.append(records, meta={"k": "v"})


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def _expected(path: Path, why: str, stream: str) -> str:
    return (
        f"outbox {path} cannot be used ({why}); moved aside to {path}.corrupt-{STAMP}. "
        "Started a fresh outbox: the records it held for the sinks and the machines' "
        f"checkpoints are not carried over, so sequence numbers restart at 1 (stream {stream})"
    )


def test_a_garbage_outbox_is_moved_aside_and_a_fresh_one_opened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.sqlite"
    garbage = b"not an outbox at all\n" * 500
    path.write_bytes(garbage)
    with _box(path) as box:
        assert box.depth("mqtt").records == 0
        assert box.read_meta() == {"stream": box.stream}
        assert box.append([Record("mqtt", Priority.EVENTS, b"new")]) == 1
        aside = tmp_path / f"outbox.sqlite.corrupt-{STAMP}"
        assert [(s.path, s.moved_to, s.reason) for s in box.set_aside] == [
            (path, aside, "file is not a database")
        ]
        assert aside.read_bytes() == garbage  # kept as it was, for inspection
        assert _errors(caplog) == [_expected(path, "file is not a database", box.stream)]


def test_a_truncated_outbox_is_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.sqlite"
    _filled(path)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    with _box(path) as box:
        assert box.depth("mqtt").records == 0
        assert box.read_meta() == {"stream": box.stream}
        aside = tmp_path / f"outbox.sqlite.corrupt-{STAMP}"
        assert aside.read_bytes() == whole[: len(whole) // 2]
        why = "database disk image is malformed"
        assert [s.reason for s in box.set_aside] == [why]
        assert _errors(caplog) == [_expected(path, why, box.stream)]


def test_a_file_goes_aside_with_its_wal_and_shared_memory(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    for suffix, content in (("", b"main"), ("-wal", b"wal"), ("-shm", b"shm")):
        Path(f"{path}{suffix}").write_bytes(content)
    assert set_aside(path, NOW) == tmp_path / f"outbox.sqlite.corrupt-{STAMP}"
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == {
        f"outbox.sqlite.corrupt-{STAMP}": b"main",
        f"outbox.sqlite.corrupt-{STAMP}-wal": b"wal",
        f"outbox.sqlite.corrupt-{STAMP}-shm": b"shm",
    }


def test_an_empty_outbox_is_not_taken_for_a_new_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.sqlite"
    path.write_bytes(b"")  # a file that had records and checkpoints, emptied under us
    with _box(path) as box:
        assert [(s.moved_to.name, s.reason) for s in box.set_aside] == [
            (f"outbox.sqlite.corrupt-{STAMP}", "the file is empty (0 bytes)")
        ]
        assert _errors(caplog) == [_expected(path, "the file is empty (0 bytes)", box.stream)]
    assert (tmp_path / f"outbox.sqlite.corrupt-{STAMP}").read_bytes() == b""


def test_a_damaged_page_found_by_the_check_at_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A damaged index page the reads of an open do not touch (every later peek and
    append would fail on it): the integrity check at open finds it."""
    path = tmp_path / "outbox.sqlite"
    _filled(path)
    with sqlite3.connect(path) as conn:
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'outbox_sink_id'"
        ).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    with path.open("r+b") as f:
        f.seek((root - 1) * size)
        f.write(b"\xff" * size)
    with _box(path) as box:
        assert box.depth("mqtt").records == 0
        why = (
            f"integrity check: *** in database main *** Page {root}: "
            "btreeInitPage() returns error code 11"
        )
        assert [s.reason for s in box.set_aside] == [why]
        assert _errors(caplog) == [_expected(path, why, box.stream)]


def test_a_healthy_outbox_is_opened_as_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.sqlite"
    _filled(path, 3)
    with _box(path) as box:
        assert box.depth("mqtt").records == 3
        assert box.read_meta()["k"] == "v"
        assert box.set_aside == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outbox.sqlite"]
    assert _errors(caplog) == []


def test_a_second_corrupt_file_in_the_same_second_gets_its_own_name(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    for _ in range(2):
        path.write_bytes(b"garbage" * 100)
        _box(path).open().close()
    assert sorted(p.name for p in tmp_path.iterdir() if "corrupt" in p.name) == [
        f"outbox.sqlite.corrupt-{STAMP}",
        f"outbox.sqlite.corrupt-{STAMP}.2",
    ]
