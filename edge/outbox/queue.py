"""The durable outbox between the pipeline and the northbound sinks (MQTT, InfluxDB).

One SQLite file in WAL mode in the gateway's data directory. Each sink has its own queue
of encoded records (an MQTT message, a line of line protocol): `append` commits them
before the pipeline counts an event as accepted, the sink reads its oldest with `peek`
and removes them with `ack` only once the broker or database acknowledged them. So a
sink that is down keeps its records on disk, a crash (even SIGKILL) loses nothing that
was committed, and a slow sink never holds up another.

Disk limit (`max_bytes`, counted as the records' sizes): every record has a priority,
`TAGS` (raw tag values) < `OEE` (OEE updates, superseded by the next ones anyway) <
`EVENTS` (state changes, counts, reasons: never re-creatable). When a record does not
fit, records of lower priority are evicted, oldest first, to make room; a record that
still does not fit is refused. So raw samples stop first, and state and count events
are kept longest. Every eviction and refusal is counted per priority.

A file that cannot be used (garbage, truncated, a damaged page, emptied) is not taken
for a new one: `open` moves it aside for inspection (`connectors.sqlite.file`), logs
once at ERROR what the fresh outbox does not carry over, and keeps it in `set_aside`
(counted in /metrics).
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from connectors.sqlite.file import (
    SetAside,
    corruption_as_corrupt_file,
    open_or_replace,
    open_wal,
)
from core.records import Entry, Priority, Record, SinkDepth, per_priority
from core.types import utc_now

__all__ = ["Entry", "Outbox", "OutboxStats", "Priority", "Record", "SinkDepth"]

log = logging.getLogger("edge.outbox")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sink TEXT NOT NULL, priority INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_sink_id ON outbox (sink, id);
CREATE INDEX IF NOT EXISTS outbox_priority_id ON outbox (priority, id);
"""
# v2: small named values committed with the records (the normalisers' checkpoints).
_META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


@dataclass
class OutboxStats:
    """Counters for /metrics, per priority name where it matters."""

    appended: int = 0
    acked: int = 0
    evicted: dict[str, int] = field(default_factory=per_priority)
    refused: dict[str, int] = field(default_factory=per_priority)


class Outbox:
    """Per-sink durable queues in one SQLite file. Thread-safe; blocking (the async side
    calls it from a worker thread). Open it with `open()` or `with Outbox(...) as box:`.
    `clock` dates the name of a file set aside."""

    def __init__(
        self, path: Path, max_bytes: int, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be > 0, got {max_bytes}")
        self.path = path
        self.max_bytes = max_bytes
        self.stats = OutboxStats()
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._bytes = dict.fromkeys(Priority, 0)  # stored bytes per priority
        self._pending = 0  # bytes taken in by the append in progress
        self.stream = ""  # random id of this file's history (event ids carry it); see open
        self.set_aside: list[SetAside] = []  # unusable files found by `open`
        self._clock = clock

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> Outbox:
        """Open (creating it if needed) and count what is stored; an unusable file is
        set aside and a fresh one opened (see the module docstring)."""
        self._conn, moved = open_or_replace(self.path, self._open_file, self._clock)
        if moved is not None:
            self.set_aside.append(moved)
            log.error(
                "outbox %s cannot be used (%s); moved aside to %s. Started a fresh outbox: "
                "the records it held for the sinks and the machines' checkpoints are not "
                "carried over, so sequence numbers restart at 1 (stream %s)",
                moved.path, moved.reason, moved.moved_to, self.stream,
            )  # fmt: skip
        return self

    def _open_file(self) -> sqlite3.Connection:
        conn, _ = open_wal(self.path, [_SCHEMA, _META], "an outbox", check=True)
        try:
            with corruption_as_corrupt_file(self.path):
                self._count_bytes(conn)
                self.stream = _stream(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _count_bytes(self, conn: sqlite3.Connection) -> None:
        self._bytes = dict.fromkeys(Priority, 0)
        rows = conn.execute("SELECT priority, SUM(LENGTH(data)) FROM outbox GROUP BY priority")
        for priority, size in rows:
            self._bytes[Priority(priority)] = int(size)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Outbox:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    @property
    def stored_bytes(self) -> int:
        """Bytes of all stored records (what `max_bytes` limits)."""
        return sum(self._bytes.values())

    # ------------------------------------------------------------------ writing

    def append(
        self,
        records: Sequence[Record],
        now_ms: int | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> int:
        """Store `records` in one transaction; returns how many were stored (the rest
        were refused by the disk limit, see the module docstring). `meta` (key -> value)
        is written in the same transaction: state that must match the records exactly,
        such as the normalisers' checkpoints. Meta values do not count against the limit."""
        return len(self.append_entries(records, now_ms, meta))

    def append_entries(
        self,
        records: Sequence[Record],
        now_ms: int | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> list[tuple[str, Entry]]:
        """`append`, returning each stored record as its sink will `peek` it: (sink,
        entry with its id), in id order. So the delivery can take what was just committed
        from memory instead of reading it back (issue 17)."""
        if not records and not meta:
            return []
        ts = now_ms if now_ms is not None else int(time.time() * 1000)
        with self._lock:
            conn = self._open_conn()
            self._pending = 0
            try:
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    kept = [r for r in records if self._make_room(conn, r)]
                    first = _next_id(conn)
                    conn.executemany(
                        "INSERT INTO outbox (sink, priority, ts_ms, data) VALUES (?, ?, ?, ?)",
                        [(r.sink, int(r.priority), ts, r.data) for r in kept],
                    )
                    if kept and _next_id(conn) - first != len(kept):  # never seen; checked
                        raise sqlite3.IntegrityError("outbox ids are not consecutive")
                    if meta:
                        conn.executemany(
                            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                            list(meta.items()),
                        )
            except sqlite3.Error:
                self._count_bytes(conn)  # evictions were rolled back with the rest
                raise
            # Counted after the commit: a failed transaction changed nothing.
            for r in kept:
                self._bytes[r.priority] += len(r.data)
            self.stats.appended += len(kept)
            return [(r.sink, Entry(first + i, r.data, ts)) for i, r in enumerate(kept)]

    def _make_room(self, conn: sqlite3.Connection, record: Record) -> bool:
        """Evict lower priorities (oldest first) until `record` fits; False if it cannot."""
        size = len(record.data)
        need = self.stored_bytes + self._pending + size - self.max_bytes
        evictable = sum(b for p, b in self._bytes.items() if p < record.priority)
        if need > evictable:  # even evicting all lower priorities would not make room
            self.stats.refused[record.priority.name.lower()] += 1
            return False
        for low in Priority:
            if need <= 0 or low >= record.priority:
                break
            need -= self._evict(conn, low, need)
        if need > 0:
            self.stats.refused[record.priority.name.lower()] += 1
            return False
        self._pending += size
        return True

    def _evict(self, conn: sqlite3.Connection, priority: Priority, need: int) -> int:
        """Delete the oldest records of `priority` until `need` bytes are free; the bytes."""
        freed, ids = 0, []
        rows = conn.execute(
            "SELECT id, LENGTH(data) FROM outbox WHERE priority = ? ORDER BY id", (int(priority),)
        )
        for rid, size in rows:
            if freed >= need:
                break
            ids.append((rid,))
            freed += size
        conn.executemany("DELETE FROM outbox WHERE id = ?", ids)
        self._bytes[priority] -= freed
        self.stats.evicted[priority.name.lower()] += len(ids)
        return freed

    # ------------------------------------------------------------------ reading

    def peek(
        self, sink: str, limit: int, max_bytes: int | None = None, after: int = 0
    ) -> list[Entry]:
        """The oldest records of `sink` with an id above `after`, at most `limit` (and
        about `max_bytes`)."""
        with self._lock:
            rows = self._open_conn().execute(
                "SELECT id, data, ts_ms FROM outbox WHERE sink = ? AND id > ? ORDER BY id LIMIT ?",
                (sink, after, limit),
            )
            out: list[Entry] = []
            size = 0
            for rid, data, ts in rows:
                if out and max_bytes is not None and size + len(data) > max_bytes:
                    break
                out.append(Entry(rid, bytes(data), ts))
                size += len(data)
            return out

    def ack(self, sink: str, ids: Iterable[int]) -> int:
        """Remove the given records of `sink` (delivered); returns how many were removed."""
        keys = list(ids)
        if not keys:
            return 0
        with self._lock:
            conn = self._open_conn()
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                sizes = _delete(conn, sink, keys)
            for priority, size in sizes:
                self._bytes[Priority(priority)] -= size
            self.stats.acked += len(sizes)
            return len(sizes)

    def read_meta(self) -> dict[str, str]:
        """Every meta value committed so far (see `append`)."""
        with self._lock:
            return dict(self._open_conn().execute("SELECT key, value FROM meta"))

    def depth(self, sink: str, now_ms: int | None = None) -> SinkDepth:
        """Records and bytes waiting for `sink`, and the age of the oldest."""
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        with self._lock:
            n, size, oldest = (
                self._open_conn()
                .execute(
                    "SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0), MIN(ts_ms) FROM outbox "
                    "WHERE sink = ?",
                    (sink,),
                )
                .fetchone()
            )
        age = None if oldest is None else max(0.0, (now - oldest) / 1000)
        return SinkDepth(int(n), int(size), age)

    def _open_conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"the outbox {self.path} is not open")
        return self._conn


def _next_id(conn: sqlite3.Connection) -> int:
    """The id the next record will get. AUTOINCREMENT: one past the largest id ever given
    (`sqlite_sequence`), and one transaction's inserts hold the write lock, so they get
    consecutive ids from here."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
    return (int(row[0]) if row else 0) + 1


def _stream(conn: sqlite3.Connection) -> str:
    """This outbox's stream id, made when the file is new: event ids carry it, so they stay
    unique when the data directory is wiped and the sequence numbers start again."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'stream'").fetchone()
    if row is not None:
        return str(row[0])
    stream = secrets.token_hex(4)
    with conn:
        conn.execute("INSERT INTO meta (key, value) VALUES ('stream', ?)", (stream,))
    return stream


def _delete(conn: sqlite3.Connection, sink: str, ids: list[int]) -> list[tuple[int, int]]:
    """Delete the records `ids` of `sink`; (priority, size) of each one deleted."""
    out: list[tuple[int, int]] = []
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"DELETE FROM outbox WHERE sink = ? AND id IN ({marks}) "
            "RETURNING priority, LENGTH(data)",
            (sink, *chunk),
        )
        out += rows.fetchall()
    return out


# Ids per DELETE: well under SQLite's limit of bound parameters (999 before 3.32).
_CHUNK = 500
