"""Where InfluxDB's rejected lines go: a JSON-lines file, one object per line of line
protocol the server refused for good (HTTP 400/422, or 413 for a single line):

    {"time": "2026-11-25T03:00:00.123Z", "status": 400, "error": "partial write: ...",
     "line": "production,area=a1,... total=7i 1795575600123000000",
     "queued": "2026-11-25T02:59:59.000Z"}

`time` is when it was quarantined, `queued` when the pipeline committed it to the outbox.
Nothing in the file is retried: an operator reads it, fixes the cause and may replay the
lines (`jq -r .line FILE | curl --data-binary @- 'http://influx:8086/write?db=oee'`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from connectors.common.timefmt import rfc3339

__all__ = ["Quarantine", "Rejected"]


@dataclass(frozen=True, slots=True)
class Rejected:
    """One line the server refused, with its answer."""

    line: str
    status: int
    error: str
    queued_ms: int


class Quarantine:
    """Appends rejected lines to `path` (blocking: call it from a worker thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, rejected: Sequence[Rejected]) -> None:
        """Append and fsync, so that a line is on disk before it leaves the outbox."""
        if not rejected:
            return
        now = rfc3339(datetime.now(UTC))
        out = []
        for r in rejected:
            queued = rfc3339(datetime.fromtimestamp(r.queued_ms / 1000, UTC))
            row = {"time": now, "status": r.status, "error": r.error, "line": r.line}
            out.append(json.dumps(row | {"queued": queued}, ensure_ascii=False) + "\n")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write("".join(out))
            f.flush()
            os.fsync(f.fileno())
