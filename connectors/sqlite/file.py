"""Opening the gateway's own SQLite files (the embedded store, the durable outbox): WAL
mode, the schema version in `PRAGMA user_version`, and migrations run in order.

A file SQLite cannot use (garbage, a truncated copy, a damaged page) or one that is empty
when it should hold at least a header is a `CorruptFile`, raised where the file is opened
or used (`corruption_as_corrupt_file`). `open_or_replace` then moves it aside, with its
WAL, to `{name}.corrupt-{UTC time}` for inspection and opens a fresh one in its place:
the caller says what that lost.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

__all__ = [
    "CorruptFile",
    "SetAside",
    "corruption_as_corrupt_file",
    "open_or_replace",
    "open_wal",
    "set_aside",
]

T = TypeVar("T")
# SQLite's primary result codes for "this is not a (sound) database file".
_DAMAGED = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_EMPTY = "the file is empty (0 bytes)"


class CorruptFile(Exception):
    """`path` cannot be used as it is; `reason` says why (SQLite's words, or empty)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


@dataclass(frozen=True)
class SetAside:
    """A file that was moved aside: where it was, where it is now, and why."""

    path: Path
    moved_to: Path
    reason: str


@contextlib.contextmanager
def corruption_as_corrupt_file(path: Path) -> Iterator[None]:
    """Translate SQLite's "malformed" and "not a database" errors into `CorruptFile`;
    every other error (disk full, locked, I/O) passes unchanged."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None or code & 0xFF not in _DAMAGED:
            raise
        raise CorruptFile(path, str(exc)) from exc


def open_wal(
    path: Path, migrations: Sequence[str], what: str, *, check: bool = False
) -> tuple[sqlite3.Connection, int]:
    """Open (creating it if needed) `path`, bring it to schema `len(migrations)` by running
    the `;`-separated scripts it has not had yet in one transaction, and return the
    connection with the version found. A file of a newer schema is a RuntimeError that
    names `what` the file is ("the store", "an outbox"); an unusable one a `CorruptFile`.
    `check` runs SQLite's quick integrity check too (it reads every page: ~0.3 s for
    400 MB), which finds damage the opening reads do not touch."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # SQLite takes an empty file for a new database; ours always have a header.
    if path.exists() and path.stat().st_size == 0:
        raise CorruptFile(path, _EMPTY)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        with corruption_as_corrupt_file(path):
            version = _prepare(conn, path, migrations, what)
            if check:
                _quick_check(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn, version


def _prepare(conn: sqlite3.Connection, path: Path, migrations: Sequence[str], what: str) -> int:
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes (even SIGKILL) in WAL mode; only a
    # power loss can drop the last transactions, and it saves an fsync per commit.
    conn.execute("PRAGMA synchronous=NORMAL")
    known = len(migrations)
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > known:
        raise RuntimeError(
            f"{path} is {what} of a newer gateway: schema version {version}, newer than "
            f"this gateway's ({known}); upgrade the gateway or use another file"
        )
    if version < known:
        with conn:
            conn.execute("BEGIN")
            for script in migrations[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {known}")
    return version


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check(5)")]
    if rows != ["ok"]:
        found = "; ".join(" ".join(r.split()) for r in rows)
        raise CorruptFile(path, f"integrity check: {found}")


def set_aside(path: Path, now: datetime) -> Path:
    """Move `path`, with its `-wal` and `-shm` files, to `{path}.corrupt-{UTC time}`
    (a name taken already gets `.2`, `.3`, …); the new path of the main file."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while any(Path(f"{target}{s}").exists() for s in ("", "-wal", "-shm")):
        n += 1
        target = base.with_name(f"{base.name}.{n}")
    # The WAL first: should we stop half-way, the main file is still found unusable next
    # time, rather than opened without its WAL as if whole.
    for suffix in ("-wal", "-shm", ""):
        src = Path(f"{path}{suffix}")
        if src.exists():
            os.replace(src, f"{target}{suffix}")
    return target


def open_or_replace(
    path: Path, opener: Callable[[], T], now: Callable[[], datetime]
) -> tuple[T, SetAside | None]:
    """`opener()`, which opens `path`; if it finds the file unusable (`CorruptFile`), the
    file is set aside (`set_aside`) and `opener()` opens a fresh one. The opened thing,
    and what was set aside (None when the file was sound)."""
    try:
        return opener(), None
    except CorruptFile as bad:
        moved = SetAside(path, set_aside(path, now()), bad.reason)
    return opener(), moved
