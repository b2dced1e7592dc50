"""Timestamps as every contract writes them: RFC 3339, UTC, milliseconds, `Z`."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["rfc3339"]

# The last timestamp formatted: a batch's samples usually share one datetime object, and
# state/event payloads format the same instant twice. A tuple swap is atomic, so the
# cache is safe to share between threads.
_last_ts: tuple[datetime | None, str] = (None, "")


def rfc3339(ts: datetime) -> str:
    """`ts` as RFC 3339 UTC with milliseconds and `Z`. Naive datetimes are taken as UTC."""
    global _last_ts
    cached = _last_ts
    if cached[0] is ts:
        return cached[1]
    utc = ts.astimezone(UTC) if ts.utcoffset() else ts
    text = utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    _last_ts = (ts, text)
    return text
