"""Opening the gateway's own SQLite files (the embedded store, the durable outbox): WAL
mode, the schema version in `PRAGMA user_version`, and migrations run in order."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

__all__ = ["open_wal"]


def open_wal(path: Path, migrations: Sequence[str], what: str) -> tuple[sqlite3.Connection, int]:
    """Open (creating it if needed) `path`, bring it to schema `len(migrations)` by running
    the `;`-separated scripts it has not had yet in one transaction, and return the
    connection with the version found. A file of a newer schema is a RuntimeError that
    names `what` the file is ("the store", "an outbox")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes (even SIGKILL) in WAL mode; only a
    # power loss can drop the last transactions, and it saves an fsync per commit.
    conn.execute("PRAGMA synchronous=NORMAL")
    known = len(migrations)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > known:
        conn.close()
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
    return conn, version
