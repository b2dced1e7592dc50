"""Times as the embedded store keeps them: integer milliseconds since the epoch (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["from_ms", "to_ms"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(ts: datetime) -> int:
    """Milliseconds since the epoch (floored); a naive `ts` is taken as UTC."""
    if ts.tzinfo is None:  # the pipeline uses aware UTC; treat a stray naive time as UTC
        ts = ts.replace(tzinfo=UTC)
    return (ts - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of `ms` milliseconds since the epoch."""
    return _EPOCH + timedelta(milliseconds=ms)
